//! `atomix.headers.StreamHeader`, and [`Streams`], the repeated `streams` field of a
//! RequestHeader, readable without allocating.

use super::{sealed::Sealed, Message};
use crate::error::DecodeError;
use crate::unknown::{Kind, Tracker, UnknownFields};
use crate::wire::reader::{tag, RawFields, Reader, LEN, VARINT};
use crate::wire::sink::Sink;
use crate::wire::size;
use core::fmt;

const STREAM_ID: u32 = tag(1, VARINT);
const RESPONSE_ID: u32 = tag(2, VARINT);

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
    /// Field 1.
    pub stream_id: u64,
    /// Field 2.
    pub response_id: u64,
    /// Fields this schema does not know, kept byte for byte.
    pub unknown_fields: UnknownFields<'a>,
}

impl<'a> StreamHeader<'a> {
    /// Decodes a body and tells whether its bytes are already its canonical encoding:
    /// known fields once each, in order, minimal and non-zero, unknown fields last.
    #[inline(always)]
    fn decode_checked(mut r: Reader<'a>, depth: u32) -> Result<(Self, bool), DecodeError> {
        let mut stream = StreamHeader::default();
        let mut unknown = Tracker::default();
        // Rank of the last field read: known fields must rise, unknown ones come last.
        let mut last = 0u32;
        let mut ordered = true;
        while r.has_remaining() {
            let start = r.pos();
            let tag = r.tag()?;
            let rank = match tag {
                STREAM_ID => {
                    stream.stream_id = r.varint_field(1)?;
                    tag
                }
                RESPONSE_ID => {
                    stream.response_id = r.varint_field(2)?;
                    tag
                }
                other => {
                    r.skip(other, start, depth)?;
                    unknown.add(start, r.pos());
                    u32::MAX
                }
            };
            ordered &= rank > last || rank == u32::MAX;
            last = rank;
        }
        stream.unknown_fields = unknown.finish(r.data(), Kind::Stream);
        let canonical = ordered && r.data().len() == stream.encoded_len();
        Ok((stream, canonical))
    }
}

impl<'a> Sealed<'a> for StreamHeader<'a> {
    #[inline]
    fn decode_body(reader: Reader<'a>, depth: u32) -> Result<Self, DecodeError> {
        Self::decode_checked(reader, depth).map(|(stream, _)| stream)
    }

    #[inline]
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.put_uint64_field(STREAM_ID, self.stream_id);
        sink.put_uint64_field(RESPONSE_ID, self.response_id);
        self.unknown_fields.write(sink);
    }
}

impl<'a> Message<'a> for StreamHeader<'a> {
    #[inline]
    fn encoded_len(&self) -> usize {
        size::uint64(self.stream_id) + size::uint64(self.response_id) + self.unknown_fields.len()
    }
}

pub(crate) const STREAMS: u32 = tag(5, LEN);

/// The `streams` of a RequestHeader: either still in the decoded input, read one by one
/// on iteration, or a slice given by the caller.
///
/// ```
/// use atomix_headers::{Message, RequestHeader, StreamHeader, Streams};
///
/// let streams = [StreamHeader { stream_id: 4, ..Default::default() }];
/// let request = RequestHeader { streams: Streams::from_slice(&streams), ..Default::default() };
/// let bytes = request.encode_to_vec();
/// let decoded = RequestHeader::decode(&bytes)?;
/// assert_eq!(decoded.streams.len(), 1);
/// assert_eq!(decoded.streams.iter().next().unwrap().stream_id, 4);
/// # Ok::<(), atomix_headers::DecodeError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Streams<'a> {
    repr: Repr<'a>,
}

#[derive(Clone, Copy)]
enum Repr<'a> {
    /// A run of RequestHeader fields holding every `streams` occurrence, already checked.
    Wire {
        src: &'a [u8],
        count: usize,
        /// Canonical size of all the occurrences, tags and prefixes included.
        encoded_len: usize,
        /// Whether `src` is exactly that canonical encoding, so it can be copied as is.
        canonical: bool,
    },
    Slice(&'a [StreamHeader<'a>]),
}

impl Default for Streams<'_> {
    fn default() -> Self {
        Self::from_slice(&[])
    }
}

impl<'a> Streams<'a> {
    /// Streams given by the caller, encoded in slice order.
    pub const fn from_slice(streams: &'a [StreamHeader<'a>]) -> Self {
        Self {
            repr: Repr::Slice(streams),
        }
    }

    /// Number of streams.
    pub fn len(&self) -> usize {
        match self.repr {
            Repr::Wire { count, .. } => count,
            Repr::Slice(slice) => slice.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The streams in order. Streams still in the input are decoded on the way; they were
    /// checked when the RequestHeader was decoded, so the iterator cannot fail.
    pub fn iter(&self) -> StreamsIter<'a> {
        StreamsIter {
            inner: match self.repr {
                Repr::Wire { src, count, .. } => IterRepr::Wire {
                    fields: RawFields::new(src),
                    left: count,
                },
                Repr::Slice(slice) => IterRepr::Slice(slice.iter()),
            },
        }
    }

    /// Bytes the streams take in a RequestHeader, tags and length prefixes included.
    #[inline]
    pub(crate) fn encoded_len(&self) -> usize {
        match self.repr {
            Repr::Wire { encoded_len, .. } => encoded_len,
            Repr::Slice(slice) => slice.iter().map(|s| size::bytes(s.encoded_len())).sum(),
        }
    }

    #[inline]
    pub(crate) fn write<S: Sink>(&self, sink: &mut S) {
        if let Repr::Wire {
            src,
            canonical: true,
            ..
        } = self.repr
        {
            sink.put(src);
            return;
        }
        for stream in self.iter() {
            sink.put_tag(STREAMS);
            sink.put_varint(stream.encoded_len() as u64);
            stream.write(sink);
        }
    }
}

impl<'a> From<&'a [StreamHeader<'a>]> for Streams<'a> {
    fn from(streams: &'a [StreamHeader<'a>]) -> Self {
        Self::from_slice(streams)
    }
}

impl<'a, const N: usize> From<&'a [StreamHeader<'a>; N]> for Streams<'a> {
    fn from(streams: &'a [StreamHeader<'a>; N]) -> Self {
        Self::from_slice(streams)
    }
}

impl<'a> IntoIterator for &Streams<'a> {
    type Item = StreamHeader<'a>;
    type IntoIter = StreamsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for Streams<'_> {
    /// Equal when they hold equal streams in the same order, wherever they live.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Streams<'_> {}

impl fmt::Debug for Streams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Collects the `streams` occurrences while a RequestHeader is decoded.
#[derive(Default)]
pub(crate) struct StreamsTracker {
    start: usize,
    end: usize,
    count: usize,
    encoded_len: usize,
    canonical: bool,
}

impl StreamsTracker {
    /// Checks one occurrence whose field spans `start..reader.pos()` of the parent.
    #[inline(always)]
    pub(crate) fn add<'a>(
        &mut self,
        body: Reader<'a>,
        depth: u32,
        start: usize,
        end: usize,
    ) -> Result<(), DecodeError> {
        let (stream, canonical) =
            StreamHeader::decode_checked(body, depth).map_err(|e| e.in_field(5))?;
        if self.count == 0 {
            self.start = start;
            self.canonical = true;
        }
        self.count += 1;
        self.end = end;
        let len = stream.encoded_len();
        self.encoded_len += size::bytes(len);
        self.canonical &= canonical;
        Ok(())
    }

    #[inline(always)]
    pub(crate) fn finish(self, data: &[u8]) -> Streams<'_> {
        if self.count == 0 {
            return Streams::default();
        }
        let src = &data[self.start..self.end];
        Streams {
            repr: Repr::Wire {
                src,
                count: self.count,
                encoded_len: self.encoded_len,
                canonical: self.canonical && src.len() == self.encoded_len,
            },
        }
    }
}

/// Iterator over [`Streams`].
#[derive(Clone, Debug)]
pub struct StreamsIter<'a> {
    inner: IterRepr<'a>,
}

#[derive(Clone, Debug)]
enum IterRepr<'a> {
    Wire { fields: RawFields<'a>, left: usize },
    Slice(core::slice::Iter<'a, StreamHeader<'a>>),
}

impl<'a> Iterator for StreamsIter<'a> {
    type Item = StreamHeader<'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterRepr::Slice(iter) => iter.next().copied(),
            IterRepr::Wire { fields, left } => {
                let (_, _, body) = fields.find(|(tag, _, _)| *tag == STREAMS)?;
                *left = left.saturating_sub(1);
                StreamHeader::decode_body(
                    Reader::new(body, 0),
                    crate::wire::reader::RECURSION_LIMIT,
                )
                .ok()
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = match &self.inner {
            IterRepr::Slice(iter) => iter.len(),
            IterRepr::Wire { left, .. } => *left,
        };
        (left, Some(left))
    }
}

impl ExactSizeIterator for StreamsIter<'_> {}
impl core::iter::FusedIterator for StreamsIter<'_> {}
