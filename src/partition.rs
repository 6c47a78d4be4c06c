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
//! let key = put.last_bytes(2).unwrap_or_default();
//! assert_eq!(partition::index(key, 3), Some(0));
//! # Ok::<(), atomix_headers::DecodeError>(())
//! ```
//!
//! [`route`] applies the whole rule to a call: the method, the header's `partition`
//! (field 6 in later schema revisions), and the operations that need every partition.
//! It is the table a proxy needs; [`method`] looks one method up.

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

/// Header field 6, `uint32 partition`, in later revisions of `atomix.headers`: the
/// partition, numbered from 1, that the request is for.
const PARTITION_FIELD: u32 = 6;

/// How a method picks its partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The primitive lives on one partition: FNV-1a 32 of `header.name.name`.
    Name,
    /// One entry of a partitioned map or set: FNV-1a 32 of field 2 (the key or value).
    Entry,
    /// Every partition, or one session per partition: the Go client sends it to each
    /// partition and merges the answers, so no one partition can answer for all.
    EveryPartition,
}

/// One method of an Atomix primitive service, as [`method`] finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Method {
    /// The service's full name, such as `atomix.map.MapService`.
    pub service: &'static str,
    /// The method's name, such as `Put`.
    pub name: &'static str,
    /// How it picks its partition.
    pub scope: Scope,
    /// Whether the response is a stream (`returns (stream ...)`).
    pub server_streaming: bool,
}

const fn m(
    service: &'static str,
    name: &'static str,
    scope: Scope,
    server_streaming: bool,
) -> Method {
    Method {
        service,
        name,
        scope,
        server_streaming,
    }
}

/// Every method whose request carries a `RequestHeader` as field 1, in the services of
/// atomix-api (commit 1954176): each primitive's service, less the log's, whose
/// messages have no header. Names by [`Scope::Name`] unless listed otherwise.
const METHODS: &[Method] = {
    use Scope::{Entry as Key, EveryPartition as All, Name as N};
    const C: &str = "atomix.counter.CounterService";
    const E: &str = "atomix.election.LeaderElectionService";
    const I: &str = "atomix.indexedmap.IndexedMapService";
    const L: &str = "atomix.leader.LeaderLatchService";
    const LI: &str = "atomix.list.ListService";
    const LO: &str = "atomix.lock.LockService";
    const MA: &str = "atomix.map.MapService";
    const S: &str = "atomix.set.SetService";
    const V: &str = "atomix.value.ValueService";
    &[
        m(C, "Create", N, false),
        m(C, "Close", N, false),
        m(C, "Set", N, false),
        m(C, "Get", N, false),
        m(C, "Increment", N, false),
        m(C, "Decrement", N, false),
        m(C, "CheckAndSet", N, false),
        m(E, "Create", N, false),
        m(E, "KeepAlive", N, false),
        m(E, "Close", N, false),
        m(E, "Enter", N, false),
        m(E, "Withdraw", N, false),
        m(E, "Anoint", N, false),
        m(E, "Promote", N, false),
        m(E, "Evict", N, false),
        m(E, "GetTerm", N, false),
        m(E, "Events", N, true),
        // The Go client keeps an indexed map (and a list) on one partition: its
        // indexes are a single sequence.
        m(I, "Create", N, false),
        m(I, "KeepAlive", N, false),
        m(I, "Close", N, false),
        m(I, "Size", N, false),
        m(I, "Exists", N, false),
        m(I, "Put", N, false),
        m(I, "Replace", N, false),
        m(I, "Get", N, false),
        m(I, "FirstEntry", N, false),
        m(I, "LastEntry", N, false),
        m(I, "PrevEntry", N, false),
        m(I, "NextEntry", N, false),
        m(I, "Remove", N, false),
        m(I, "Clear", N, false),
        m(I, "Events", N, true),
        m(I, "Entries", N, true),
        m(L, "Create", N, false),
        m(L, "KeepAlive", N, false),
        m(L, "Close", N, false),
        m(L, "Latch", N, false),
        m(L, "Get", N, false),
        m(L, "Events", N, true),
        m(LI, "Create", N, false),
        m(LI, "KeepAlive", N, false),
        m(LI, "Close", N, false),
        m(LI, "Size", N, false),
        m(LI, "Contains", N, false),
        m(LI, "Append", N, false),
        m(LI, "Insert", N, false),
        m(LI, "Get", N, false),
        m(LI, "Set", N, false),
        m(LI, "Remove", N, false),
        m(LI, "Clear", N, false),
        m(LI, "Events", N, true),
        m(LI, "Iterate", N, true),
        m(LO, "Create", N, false),
        m(LO, "KeepAlive", N, false),
        m(LO, "Close", N, false),
        m(LO, "Lock", N, false),
        m(LO, "Unlock", N, false),
        m(LO, "IsLocked", N, false),
        m(MA, "Create", All, false),
        m(MA, "KeepAlive", All, false),
        m(MA, "Close", All, false),
        m(MA, "Size", All, false),
        m(MA, "Exists", Key, false),
        m(MA, "Put", Key, false),
        m(MA, "Replace", Key, false),
        m(MA, "Get", Key, false),
        m(MA, "Remove", Key, false),
        m(MA, "Clear", All, false),
        m(MA, "Events", All, true),
        m(MA, "Entries", All, true),
        m(S, "Create", All, false),
        m(S, "KeepAlive", All, false),
        m(S, "Close", All, false),
        m(S, "Size", All, false),
        m(S, "Contains", Key, false),
        m(S, "Add", Key, false),
        m(S, "Remove", Key, false),
        m(S, "Clear", All, false),
        m(S, "Events", All, true),
        m(S, "Iterate", All, true),
        m(V, "Create", N, false),
        m(V, "KeepAlive", N, false),
        m(V, "Close", N, false),
        m(V, "Set", N, false),
        m(V, "Get", N, false),
        m(V, "Events", N, true),
    ]
};

/// Every method [`route`] knows, in service order.
pub fn methods() -> impl ExactSizeIterator<Item = Method> + Clone {
    METHODS.iter().copied()
}

/// The method at a gRPC path, `/atomix.map.MapService/Put` say; `None` for any other
/// path.
///
/// ```
/// use atomix_headers::partition::{method, Scope};
///
/// let put = method("/atomix.map.MapService/Put").unwrap();
/// assert_eq!((put.scope, put.server_streaming), (Scope::Entry, false));
/// assert!(method("/atomix.log.LogService/Produce").is_none()); // no header to read
/// ```
pub fn method(path: &str) -> Option<Method> {
    let (service, name) = path.strip_prefix('/')?.split_once('/')?;
    METHODS
        .iter()
        .find(|m| m.name == name && m.service == service)
        .copied()
}

/// Why [`route`] found no partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// There are no partitions to route to.
    NoPartitions,
    /// The header's `partition` (field 6) is 0 or past the last partition.
    PartitionOutOfRange {
        /// The value the header carried.
        partition: u32,
        /// How many partitions there are.
        partitions: u32,
    },
    /// The method needs every partition (or a session on each), there are several, and
    /// the request does not name one.
    NeedsPartition {
        /// The method.
        method: Method,
        /// How many partitions there are.
        partitions: u32,
    },
}

impl core::fmt::Display for RouteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            RouteError::NoPartitions => f.write_str("there are no partitions to route to"),
            RouteError::PartitionOutOfRange {
                partition,
                partitions,
            } => write!(
                f,
                "header.partition (field 6) is {partition}; partitions are numbered 1 to {partitions}"
            ),
            RouteError::NeedsPartition { method, partitions } => write!(
                f,
                "{}/{} spans all {partitions} partitions (the Atomix client sends it to each \
                 and merges the answers); name one in header.partition (field 6, numbered \
                 from 1), or call a partition's own listener",
                method.service, method.name
            ),
        }
    }
}

impl core::error::Error for RouteError {}

const _: () = crate::error::is_error::<RouteError>();

/// The partition, counted from 0, that `request`, a call of `method`, goes to among
/// `partitions`:
///
/// 1. the header's `partition` (field 6 of later schema revisions, numbered from 1),
///    when present; 0 or past the last is [`RouteError::PartitionOutOfRange`];
/// 2. else the Atomix Go client's rule: FNV-1a 32 of `header.name.name`
///    ([`Scope::Name`]) or of field 2 ([`Scope::Entry`]), modulo `partitions`;
/// 3. else, for [`Scope::EveryPartition`], partition 0 when it is the only one, and
///    [`RouteError::NeedsPartition`] otherwise: never one partition's answer as the
///    whole.
///
/// Each field is read as the reference runtime reads the singular field: the last
/// occurrence of its declared wire type (field 6 a varint kept to its low 32 bits, as
/// a `uint32`; field 2 and the name length-delimited). A missing header or name is the
/// empty name, as in proto3.
///
/// ```
/// use atomix_headers::partition::{method, route, RouteError};
/// use atomix_headers::{Message, RequestEnvelope};
///
/// let put = method("/atomix.map.MapService/Put").unwrap();
/// // map.PutRequest { header {} key: "k1" }
/// let request = RequestEnvelope::decode(b"\x0a\x00\x12\x02k1")?;
/// assert_eq!(route(put, &request, 3), Ok(0)); // fnv1a_32("k1") % 3
///
/// // map.SizeRequest { header { partition: 2 } }: named, so it can go
/// let size = method("/atomix.map.MapService/Size").unwrap();
/// let request = RequestEnvelope::decode(b"\x0a\x02\x30\x02")?;
/// assert_eq!(route(size, &request, 3), Ok(1));
/// // ... and without the name it cannot
/// let request = RequestEnvelope::decode(b"\x0a\x00")?;
/// assert!(matches!(route(size, &request, 3), Err(RouteError::NeedsPartition { .. })));
/// # Ok::<(), atomix_headers::DecodeError>(())
/// ```
pub fn route(
    method: Method,
    request: &crate::envelope::RequestEnvelope<'_>,
    partitions: u32,
) -> Result<u32, RouteError> {
    if partitions == 0 {
        return Err(RouteError::NoPartitions);
    }
    let header = request.header.as_ref();
    if let Some(named) = header.and_then(|h| h.unknown_fields.last_varint(PARTITION_FIELD)) {
        // upb keeps a uint32's low 32 bits of a longer varint.
        let partition = named as u32;
        return match partition {
            1.. if partition <= partitions => Ok(partition - 1),
            _ => Err(RouteError::PartitionOutOfRange {
                partition,
                partitions,
            }),
        };
    }
    let key = match method.scope {
        Scope::Name => header
            .and_then(|h| h.name)
            .map_or(&[][..], |n| n.name.as_bytes()),
        Scope::Entry => request.last_bytes(2).unwrap_or_default(),
        Scope::EveryPartition if partitions == 1 => return Ok(0),
        Scope::EveryPartition => {
            return Err(RouteError::NeedsPartition { method, partitions });
        }
    };
    Ok(fnv1a_32(key) % partitions)
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
