//! Which partition a request goes to, by the rule of the Atomix Go client: the FNV-1a
//! 32-bit hash of a key, modulo the number of partitions.
//!
//! The key is the primitive's name (`header.name.name`) for counter, election,
//! indexed map, leader latch, list, lock and value, and the operation's field 2 (the
//! map's key, the set's value) for map and set operations on one entry. A proxy that
//! routes the same way sends every request where the Go client would have sent it.
//!
//! ```
//! use atomix_headers::{partition, Message, RequestEnvelope};
//!
//! // counter.IncrementRequest { header { name { name: "my-counter" } } delta: 1 }
//! let wire = b"\x0a\x0e\x0a\x0c\x0a\x0amy-counter\x10\x01";
//! let request = RequestEnvelope::decode(wire)?;
//! let name = request.header.and_then(|h| h.name).unwrap_or_default().name;
//! assert_eq!(partition::index(name.as_bytes(), 3), Some(0));
//!
//! // map.PutRequest { header { ... } key: "k1" ... }: field 2 is the key.
//! let put = RequestEnvelope::decode(b"\x0a\x00\x12\x02k1\x1a\x01v")?;
//! let key = put.last_field(2).and_then(|f| f.payload()).unwrap_or_default();
//! assert_eq!(partition::index(key, 3), Some(0));
//! # Ok::<(), atomix_headers::DecodeError>(())
//! ```

const OFFSET_BASIS: u32 = 0x811c_9dc5;
const PRIME: u32 = 0x0100_0193;

/// The FNV-1a 32-bit hash of `bytes`, as Go's `hash/fnv.New32a` computes it.
///
/// ```
/// use atomix_headers::partition::fnv1a_32;
///
/// assert_eq!(fnv1a_32(b""), 0x811c9dc5);
/// assert_eq!(fnv1a_32(b"foobar"), 0xbf9cf968);
/// ```
pub const fn fnv1a_32(bytes: &[u8]) -> u32 {
    let mut hash = OFFSET_BASIS;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(PRIME);
        i += 1;
    }
    hash
}

/// The partition, counted from 0, that the Go client picks for `key` among
/// `partitions`: `fnv1a_32(key) % partitions`. `None` when there are no partitions.
pub const fn index(key: &[u8], partitions: u32) -> Option<u32> {
    fnv1a_32(key).checked_rem(partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_fnv1a_32_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv, Appendix C).
        for (input, hash) in [
            (&b""[..], 0x811c_9dc5),
            (b"a", 0xe40c_292c),
            (b"b", 0xe70c_2de5),
            (b"foobar", 0xbf9c_f968),
            (b"chongo was here!\n", 0xd49930d5),
        ] {
            assert_eq!(fnv1a_32(input), hash, "{input:?}");
        }
    }

    #[test]
    fn partition_is_the_hash_modulo_the_count() {
        // fnv1a_32("my-map") = 0x4ce3bbc4 (1,289,993,156), worked out apart from this
        // code: % 3 = 2, % 7 = 4, % 16 = 4.
        assert_eq!(fnv1a_32(b"my-map"), 0x4ce3_bbc4);
        assert_eq!(index(b"my-map", 3), Some(2));
        assert_eq!(index(b"my-map", 7), Some(4));
        assert_eq!(index(b"my-map", 16), Some(4));
        assert_eq!(index(b"my-map", 1), Some(0));
        assert_eq!(index(b"my-map", 0), None);
    }
}
