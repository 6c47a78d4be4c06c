//! `atomix.headers.ResponseHeader`.

use super::{sealed::Sealed, Message};
use crate::enums::{ResponseStatus, ResponseType};
use crate::error::DecodeError;
use crate::schema::MessageType;
use crate::unknown::{Tracker, UnknownFields};
use crate::wire::reader::Reader;
use crate::wire::sink::Sink;
use crate::wire::size;
use crate::wire::speculative::Speculative;

const SESSION_ID: u32 = MessageType::ResponseHeader.tag_of("session_id");
const STREAM_ID: u32 = MessageType::ResponseHeader.tag_of("stream_id");
const RESPONSE_ID: u32 = MessageType::ResponseHeader.tag_of("response_id");
const INDEX: u32 = MessageType::ResponseHeader.tag_of("index");
const LEADER: u32 = MessageType::ResponseHeader.tag_of("leader");
const STATUS: u32 = MessageType::ResponseHeader.tag_of("status");
const TYPE: u32 = MessageType::ResponseHeader.tag_of("type");

/// `atomix.headers.ResponseHeader`.
///
/// ```
/// use atomix_headers::{Message, ResponseHeader, ResponseStatus};
///
/// let response = ResponseHeader {
///     session_id: 1,
///     leader: "raft-node-2:5678",
///     status: ResponseStatus::NOT_LEADER,
///     ..Default::default()
/// };
/// let bytes = response.encode_to_vec()?;
/// let decoded = ResponseHeader::decode(&bytes)?;
/// assert_eq!(decoded.status, ResponseStatus::NOT_LEADER);
/// assert_eq!(decoded.leader, "raft-node-2:5678");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResponseHeader<'a> {
    /// Field 1: the session the response belongs to.
    pub session_id: u64,
    /// Field 2: the stream a streamed response belongs to.
    pub stream_id: u64,
    /// Field 3: the response's sequence number within its stream, which the client
    /// acknowledges in its next keep-alive.
    pub response_id: u64,
    /// Field 4: the log index at which the response was produced; the client sends the
    /// highest it has seen as [`RequestHeader::index`](crate::RequestHeader::index).
    pub index: u64,
    /// Field 5: with status `NOT_LEADER`, the leader's `host:port`, where the client
    /// retries.
    pub leader: &'a str,
    /// Field 6: whether the request succeeded (`OK`, `ERROR`, `NOT_LEADER`). An open
    /// enum: any int32 is kept, newer status codes included.
    pub status: ResponseStatus,
    /// Field 7: a plain `RESPONSE`, or a stream's `OPEN_STREAM` and `CLOSE_STREAM`
    /// events. An open enum: any int32 is kept.
    pub r#type: ResponseType,
    /// Fields this schema does not know, kept byte for byte.
    pub unknown_fields: UnknownFields<'a>,
}

impl<'a> Sealed<'a> for ResponseHeader<'a> {
    /// The fast path: a ResponseHeader in canonical shape (known fields at most once
    /// each, in field order, one-byte tags, unknown fields last). Anything else is left
    /// to [`Sealed::decode_any`].
    #[inline(always)]
    fn decode_fast(mut r: Speculative<'a>, depth: u32) -> Option<Self> {
        let mut response = ResponseHeader::default();
        r.varint_field(SESSION_ID, &mut response.session_id)?;
        r.varint_field(STREAM_ID, &mut response.stream_id)?;
        r.varint_field(RESPONSE_ID, &mut response.response_id)?;
        r.varint_field(INDEX, &mut response.index)?;
        r.string_field(LEADER, &mut response.leader)?;
        if r.next_is(STATUS) {
            response.status = ResponseStatus::from_value(r.varint()? as i32);
        }
        if r.next_is(TYPE) {
            response.r#type = ResponseType::from_value(r.varint()? as i32);
        }
        response.unknown_fields =
            UnknownFields::rest_of(&mut r, MessageType::ResponseHeader, depth)?;
        Some(response)
    }

    /// Any ResponseHeader the reference runtime accepts, in any field order. Inlined
    /// beside the fast path, so that both leave their result in registers (see
    /// [`Sealed::decode_at_depth`]).
    #[inline(always)]
    fn decode_any(r: Reader<'a>, depth: u32) -> Result<Self, DecodeError> {
        let data = r.data();
        let mut merge = ResponseMerge::default();
        merge.add(r, depth)?;
        Ok(merge.finish(data))
    }

    #[cfg(debug_assertions)]
    fn same_repr(&self, other: &Self) -> bool {
        self == other
            && core::ptr::eq(self.leader, other.leader)
            && self.unknown_fields.same_repr(&other.unknown_fields)
    }

    #[inline(always)]
    fn fits(&self, depth: u32) -> bool {
        self.unknown_fields.fit(MessageType::ResponseHeader, depth)
    }

    #[inline(always)]
    fn max_encoded_len(&self) -> usize {
        let varints = 6 * size::VARINT_FIELD_MAX;
        size::bytes_max(self.leader.len())
            .saturating_add(varints)
            .saturating_add(self.unknown_fields.encoded_len())
    }

    #[inline]
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.put_uint64_field(SESSION_ID, self.session_id);
        sink.put_uint64_field(STREAM_ID, self.stream_id);
        sink.put_uint64_field(RESPONSE_ID, self.response_id);
        sink.put_uint64_field(INDEX, self.index);
        sink.put_string_field(LEADER, self.leader);
        sink.put_enum_field(STATUS, self.status.value());
        sink.put_enum_field(TYPE, self.r#type.value());
        self.unknown_fields.write(sink);
    }
}

/// A ResponseHeader decoded from one or more occurrences of a message field, which merge
/// as protobuf merges them: a scalar present later overwrites, unknown fields append.
#[derive(Default)]
pub struct ResponseMerge<'a> {
    response: ResponseHeader<'a>,
    unknown: Tracker,
    /// The recursion depth left at each occurrence.
    depth: u32,
}

impl<'a> ResponseMerge<'a> {
    /// Merges one encoded ResponseHeader, `r`, into what came before.
    #[inline(always)]
    pub(crate) fn add(&mut self, mut r: Reader<'a>, depth: u32) -> Result<(), DecodeError> {
        self.depth = depth;
        let response = &mut self.response;
        while r.has_remaining() {
            let start = r.pos();
            match r.tag()? {
                SESSION_ID => response.session_id = r.varint_field(1)?,
                STREAM_ID => response.stream_id = r.varint_field(2)?,
                RESPONSE_ID => response.response_id = r.varint_field(3)?,
                INDEX => response.index = r.varint_field(4)?,
                LEADER => response.leader = r.string_field(5)?,
                // An enum keeps the low 32 bits of the varint, as two's complement.
                STATUS => response.status = ResponseStatus::from_value(r.varint_field(6)? as i32),
                TYPE => response.r#type = ResponseType::from_value(r.varint_field(7)? as i32),
                other => {
                    r.skip(other, start, depth)?;
                    self.unknown.add(start, r.pos());
                }
            }
        }
        Ok(())
    }

    /// The header of one occurrence, whose bytes are `data`.
    #[inline(always)]
    pub(crate) fn finish(self, data: &'a [u8]) -> ResponseHeader<'a> {
        let mut response = self.response;
        response.unknown_fields =
            self.unknown
                .finish(data, MessageType::ResponseHeader, self.depth);
        response
    }

    /// The header merged from several occurrences, which are the fields tagged
    /// `outer` in `span`, a run of the enclosing message's fields.
    pub(crate) fn finish_merged(self, span: &'a [u8], outer: u8) -> ResponseHeader<'a> {
        let mut response = self.response;
        response.unknown_fields =
            self.unknown
                .finish_merged(span, outer, MessageType::ResponseHeader, self.depth);
        response
    }
}

impl<'a> Message<'a> for ResponseHeader<'a> {
    #[inline(always)]
    fn encoded_len(&self) -> usize {
        size::uint64(self.session_id)
            + size::uint64(self.stream_id)
            + size::uint64(self.response_id)
            + size::uint64(self.index)
            + size::string(self.leader)
            + size::enumeration(self.status.value())
            + size::enumeration(self.r#type.value())
            + self.unknown_fields.encoded_len()
    }
}

impl crate::unknown::private::Known for ResponseHeader<'_> {
    fn kind() -> MessageType {
        MessageType::ResponseHeader
    }
}
