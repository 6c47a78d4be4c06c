//! `atomix.headers.StreamHeader`.

use super::{sealed::Sealed, Message};
use crate::error::DecodeError;
use crate::schema::MessageType;
use crate::unknown::{Tracker, UnknownFields};
use crate::wire::reader::Reader;
use crate::wire::sink::Sink;
use crate::wire::size;
use crate::wire::speculative::Speculative;

pub(super) const STREAM_ID: u32 = MessageType::StreamHeader.tag_of("stream_id");
pub(super) const RESPONSE_ID: u32 = MessageType::StreamHeader.tag_of("response_id");

/// `atomix.headers.StreamHeader`.
///
/// ```
/// use atomix_headers::{Message, StreamHeader};
///
/// let stream = StreamHeader::decode(&[0x08, 0x96, 0x01, 0x10, 0x02])?;
/// assert_eq!((stream.stream_id, stream.response_id), (150, 2));
/// # Ok::<(), atomix_headers::DecodeError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamHeader<'a> {
    /// Field 1: the stream's id, which the cluster gave it when it opened.
    pub stream_id: u64,
    /// Field 2: the last response the client received on the stream.
    pub response_id: u64,
    /// Fields this schema does not know, kept byte for byte.
    pub unknown_fields: UnknownFields<'a>,
}

impl<'a> StreamHeader<'a> {
    /// The ids of a stream body whose bytes are exactly its canonical encoding, with no
    /// unknown fields: the shape a RequestHeader's fast path takes.
    #[inline(always)]
    pub(super) fn fast_ids(mut r: Speculative<'a>) -> Option<(u64, u64)> {
        let mut ids = (0, 0);
        if r.next_is(STREAM_ID) {
            ids.0 = r.varint_canonical()?;
        }
        if r.next_is(RESPONSE_ID) {
            ids.1 = r.varint_canonical()?;
        }
        (!r.has_remaining()).then_some(ids)
    }

    /// [`StreamHeader::fast_ids`] without the ids: whether the body is exactly a
    /// canonical encoding without unknown fields.
    #[inline(always)]
    pub(super) fn fast_check(mut r: Speculative<'a>) -> Option<()> {
        if r.next_is(STREAM_ID) {
            r.skip_varint_canonical()?;
        }
        if r.next_is(RESPONSE_ID) {
            r.skip_varint_canonical()?;
        }
        (!r.has_remaining()).then_some(())
    }

    /// Decodes a body and tells whether its bytes are already its canonical encoding:
    /// known fields once each, in order, minimal and non-zero, unknown fields last.
    #[inline(always)]
    pub(super) fn decode_noting_canonical(
        mut r: Reader<'a>,
        depth: u32,
    ) -> Result<(Self, bool), DecodeError> {
        let mut stream = StreamHeader::default();
        let mut unknown = Tracker::default();
        // Rank of the last field read: known fields must rise, unknown ones come last.
        let mut last = 0u32;
        let mut canonical = true;
        while r.has_remaining() {
            let start = r.pos();
            let tag = r.tag()?;
            let one_byte_tag = r.pos() - start == 1;
            let (rank, minimal) = match tag {
                STREAM_ID => {
                    let minimal;
                    (stream.stream_id, minimal) = r.varint_field_canonical(1)?;
                    (tag, minimal)
                }
                RESPONSE_ID => {
                    let minimal;
                    (stream.response_id, minimal) = r.varint_field_canonical(2)?;
                    (tag, minimal)
                }
                other => {
                    r.skip(other, start, depth)?;
                    unknown.add(start, r.pos());
                    (u32::MAX, true)
                }
            };
            canonical &= (rank > last && one_byte_tag && minimal) || rank == u32::MAX;
            last = rank;
        }
        stream.unknown_fields = unknown.finish(r.data(), MessageType::StreamHeader, depth);
        Ok((stream, canonical))
    }
}

impl<'a> Sealed<'a> for StreamHeader<'a> {
    /// The fast path: a StreamHeader in canonical shape (`stream_id`, then
    /// `response_id`, at most once each, one-byte tags, unknown fields last).
    ///
    /// Both paths are inlined: with the general one out of line, their results met in
    /// memory, which cost more than the fast path saves.
    #[inline(always)]
    fn decode_fast(mut r: Speculative<'a>, depth: u32) -> Option<Self> {
        // Not `varint_field`: its one check for a whole field needs 11 bytes of the
        // message left, which a StreamHeader of ids in the millions (8 bytes) never has,
        // so the check would fail, at a cost, on every decode.
        Some(StreamHeader {
            stream_id: r.varint_words_if(STREAM_ID)?,
            response_id: r.varint_words_if(RESPONSE_ID)?,
            unknown_fields: UnknownFields::rest_of(&mut r, MessageType::StreamHeader, depth)?,
        })
    }

    #[inline(always)]
    fn decode_any(reader: Reader<'a>, depth: u32) -> Result<Self, DecodeError> {
        Self::decode_noting_canonical(reader, depth).map(|(stream, _)| stream)
    }

    #[cfg(debug_assertions)]
    fn same_repr(&self, other: &Self) -> bool {
        self == other && self.unknown_fields.same_repr(&other.unknown_fields)
    }

    #[inline(always)]
    fn fits(&self, depth: u32) -> bool {
        self.unknown_fields.fit(MessageType::StreamHeader, depth)
    }

    #[inline(always)]
    fn max_encoded_len(&self) -> usize {
        // A slice's length is at most isize::MAX: adding 22 cannot overflow.
        2 * size::VARINT_FIELD_MAX + self.unknown_fields.encoded_len()
    }

    #[inline]
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.put_uint64_field(STREAM_ID, self.stream_id);
        sink.put_uint64_field(RESPONSE_ID, self.response_id);
        self.unknown_fields.write(sink);
    }
}

impl<'a> Message<'a> for StreamHeader<'a> {
    #[inline(always)]
    fn encoded_len(&self) -> usize {
        size::uint64(self.stream_id)
            + size::uint64(self.response_id)
            + self.unknown_fields.encoded_len()
    }
}

impl crate::unknown::private::Known for StreamHeader<'_> {
    fn kind() -> MessageType {
        MessageType::StreamHeader
    }
}
