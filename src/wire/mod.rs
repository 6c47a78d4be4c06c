//! Protobuf wire primitives: varints, tags, lengths, skipping and writing. Nothing here
//! knows a message; the message modules are built on top.

pub(crate) mod delimited;
pub(crate) mod fields;
pub(crate) mod reader;
pub(crate) mod sink;
pub(crate) mod skip;
pub(crate) mod speculative;
pub(crate) mod utf8;
pub(crate) mod varint;

/// Encoded sizes of whole fields, for `encoded_len`. Every known tag takes one byte.
pub(crate) mod size {
    use super::varint::encoded_len;

    /// A uint64 field: nothing for the default 0, else a one-byte tag and the varint.
    /// Looked up by the count of leading zeros, 64 for 0: no branch, which fields
    /// present in some messages and absent in others would mispredict.
    #[inline(always)]
    pub(crate) const fn uint64(value: u64) -> usize {
        UINT64_FIELD_LEN[value.leading_zeros() as usize] as usize
    }

    /// [`uint64`] for each count of leading zeros.
    const UINT64_FIELD_LEN: [u8; 65] = {
        let mut lens = [0; 65];
        let mut zeros = 0;
        while zeros < 64 {
            lens[zeros] = tagged_len(u64::MAX >> zeros) as u8;
            zeros += 1;
        }
        lens
    };

    /// A one-byte tag and the varint of `value`: `1 + encoded_len(value)`, with the 1
    /// folded into the rounding constant (64 more before the shift by 6), which the
    /// compiler does not do by itself.
    #[inline(always)]
    const fn tagged_len(value: u64) -> usize {
        let high = 63 - (value | 1).leading_zeros() as usize;
        (high * 9 + 73 + 64) / 64
    }

    /// An open enum: negative values take 10 bytes (sign extension).
    #[inline(always)]
    pub(crate) const fn enumeration(value: i32) -> usize {
        uint64(value as i64 as u64)
    }

    #[inline(always)]
    pub(crate) const fn string(value: &str) -> usize {
        if value.is_empty() {
            0
        } else {
            bytes(value.len())
        }
    }

    /// The most a varint field takes: a one-byte tag and a 10-byte varint.
    pub(crate) const VARINT_FIELD_MAX: usize = 11;

    /// The most a length-delimited field with a body of `len` bytes takes.
    #[inline(always)]
    pub(crate) const fn bytes_max(len: usize) -> usize {
        len.saturating_add(VARINT_FIELD_MAX)
    }

    /// A length-delimited field whose body takes `len` bytes, written even when empty.
    #[inline(always)]
    pub(crate) const fn bytes(len: usize) -> usize {
        // Most bodies (a stream, a name, a leader) are shorter than 128 bytes: a one-byte
        // length, without working its size out.
        if len < 0x80 {
            len + 2
        } else {
            tagged_len(len as u64) + len
        }
    }

    /// A body of `len` bytes after its varint length prefix, without a tag: a field's
    /// value, or a length-delimited frame.
    #[inline(always)]
    pub(crate) const fn delimited(len: usize) -> usize {
        encoded_len(len as u64) + len
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The table agrees with a tag byte plus the varint's length, for 0 and for
        /// values with every count of significant bits, at both ends of each count.
        #[test]
        fn uint64_field_len_at_every_bit_count() {
            assert_eq!(uint64(0), 0);
            for bits in 1..=64u32 {
                for value in [1u64 << (bits - 1), u64::MAX >> (64 - bits)] {
                    assert_eq!(uint64(value), 1 + encoded_len(value), "{value:#x}");
                }
            }
        }
    }
}
