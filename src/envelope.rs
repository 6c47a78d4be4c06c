//! Headers where they travel: inside Atomix primitive messages.
//!
//! Every Atomix primitive request and response (counter, map, lock, election, ...)
//! carries its header as field 1 (`RequestHeader header = 1;` or `ResponseHeader`),
//! followed by the operation's own fields. An [`Envelope`] is such a message seen by
//! someone who knows only field 1: the header, decoded, and every other field kept as
//! borrowed bytes in arrival order. It decodes, re-encodes and rejects exactly as the
//! reference runtime (upb) does for `message RequestEnvelope { RequestHeader header = 1; }`
//! (testdata/schema/atomix/envelope/envelope.proto), and the [`Message`] trait gives it
//! the same decode and encode methods as a bare header.
//!
//! A proxy that changed nothing forwards the bytes it decoded from: they are the message.
//! Encoding is needed only after a change. It writes the header first, then the other
//! fields as they came, which is also what the reference runtime writes; when the header
//! came first and once (as every Atomix client writes it), that is the new header and one
//! copy of the rest.
//!
//! ```
//! use atomix_headers::{Message, RequestEnvelope};
//!
//! // counter.IncrementRequest { header { session_id: 7 } delta: 5 }
//! let wire = [0x0a, 0x02, 0x10, 0x07, 0x10, 0x05];
//! let mut request = RequestEnvelope::decode(&wire)?;
//! let header = request.header.as_mut().unwrap();
//! assert_eq!(header.session_id, 7);
//! header.index = 42; // stamp the index; delta travels on untouched
//!
//! let out = request.encode_to_vec()?;
//! assert_eq!(out, [0x0a, 0x04, 0x10, 0x07, 0x20, 42, 0x10, 0x05]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::DecodeError;
use crate::message::request::{self, RequestHeader};
use crate::message::response::{self, ResponseHeader};
use crate::message::sealed::{Merge, Sealed};
use crate::message::Message;
use crate::schema::MessageType;
use crate::unknown::{Tracker, UnknownField, UnknownFields};
use crate::wire::reader::Reader;
use crate::wire::sink::Sink;
use crate::wire::size;

/// Field 1 of every Atomix primitive message, the header.
// Both envelopes carry their header as field 1.
const HEADER: u32 = MessageType::RequestEnvelope.tag_of("header");
/// The header's field number, the same in both envelopes.
const HEADER_NUMBER: u32 = HEADER >> 3;
const _: () = assert!(MessageType::ResponseEnvelope.tag_of("header") == HEADER);

/// An Atomix primitive message seen through its header, field 1.
///
/// `H` is [`RequestHeader`] for requests ([`RequestEnvelope`]) and [`ResponseHeader`]
/// for responses ([`ResponseEnvelope`]).
///
/// ```
/// use atomix_headers::{Message, ResponseEnvelope, ResponseStatus};
///
/// // counter.IncrementResponse { header { status: NOT_LEADER leader: "n2:5678" } previous_value: 3 }
/// let wire = b"\x0a\x0b\x2a\x07n2:5678\x30\x02\x10\x03";
/// let response = ResponseEnvelope::decode(wire)?;
/// let header = response.header.unwrap();
/// assert_eq!(header.status, ResponseStatus::NOT_LEADER);
/// assert_eq!(header.leader, "n2:5678");
/// let previous = response.operation.iter().next().unwrap();
/// assert_eq!((previous.number(), previous.as_bytes()), (2, &[0x10, 0x03][..]));
/// # Ok::<(), atomix_headers::DecodeError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Envelope<'a, H> {
    /// Field 1, the header: `Some` whenever a field 1 of wire type 2 was present, even
    /// empty. Several occurrences merge into one header, as protobuf merges a message
    /// field.
    pub header: Option<H>,
    /// The operation's own fields (`delta`, `key`, `value`...): every field but the
    /// header, byte for byte in arrival order, a field 1 of another wire type included.
    /// The envelope declares only the header, so to it these are unknown fields, and
    /// they are read as such ([`UnknownFields::last_bytes`], `last_varint`, `iter`).
    pub operation: UnknownFields<'a>,
}

/// An Atomix primitive request (`IncrementRequest`, `PutRequest`, ...) seen through its
/// [`RequestHeader`].
pub type RequestEnvelope<'a> = Envelope<'a, RequestHeader<'a>>;

/// An Atomix primitive response seen through its [`ResponseHeader`].
pub type ResponseEnvelope<'a> = Envelope<'a, ResponseHeader<'a>>;

impl<'a, H> Envelope<'a, H> {
    /// The last occurrence of field `number` among the other fields: the one that counts
    /// for a singular field, such as the key (field 2) of a map operation.
    ///
    /// ```
    /// use atomix_headers::{Message, RequestEnvelope};
    ///
    /// // map.GetRequest { header {} key: "k1" }
    /// let request = RequestEnvelope::decode(b"\x0a\x00\x12\x02k1")?;
    /// assert_eq!(request.last_field(2).and_then(|f| f.payload()), Some(&b"k1"[..]));
    /// # Ok::<(), atomix_headers::DecodeError>(())
    /// ```
    pub fn last_field(&self, number: u32) -> Option<UnknownField<'a>> {
        self.operation.last(number)
    }

    /// The payload of the last length-delimited occurrence of field `number`: what the
    /// reference runtime reads for a singular `string` or `bytes` field, such as a map
    /// operation's key. An occurrence of another wire type does not count, so one key
    /// is read the same way however the message was written.
    ///
    /// ```
    /// use atomix_headers::{Message, RequestEnvelope};
    ///
    /// // map.GetRequest { header {} key: "k1" }, then a stray field 2 as a varint
    /// let request = RequestEnvelope::decode(b"\x0a\x00\x12\x02k1\x10\x05")?;
    /// assert_eq!(request.last_bytes(2), Some(&b"k1"[..]));
    /// assert_eq!(request.last_field(2).unwrap().wire_type(), 0);
    /// # Ok::<(), atomix_headers::DecodeError>(())
    /// ```
    pub fn last_bytes(&self, number: u32) -> Option<&'a [u8]> {
        self.operation.last_bytes(number)
    }
}

impl<'a, H: Merge<'a>> Sealed<'a> for Envelope<'a, H> {
    /// The shape every Atomix client writes: the header first and once, then fields
    /// other than a header, with the header in its own canonical shape. `decode_at_depth`
    /// below does not call this: it splits the shape itself and lets the header choose
    /// its path.
    #[inline(always)]
    fn decode_fast(r: Reader<'a>, depth: u32) -> Option<Self> {
        let (header, rest) = split_canonical(r, depth, H::ENVELOPE)?;
        let header = match header {
            Some(body) => Some(H::decode_fast(body, depth - 1)?),
            None => None,
        };
        Some(Envelope {
            header,
            operation: rest,
        })
    }

    /// Finds the envelope's shape first (inline for the canonical one, out of line for
    /// any other), then decodes its header once, with the header's own fast and general
    /// paths; several headers are merged out of line. Only the header is built here, so
    /// that it can stay in registers on its way out: a path that returned a whole
    /// envelope from a call would bring it back through memory.
    #[inline(always)]
    fn decode_at_depth(r: Reader<'a>, depth: u32) -> Result<Self, DecodeError> {
        let shape = match split_canonical(r.clone(), depth, H::ENVELOPE) {
            Some((first, rest)) => Shape {
                first,
                operation: rest,
                merged: false,
            },
            None => match shape(r.clone(), depth, H::ENVELOPE) {
                Ok(shape) => shape,
                Err(e) => return Err(first_error::<H>(r, depth, e).in_message(H::ENVELOPE)),
            },
        };
        let mut envelope = Envelope {
            header: None,
            operation: shape.operation,
        };
        if let Some(body) = shape.first {
            envelope.header = Some(if shape.merged {
                merge_headers::<H>(r.clone(), depth).map_err(|e| e.in_message(H::ENVELOPE))?
            } else {
                H::decode_at_depth(body, depth - 1)
                    .map_err(|e| e.in_field(HEADER_NUMBER).in_message(H::ENVELOPE))?
            });
        }
        #[cfg(debug_assertions)]
        match Self::decode_any(r, depth) {
            Ok(other) if envelope.same_repr(&other) => {}
            other => panic!("the fast path decoded {envelope:?}, the general path {other:?}"),
        }
        Ok(envelope)
    }

    /// The reference: every field in arrival order, each header decoded or merged as it
    /// comes, so that the first malformation met is the one reported.
    #[inline(never)]
    fn decode_any(mut r: Reader<'a>, depth: u32) -> Result<Self, DecodeError> {
        let data = r.data();
        let mut rest = Tracker::default();
        let mut header = None;
        // The first occurrence's body, kept to be merged again if a second one comes.
        let mut first = None;
        let mut merge = None;
        let (mut span_start, mut span_end) = (0, 0);
        while r.has_remaining() {
            let start = r.pos();
            let tag = r.tag()?;
            if tag != HEADER {
                r.skip(tag, start, depth)?;
                rest.add(start, r.pos());
                continue;
            }
            let body = r.message_field(HEADER_NUMBER, depth)?;
            let at_field = |e: DecodeError| e.in_field(HEADER_NUMBER);
            match (&mut merge, first.take()) {
                (None, None) => {
                    span_start = start;
                    header = Some(H::decode_at_depth(body.clone(), depth - 1).map_err(at_field)?);
                    first = Some(body);
                }
                (None, Some(first)) => {
                    let mut m = H::Merger::default();
                    H::merge(&mut m, first, depth - 1).map_err(at_field)?;
                    H::merge(&mut m, body, depth - 1).map_err(at_field)?;
                    merge = Some(m);
                }
                (Some(m), _) => H::merge(m, body, depth - 1).map_err(at_field)?,
            }
            span_end = r.pos();
        }
        if let Some(m) = merge {
            header = Some(H::finish_merged(
                m,
                &data[span_start..span_end],
                HEADER as u8,
            ));
        }
        Ok(Envelope {
            header,
            operation: rest.finish(data, H::ENVELOPE, depth),
        })
    }

    #[cfg(debug_assertions)]
    fn same_repr(&self, other: &Self) -> bool {
        let headers = match (&self.header, &other.header) {
            (Some(header), Some(other)) => header.same_repr(other),
            (None, None) => true,
            _ => false,
        };
        headers && self.operation.same_repr(&other.operation)
    }

    #[inline(always)]
    fn fits(&self, depth: u32) -> bool {
        self.operation.fit(H::ENVELOPE, depth)
            && self
                .header
                .as_ref()
                .is_none_or(|header| header.fits(depth.saturating_sub(1)))
    }

    #[inline(always)]
    fn max_encoded_len(&self) -> usize {
        let header = match &self.header {
            Some(header) => size::bytes_max(header.max_encoded_len()),
            None => 0,
        };
        header.saturating_add(self.operation.encoded_len())
    }

    #[inline]
    fn write<S: Sink>(&self, sink: &mut S) {
        if let Some(header) = &self.header {
            sink.put_tag(HEADER);
            sink.put_varint(header.encoded_len() as u64);
            header.write(sink);
        }
        self.operation.write(sink);
    }
}

/// Where an envelope's parts are: the first header's body, the other fields, and
/// whether more headers follow.
struct Shape<'a> {
    first: Option<Reader<'a>>,
    operation: UnknownFields<'a>,
    merged: bool,
}

/// The shape of any envelope, every field checked but the headers' bodies.
#[inline(never)]
fn shape<'a>(mut r: Reader<'a>, depth: u32, ty: MessageType) -> Result<Shape<'a>, DecodeError> {
    let data = r.data();
    let mut rest = Tracker::default();
    let (mut first, mut merged) = (None, false);
    while r.has_remaining() {
        let start = r.pos();
        let tag = r.tag()?;
        if tag == HEADER {
            let body = r.message_field(HEADER_NUMBER, depth)?;
            match first {
                None => first = Some(body),
                Some(_) => merged = true,
            }
        } else {
            r.skip(tag, start, depth)?;
            rest.add(start, r.pos());
        }
    }
    Ok(Shape {
        first,
        operation: rest.finish(data, ty, depth),
        merged,
    })
}

/// The header merged from every occurrence in envelope `r`, whose other fields are
/// known to be well formed.
#[inline(never)]
fn merge_headers<'a, H: Merge<'a>>(mut r: Reader<'a>, depth: u32) -> Result<H, DecodeError> {
    let data = r.data();
    let mut merger = H::Merger::default();
    let (mut span_start, mut span_end) = (None, 0);
    while r.has_remaining() {
        let start = r.pos();
        let tag = r.tag()?;
        if tag != HEADER {
            r.skip(tag, start, depth)?;
            continue;
        }
        let body = r.message_field(HEADER_NUMBER, depth)?;
        H::merge(&mut merger, body, depth - 1).map_err(|e| e.in_field(HEADER_NUMBER))?;
        span_start.get_or_insert(start);
        span_end = r.pos();
    }
    let span = data
        .get(span_start.unwrap_or(0)..span_end)
        .unwrap_or_default();
    Ok(H::finish_merged(merger, span, HEADER as u8))
}

/// The first malformation of envelope `r` in arrival order, which a header's body may
/// hold before the envelope-level error `found`.
#[cold]
#[inline(never)]
fn first_error<'a, H: Merge<'a>>(r: Reader<'a>, depth: u32, found: DecodeError) -> DecodeError {
    Envelope::<'a, H>::decode_any(r, depth)
        .err()
        .unwrap_or(found)
}

/// The canonical shape: the body of a first field-1 header, if any, and the rest of the
/// fields, checked, when none of them is another header. `None` on anything else.
#[inline(always)]
fn split_canonical<'a>(
    mut r: Reader<'a>,
    depth: u32,
    ty: MessageType,
) -> Option<(Option<Reader<'a>>, UnknownFields<'a>)> {
    // The header needs a level of depth (the general path reports its absence).
    depth.checked_sub(1)?;
    let header = if r.next_is(HEADER) {
        Some(r.try_length_delimited()?)
    } else {
        None
    };
    let rest = r.rest_unknown_inline(|tag| tag == HEADER, depth)?;
    Some((header, UnknownFields::contiguous(rest, ty, depth)))
}

impl<'a, H: Merge<'a>> Message<'a> for Envelope<'a, H> {
    #[inline]
    fn encoded_len(&self) -> usize {
        let header = match &self.header {
            Some(header) => size::bytes(header.encoded_len()),
            None => 0,
        };
        header + self.operation.encoded_len()
    }
}

impl<'a> Merge<'a> for RequestHeader<'a> {
    const ENVELOPE: MessageType = MessageType::RequestEnvelope;
    type Merger = request::Merge<'a>;

    fn merge(merger: &mut Self::Merger, body: Reader<'a>, depth: u32) -> Result<(), DecodeError> {
        merger.add(body, depth)
    }

    fn finish_merged(merger: Self::Merger, span: &'a [u8], outer: u8) -> Self {
        merger.finish_merged(span, outer)
    }
}

impl<'a> Merge<'a> for ResponseHeader<'a> {
    const ENVELOPE: MessageType = MessageType::ResponseEnvelope;
    type Merger = response::Merge<'a>;

    fn merge(merger: &mut Self::Merger, body: Reader<'a>, depth: u32) -> Result<(), DecodeError> {
        merger.add(body, depth)
    }

    fn finish_merged(merger: Self::Merger, span: &'a [u8], outer: u8) -> Self {
        merger.finish_merged(span, outer)
    }
}

impl<'a, H: Merge<'a>> crate::unknown::private::Known for Envelope<'a, H> {
    fn kind() -> MessageType {
        H::ENVELOPE
    }
}

mod splice;
pub use splice::{RequestStamp, ResponseStamp, Stampable};

#[cfg(test)]
mod splice_tests;
#[cfg(test)]
mod tests;
