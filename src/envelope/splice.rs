//! Stamping a few varint fields of an envelope's header, copying everything else as it
//! came: the header's other fields and the operation's, so that what a proxy read goes
//! on with only those bytes changed.

use super::{Envelope, HEADER};
use crate::enums::ResponseType;
use crate::error::EncodeError;
use crate::message::request::RequestHeader;
use crate::message::response::ResponseHeader;
use crate::message::Message;
use crate::wire::varint;
use crate::wire::varint::encoded_len as varint_len;
use bytes::BufMut;

/// `RequestHeader` fields to set in [`Envelope::splice`]: `None` leaves a field as it
/// came.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestStamp {
    /// Field 2.
    pub session_id: Option<u64>,
    /// Field 3.
    pub request_id: Option<u64>,
    /// Field 4.
    pub index: Option<u64>,
}

/// `ResponseHeader` fields to set in [`Envelope::splice`]: `None` leaves a field as it
/// came.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResponseStamp {
    /// Field 1.
    pub session_id: Option<u64>,
    /// Field 2.
    pub stream_id: Option<u64>,
    /// Field 3.
    pub response_id: Option<u64>,
    /// Field 4.
    pub index: Option<u64>,
    /// Field 7.
    pub r#type: Option<ResponseType>,
}

/// A header type whose varint fields can be stamped.
pub trait Stampable<'a>: Message<'a> + Default + Copy {
    /// The stamp of this header type.
    type Stamp: Copy;
    /// The header's singular fields as `(number, wire type)`, in number order: a
    /// canonical encoding holds each at most once, in this order, then the repeated
    /// and the unknown fields.
    const LAYOUT: &'static [(u32, u8)];
    /// The value the stamp sets for each field of `LAYOUT`, by position.
    fn values(stamp: &Self::Stamp) -> [Option<u64>; 8];
    /// Sets the stamp's fields on a decoded header.
    fn apply(&mut self, stamp: &Self::Stamp);
}

impl<'a> Stampable<'a> for RequestHeader<'a> {
    type Stamp = RequestStamp;
    const LAYOUT: &'static [(u32, u8)] = &[(1, 2), (2, 0), (3, 0), (4, 0)];
    fn values(s: &RequestStamp) -> [Option<u64>; 8] {
        [
            None,
            s.session_id,
            s.request_id,
            s.index,
            None,
            None,
            None,
            None,
        ]
    }
    fn apply(&mut self, s: &RequestStamp) {
        if let Some(v) = s.session_id {
            self.session_id = v;
        }
        if let Some(v) = s.request_id {
            self.request_id = v;
        }
        if let Some(v) = s.index {
            self.index = v;
        }
    }
}

impl<'a> Stampable<'a> for ResponseHeader<'a> {
    type Stamp = ResponseStamp;
    const LAYOUT: &'static [(u32, u8)] = &[(1, 0), (2, 0), (3, 0), (4, 0), (5, 2), (6, 0), (7, 0)];
    fn values(s: &ResponseStamp) -> [Option<u64>; 8] {
        [
            s.session_id,
            s.stream_id,
            s.response_id,
            s.index,
            None,
            None,
            // An enum is an int32: a negative one is sign-extended to ten bytes.
            s.r#type.map(|t| i64::from(t.value()) as u64),
            None,
        ]
    }
    fn apply(&mut self, s: &ResponseStamp) {
        if let Some(v) = s.session_id {
            self.session_id = v;
        }
        if let Some(v) = s.stream_id {
            self.stream_id = v;
        }
        if let Some(v) = s.response_id {
            self.response_id = v;
        }
        if let Some(v) = s.index {
            self.index = v;
        }
        if let Some(v) = s.r#type {
            self.r#type = v;
        }
    }
}

/// One field of the source header: its number, wire type and bytes.
#[derive(Clone, Copy, Default)]
struct Field {
    number: u32,
    wire_type: u8,
    start: usize,
    end: usize,
}

/// The next field of `buf` at `at`; `None` for anything that is not a well-formed
/// field (then the splice is not taken).
#[inline]
fn next_field(buf: &[u8], at: usize) -> Option<Field> {
    let (tag, n) = match *buf.get(at)? {
        b @ 0..0x80 => (u64::from(b), 1),
        _ => varint::decode(&buf[at..], 5).ok()?,
    };
    let body = at + n;
    let end = match tag & 7 {
        0 => {
            body + varint::decode(buf.get(body..)?, varint::MAX_VARINT_LEN)
                .ok()?
                .1
        }
        1 => body + 8,
        2 => {
            let (len, m) = match *buf.get(body)? {
                b @ 0..0x80 => (u64::from(b), 1),
                _ => varint::decode(&buf[body..], 5).ok()?,
            };
            body + m + usize::try_from(len).ok()?
        }
        5 => body + 4,
        _ => return None,
    };
    (end <= buf.len()).then_some(Field {
        number: (tag >> 3) as u32,
        wire_type: (tag & 7) as u8,
        start: at,
        end,
    })
}

/// A varint's bytes, written into `out` at `at`; the new end.
fn put_varint_at(out: &mut [u8], mut at: usize, v: u64) -> usize {
    varint::encode(v, |b| {
        out[at] = b;
        at += 1;
    });
    at
}

/// A splice's layout in the source: each `LAYOUT` field's bytes (empty when absent),
/// where the rest of the header (its repeated and unknown fields) starts, and the new
/// header's and the output's lengths.
struct Plan {
    spans: [(usize, usize); 8],
    tail: usize,
    header: usize,
    total: usize,
}

impl<'a, H: Stampable<'a> + super::Merge<'a>> Envelope<'a, H> {
    /// Writes this envelope, as decoded from `source`, with the header fields `stamp`
    /// sets changed and everything else copied from `source` as it came: the header's
    /// other fields and the operation's. Only the stamped fields are encoded.
    ///
    /// It is for a writer that keeps what it read: a non-canonical source keeps its
    /// other fields' order and bytes. It is not faster than [`Message::encode`] on
    /// the headers Atomix clients write, which the encoder writes from the decoded
    /// values while the splice reads the header's fields again.
    ///
    /// `source` must be the bytes this envelope was decoded from, and the header is
    /// written as it came there: changes made to `self` are not (set them in the
    /// stamp). The result decodes to what decoding `source`, setting the fields and
    /// encoding would give; when `source` is canonical (as this crate, upb or prost
    /// writes it), it is those bytes. A source whose header is not its first field,
    /// or comes more than once, is encoded instead, with the same result.
    ///
    /// ```
    /// use atomix_headers::{Message, RequestEnvelope, RequestStamp};
    ///
    /// // map.PutRequest { header { name { name: "m" } session_id: 7 request_id: 3 } key: "k" }
    /// let source = b"\x0a\x09\x0a\x03\x0a\x01m\x10\x07\x18\x03\x12\x01k";
    /// let request = RequestEnvelope::decode(source)?;
    /// let stamp = RequestStamp { session_id: Some(20), request_id: Some(1), index: Some(300) };
    /// let mut out = Vec::new();
    /// request.splice(source, &stamp, &mut out)?;
    /// assert_eq!(out, b"\x0a\x0c\x0a\x03\x0a\x01m\x10\x14\x18\x01\x20\xac\x02\x12\x01k");
    ///
    /// // The same bytes as setting the fields and encoding.
    /// let mut stamped = request;
    /// let header = stamped.header.as_mut().unwrap();
    /// (header.session_id, header.request_id, header.index) = (20, 1, 300);
    /// assert_eq!(out, stamped.encode_to_vec()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn splice<B: BufMut>(
        &self,
        source: &[u8],
        stamp: &H::Stamp,
        out: &mut B,
    ) -> Result<(), EncodeError> {
        match self.splice_plan(source, stamp) {
            Some(plan) => {
                if out.remaining_mut() < plan.total {
                    return Err(EncodeError::new(plan.total, out.remaining_mut()));
                }
                write_plan::<H, B>(source, &plan, stamp, out);
                Ok(())
            }
            None => {
                let mut stamped = *self;
                stamped.header.get_or_insert_default().apply(stamp);
                // Through `dyn BufMut`: a caller of its own, so that a program's own
                // `encode` into the same buffer type keeps the inlining it had.
                let out: &mut dyn BufMut = out;
                stamped.encode(&mut &mut *out)
            }
        }
    }

    /// Where the header's fields and the operation lie in `source`; `None` when the
    /// splice cannot be taken. Reads only the header's singular fields where a
    /// canonical encoding has them, then walks what follows them (usually nothing).
    fn splice_plan(&self, source: &[u8], stamp: &H::Stamp) -> Option<Plan> {
        self.header.as_ref()?;
        let head = next_field(source, 0)?;
        if head.number != HEADER >> 3 || head.wire_type != 2 {
            return None;
        }
        let rest = &source[head.end..];
        // The operation must be all of the rest, in one run: no second header.
        match self.operation.as_contiguous() {
            Some(op) if core::ptr::eq(op, rest) => {}
            None if self.operation.is_empty() && rest.is_empty() => {}
            _ => return None,
        }
        let body = source[1..].iter().position(|b| b & 0x80 == 0)? + 2;
        let header = &source[..head.end];
        let values = H::values(stamp);
        let mut spans = [(0, 0); 8];
        let mut at = body;
        let mut len = 0;
        for (k, &(number, wire_type)) in H::LAYOUT.iter().enumerate() {
            if let Some(f) =
                next_field(header, at).filter(|f| f.number == number && f.wire_type == wire_type)
            {
                spans[k] = (f.start, f.end);
                at = f.end;
            }
            len += match values[k] {
                Some(0) => 0,
                Some(v) => varint_len(u64::from(number) << 3) + varint_len(v),
                None => spans[k].1 - spans[k].0,
            };
        }
        // What follows must not set a stamped field again (a later occurrence wins).
        let tail = at;
        while at < head.end {
            let f = next_field(header, at)?;
            let stamped = f.wire_type == 0
                && H::LAYOUT
                    .iter()
                    .zip(&values)
                    .any(|(&(n, _), v)| n == f.number && v.is_some());
            if stamped {
                return None;
            }
            at = f.end;
        }
        len += head.end - tail;
        Some(Plan {
            spans,
            tail,
            header: len,
            total: 1 + varint_len(len as u64) + len + rest.len(),
        })
    }
}

/// Writes the header's tag and length, its singular fields (stamped or copied), the
/// rest of the header as it came, then the operation.
fn write_plan<'a, H: Stampable<'a>, B: BufMut>(
    source: &[u8],
    plan: &Plan,
    stamp: &H::Stamp,
    out: &mut B,
) {
    let mut buf = [0u8; 6 + 8 * 11];
    buf[0] = HEADER as u8;
    let mut n = put_varint_at(&mut buf, 1, plan.header as u64);
    let values = H::values(stamp);
    // Adjacent copies and stamps gather in `buf` until a copy needs the source.
    for (k, &(number, _)) in H::LAYOUT.iter().enumerate() {
        match values[k] {
            Some(0) => {}
            Some(v) => {
                n = put_varint_at(&mut buf, n, u64::from(number) << 3);
                n = put_varint_at(&mut buf, n, v);
            }
            None => {
                let (start, end) = plan.spans[k];
                if end > start {
                    out.put_slice(&buf[..n]);
                    n = 0;
                    out.put_slice(&source[start..end]);
                }
            }
        }
    }
    out.put_slice(&buf[..n]);
    out.put_slice(&source[plan.tail..]);
}
