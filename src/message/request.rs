//! `atomix.headers.RequestHeader`.

use super::name::Name;
use super::streams::{Streams, StreamsTracker, STREAMS};
use super::{sealed::Sealed, Message};
use crate::error::DecodeError;
use crate::schema::MessageType;
use crate::unknown::{Tracker, UnknownFields};
use crate::wire::fields::Path;
use crate::wire::reader::Reader;
use crate::wire::sink::Sink;
use crate::wire::size;
use crate::wire::speculative::Speculative;

const NAME: u32 = MessageType::RequestHeader.tag_of("name");
const SESSION_ID: u32 = MessageType::RequestHeader.tag_of("session_id");
const REQUEST_ID: u32 = MessageType::RequestHeader.tag_of("request_id");
const INDEX: u32 = MessageType::RequestHeader.tag_of("index");

/// `atomix.headers.RequestHeader`.
///
/// Decode, rewrite a field, encode; everything not touched, unknown fields included,
/// comes out as it went in (in canonical order):
///
/// ```
/// use atomix_headers::{Message, RequestHeader};
///
/// // name {name: "m"}, session_id 1, streams {stream_id: 2}, and an unknown field 6.
/// let wire = [0x0a, 0x03, 0x0a, 0x01, b'm', 0x10, 0x01, 0x2a, 0x02, 0x08, 0x02, 0x30, 0x07];
/// let mut request = RequestHeader::decode(&wire)?;
/// assert_eq!(request.name.unwrap().name, "m");
/// request.index = 42;
/// let mut out = Vec::new();
/// request.encode(&mut out)?;
/// assert_eq!(out, [0x0a, 0x03, 0x0a, 0x01, b'm', 0x10, 0x01, 0x20, 42, 0x2a, 0x02, 0x08, 0x02, 0x30, 0x07]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestHeader<'a> {
    /// Field 1: the primitive the request addresses (the Go client routes on it). `Some`
    /// whenever the field was present, even
    /// empty; several occurrences merge, as protobuf merges a message field.
    pub name: Option<Name<'a>>,
    /// Field 2: the client's session, numbered by the log index of the entry that
    /// opened it.
    pub session_id: u64,
    /// Field 3: the client's command sequence number within the session, by which the
    /// cluster recognizes a retried command and does not apply it twice.
    pub request_id: u64,
    /// Field 4: the last log index the client has seen; a query waits until the state
    /// machine has applied it, so that the client never reads older state.
    pub index: u64,
    /// Field 5, repeated: the client's open streams, each with the last response it
    /// received, acknowledged on keep-alive so that the cluster can drop what was
    /// delivered.
    pub streams: Streams<'a>,
    /// Fields this schema does not know, kept byte for byte.
    pub unknown_fields: UnknownFields<'a>,
}

impl<'a> Sealed<'a> for RequestHeader<'a> {
    /// The fast path: a RequestHeader in canonical shape (known fields at most once
    /// each, in field order, then the streams, each a canonical StreamHeader without
    /// unknown fields; one-byte tags; unknown fields last). Anything else is left to
    /// [`Sealed::decode_any`].
    #[inline(always)]
    fn decode_fast(mut r: Speculative<'a>, depth: u32) -> Option<Self> {
        // Nested messages need a level of depth (the general path reports its absence).
        let inner = depth.checked_sub(1)?;
        let mut request = RequestHeader::default();
        if r.next_is(NAME) {
            request.name = Some(Name::decode_fast(r.length_delimited()?, inner)?);
        }
        r.varint_field(SESSION_ID, &mut request.session_id)?;
        r.varint_field(REQUEST_ID, &mut request.request_id)?;
        r.varint_field(INDEX, &mut request.index)?;
        let mut streams = StreamsTracker::default();
        // The first streams' ids are kept, the others' only checked (read again when
        // iterated): two loops, so that neither tests which it is per stream.
        while !streams.is_full() {
            let start = r.pos();
            if !r.next_is(STREAMS) {
                break;
            }
            streams.add_exact::<true>(&mut r, start)?;
        }
        loop {
            let start = r.pos();
            if !r.next_is(STREAMS) {
                break;
            }
            streams.add_exact::<false>(&mut r, start)?;
        }
        request.unknown_fields = UnknownFields::rest_of(&mut r, MessageType::RequestHeader, depth)?;
        request.streams = streams.finish(r.data(), r.lookahead());
        Some(request)
    }

    /// Any RequestHeader the reference runtime accepts, in any field order. Inlined
    /// beside the fast path like the other messages' general paths (see
    /// [`Sealed::decode_at_depth`]): out of line, criterion's loop copied every decoded
    /// header instead of leaving it in registers.
    #[inline(always)]
    fn decode_any(r: Reader<'a>, depth: u32) -> Result<Self, DecodeError> {
        let (data, lookahead) = (r.data(), r.lookahead());
        let mut merge = RequestMerge::default();
        merge.add(r, depth)?;
        Ok(merge.finish(data, lookahead))
    }

    #[cfg(debug_assertions)]
    fn same_repr(&self, other: &Self) -> bool {
        let names = match (&self.name, &other.name) {
            (Some(name), Some(other)) => name.same_repr(other),
            (None, None) => true,
            _ => false,
        };
        self == other
            && names
            && self.streams.same_repr(&other.streams)
            && self.unknown_fields.same_repr(&other.unknown_fields)
    }

    #[inline(always)]
    fn fits(&self, depth: u32) -> bool {
        let inner = depth.saturating_sub(1);
        self.unknown_fields.fit(MessageType::RequestHeader, depth)
            && self.name.as_ref().is_none_or(|name| name.fits(inner))
            && self.streams.fit(inner)
    }

    #[inline(always)]
    fn max_encoded_len(&self) -> usize {
        let name = match &self.name {
            Some(name) => size::bytes_max(name.max_encoded_len()),
            None => 0,
        };
        name.saturating_add(3 * size::VARINT_FIELD_MAX)
            .saturating_add(self.streams.max_encoded_len())
            .saturating_add(self.unknown_fields.encoded_len())
    }

    #[inline]
    fn write<S: Sink>(&self, sink: &mut S) {
        if let Some(name) = &self.name {
            sink.put_tag(NAME);
            sink.put_varint(name.encoded_len() as u64);
            name.write(sink);
        }
        sink.put_uint64_field(SESSION_ID, self.session_id);
        sink.put_uint64_field(REQUEST_ID, self.request_id);
        sink.put_uint64_field(INDEX, self.index);
        self.streams.write(sink);
        self.unknown_fields.write(sink);
    }
}

/// A RequestHeader decoded from one or more occurrences of a message field, which merge
/// as protobuf merges them: a scalar present later overwrites, `name` merges, `streams`
/// and unknown fields append.
#[derive(Default)]
pub struct RequestMerge<'a> {
    request: RequestHeader<'a>,
    unknown: Tracker,
    streams: StreamsTracker,
    /// Occurrences of `name`: where the first starts, the last ends (in the one
    /// occurrence of the RequestHeader, if there is one), and how many bytes of unknown
    /// fields they hold between them.
    names: usize,
    names_start: usize,
    names_end: usize,
    names_unknown: usize,
    /// The recursion depth left at each occurrence.
    depth: u32,
}

impl<'a> RequestMerge<'a> {
    /// Merges one encoded RequestHeader, `r`, into what came before.
    #[inline(always)]
    pub(crate) fn add(&mut self, mut r: Reader<'a>, depth: u32) -> Result<(), DecodeError> {
        self.depth = depth;
        let request = &mut self.request;
        while r.has_remaining() {
            let start = r.pos();
            match r.tag()? {
                NAME => {
                    let body = r.message_field(1, depth)?;
                    let name = request.name.get_or_insert_with(Name::default);
                    self.names_unknown += name
                        .merge_from(body, depth - 1)
                        .map_err(|e| e.in_field(1))?;
                    if self.names == 0 {
                        self.names_start = start;
                    }
                    self.names += 1;
                    self.names_end = r.pos();
                }
                SESSION_ID => request.session_id = r.varint_field(2)?,
                REQUEST_ID => request.request_id = r.varint_field(3)?,
                INDEX => request.index = r.varint_field(4)?,
                STREAMS => {
                    let body = r.message_field(5, depth)?;
                    self.streams.add(body, depth - 1, start, r.pos())?;
                }
                other => {
                    r.skip(other, start, depth)?;
                    self.unknown.add(start, r.pos());
                }
            }
        }
        Ok(())
    }

    /// The header of one occurrence, whose bytes are `data`, followed in the input by
    /// the rest of `lookahead`.
    #[inline(always)]
    pub(crate) fn finish(self, data: &'a [u8], lookahead: &'a [u8]) -> RequestHeader<'a> {
        let mut request = self.request;
        if self.names > 1 {
            if let Some(name) = &mut request.name {
                name.unknown_fields = UnknownFields::picked(
                    &data[self.names_start..self.names_end],
                    Path::within(NAME as u8),
                    MessageType::Name,
                    self.depth - 1,
                    self.names_unknown,
                );
            }
        }
        request.streams = self.streams.finish(data, lookahead);
        request.unknown_fields = self
            .unknown
            .finish(data, MessageType::RequestHeader, self.depth);
        request
    }

    /// The header merged from several occurrences, which are the fields tagged
    /// `outer` in `span`, a run of the enclosing message's fields.
    pub(crate) fn finish_merged(self, span: &'a [u8], outer: u8) -> RequestHeader<'a> {
        let mut request = self.request;
        if self.names > 1 {
            if let Some(name) = &mut request.name {
                name.unknown_fields = UnknownFields::picked(
                    span,
                    Path::within_both(outer, NAME as u8),
                    MessageType::Name,
                    self.depth - 1,
                    self.names_unknown,
                );
            }
        }
        request.streams = self.streams.finish_merged(span, outer);
        request.unknown_fields =
            self.unknown
                .finish_merged(span, outer, MessageType::RequestHeader, self.depth);
        request
    }
}

impl<'a> Message<'a> for RequestHeader<'a> {
    #[inline(always)]
    fn encoded_len(&self) -> usize {
        let name = match &self.name {
            Some(name) => size::bytes(name.encoded_len()),
            None => 0,
        };
        name + size::uint64(self.session_id)
            + size::uint64(self.request_id)
            + size::uint64(self.index)
            + self.streams.encoded_len()
            + self.unknown_fields.encoded_len()
    }
}

impl crate::unknown::private::Known for RequestHeader<'_> {
    fn kind() -> MessageType {
        MessageType::RequestHeader
    }
}
