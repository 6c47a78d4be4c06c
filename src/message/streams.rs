//! [`Streams`], the repeated `streams` field of a RequestHeader: held where it lies in the
//! input (or in a caller's slice), readable without allocating; its iterator; and the
//! tracker that collects it while a RequestHeader is decoded.

use super::stream::{self, StreamHeader};
use super::{sealed::Sealed, Message};
use crate::error::DecodeError;
use crate::wire::fields::{NestedFields, Path};
use crate::wire::reader::{Reader, RECURSION_LIMIT};
use crate::wire::sink::Sink;
use crate::wire::size;
use core::fmt;

pub(crate) const STREAMS: u32 = super::request::tag::streams;

/// Streams a decoded RequestHeader keeps ready, without re-reading the input, when they
/// carry no unknown fields.
const CACHED: usize = 4;

/// The `streams` of a RequestHeader: either still in the decoded input, or a slice
/// given by the caller.
///
/// ```
/// use atomix_headers::{Message, RequestHeader, StreamHeader, Streams};
///
/// let streams = [StreamHeader { stream_id: 4, ..Default::default() }];
/// let request = RequestHeader { streams: Streams::from_slice(&streams), ..Default::default() };
/// let bytes = request.encode_to_vec()?;
/// let decoded = RequestHeader::decode(&bytes)?;
/// assert_eq!(decoded.streams.len(), 1);
/// assert_eq!(decoded.streams.iter().next().unwrap().stream_id, 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct Streams<'a> {
    repr: Repr<'a>,
}

#[derive(Clone, Copy)]
enum Repr<'a> {
    /// Up to [`CACHED`] decoded streams without unknown fields, and the run of
    /// RequestHeader fields that held them.
    Cached {
        ids: [stream::Values<'a>; CACHED],
        count: u8,
        src: &'a [u8],
        canonical: bool,
    },
    /// A run of RequestHeader fields holding every `streams` occurrence, already checked;
    /// `lookahead` is `src` and the rest of the input.
    Wire {
        src: &'a [u8],
        lookahead: &'a [u8],
        count: usize,
        /// Whether `src` is exactly the canonical encoding of the streams, so that it can
        /// be copied as is and its length is their encoded length.
        canonical: bool,
        /// The recursion depth left where the streams' unknown fields were checked; 0
        /// when they have none.
        depth: u8,
    },
    /// The streams of a RequestHeader field that occurred several times in its
    /// enclosing message and merged: `src` is a run of the enclosing message's fields,
    /// the streams lie in the bodies of those tagged `outer`. Already checked.
    Merged {
        src: &'a [u8],
        outer: u8,
        count: usize,
        depth: u8,
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
            Repr::Cached { count, .. } => usize::from(count),
            Repr::Wire { count, .. } | Repr::Merged { count, .. } => count,
            Repr::Slice(slice) => slice.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The streams in order. Streams still in the input were checked when the
    /// RequestHeader was decoded, so the iterator cannot fail.
    pub fn iter(&self) -> StreamsIter<'a> {
        StreamsIter {
            inner: match self.repr {
                Repr::Cached { ids, count, .. } => IterRepr::Cached {
                    ids,
                    next: 0,
                    count,
                },
                // Canonical streams without unknown fields: each is `2a len body`, and
                // the body holds the ids alone.
                Repr::Wire {
                    src,
                    lookahead,
                    count,
                    canonical: true,
                    depth: 0,
                } => IterRepr::Exact {
                    streams: Reader::with_lookahead(src, lookahead, 0),
                    left: count,
                },
                Repr::Wire {
                    src,
                    lookahead,
                    count,
                    ..
                } => IterRepr::Wire {
                    reader: Reader::with_lookahead(src, lookahead, 0),
                    left: count,
                },
                Repr::Merged {
                    src, outer, count, ..
                } => IterRepr::Merged {
                    fields: NestedFields::new(src, Path::within(outer)),
                    left: count,
                },
                Repr::Slice(slice) => IterRepr::Slice(slice.iter()),
            },
        }
    }

    /// The run of input holding the streams, when it is already their canonical encoding.
    #[inline(always)]
    fn canonical_src(&self) -> Option<&'a [u8]> {
        match self.repr {
            Repr::Cached {
                src,
                canonical: true,
                ..
            }
            | Repr::Wire {
                src,
                canonical: true,
                ..
            } => Some(src),
            _ => None,
        }
    }

    /// Bytes the streams take in a RequestHeader, tags and length prefixes included.
    /// Streams copied from the input know it without a call; the sum over each stream
    /// stays out of line.
    #[inline(always)]
    pub(crate) fn encoded_len(&self) -> usize {
        if let Repr::Slice(slice) = self.repr {
            return slice.iter().map(stream_field_len).sum();
        }
        match self.canonical_src() {
            Some(src) => src.len(),
            None => self.summed_len(),
        }
    }

    /// At least [`Streams::encoded_len`], cheaper for streams in a slice: each stream
    /// counted at its largest, a tag, a 10-byte length and two 11-byte fields, plus its
    /// unknown fields.
    #[inline(always)]
    pub(crate) fn max_encoded_len(&self) -> usize {
        match self.repr {
            Repr::Slice(slice) => slice.iter().fold(0usize, |bound, s| {
                bound.saturating_add(s.unknown_fields.encoded_len().saturating_add(33))
            }),
            _ => self.encoded_len(),
        }
    }

    /// Whether every stream's unknown fields can be encoded in streams with `depth`
    /// levels of recursion left (see `UnknownFields::fit`).
    #[inline(always)]
    pub(crate) fn fit(&self, depth: u32) -> bool {
        match self.repr {
            Repr::Cached { .. } => true,
            Repr::Slice(slice) => slice.iter().all(|stream| stream.fits(depth)),
            Repr::Wire { depth: checked, .. } | Repr::Merged { depth: checked, .. }
                if u32::from(checked) <= depth =>
            {
                true
            }
            _ => self.fit_again(depth),
        }
    }

    #[cold]
    #[inline(never)]
    fn fit_again(&self, depth: u32) -> bool {
        self.iter().all(|stream| stream.fits(depth))
    }

    #[inline(never)]
    fn summed_len(&self) -> usize {
        self.iter().map(|s| stream_field_len(&s)).sum()
    }

    #[inline]
    pub(crate) fn write<S: Sink>(&self, sink: &mut S) {
        if let Some(src) = self.canonical_src() {
            sink.put(src);
            return;
        }
        if let Repr::Slice(slice) = self.repr {
            slice.iter().for_each(|stream| write_stream(stream, sink));
            return;
        }
        self.iter().for_each(|stream| write_stream(&stream, sink));
    }
}

/// The bytes one stream takes in a RequestHeader: its tag, length and body.
#[inline(always)]
fn stream_field_len(stream: &StreamHeader<'_>) -> usize {
    size::bytes(stream.encoded_len())
}

/// One stream as a field of a RequestHeader.
#[inline(always)]
fn write_stream<S: Sink>(stream: &StreamHeader<'_>, sink: &mut S) {
    sink.put_tag(STREAMS);
    sink.put_varint(stream.encoded_len() as u64);
    stream.write(sink);
}

impl Streams<'_> {
    /// Whether both are held the same way over the same bytes of the input.
    #[cfg(debug_assertions)]
    pub(crate) fn same_repr(&self, other: &Self) -> bool {
        use core::ptr::eq;
        match (self.repr, other.repr) {
            (
                Repr::Cached {
                    ids,
                    count,
                    src,
                    canonical,
                },
                Repr::Cached {
                    ids: ids2,
                    count: count2,
                    src: src2,
                    canonical: canonical2,
                },
            ) => ids == ids2 && count == count2 && eq(src, src2) && canonical == canonical2,
            (
                Repr::Wire {
                    src,
                    lookahead,
                    count,
                    canonical,
                    depth,
                },
                Repr::Wire {
                    src: src2,
                    lookahead: lookahead2,
                    count: count2,
                    canonical: canonical2,
                    depth: depth2,
                },
            ) => {
                eq(src, src2)
                    && eq(lookahead, lookahead2)
                    && count == count2
                    && canonical == canonical2
                    && depth == depth2
            }
            (Repr::Slice(slice), Repr::Slice(slice2)) => eq(slice, slice2),
            (
                Repr::Merged {
                    src,
                    outer,
                    count,
                    depth,
                },
                Repr::Merged {
                    src: src2,
                    outer: outer2,
                    count: count2,
                    depth: depth2,
                },
            ) => eq(src, src2) && outer == outer2 && count == count2 && depth == depth2,
            _ => false,
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
pub(crate) struct StreamsTracker<'a> {
    start: usize,
    end: usize,
    count: usize,
    /// Bytes of the occurrences themselves, to tell whether other fields came between.
    raw_len: usize,
    canonical: bool,
    cacheable: bool,
    ids: [stream::Values<'a>; CACHED],
    /// The recursion depth left in each occurrence.
    depth: u32,
}

impl<'a> StreamsTracker<'a> {
    /// Checks one occurrence: its field spans `start..end` of the parent, its body is
    /// `body`.
    #[inline(always)]
    pub(crate) fn add(
        &mut self,
        body: Reader<'a>,
        depth: u32,
        number: u32,
        start: usize,
        end: usize,
    ) -> Result<(), DecodeError> {
        self.depth = depth;
        let body_len = body.data().len();
        let (stream, canonical) = StreamHeader::decode_noting_canonical(body, depth)
            .map_err(|e| e.in_element(number, self.count))?;
        self.record(stream.values(), start, end);
        // The one-byte tag and a minimal length prefix make the occurrence canonical too.
        self.canonical &= canonical && end - start == size::bytes(body_len);
        self.cacheable &= stream.unknown_fields.is_empty();
        Ok(())
    }

    /// Reads one occurrence, spanning `start..` of the parent, on the fast path: it must
    /// be a canonical stream without unknown fields, with a one-byte length prefix.
    /// `KEEP`: whether its ids are kept (the first [`CACHED`] streams), or only
    /// checked.
    #[inline(always)]
    pub(crate) fn add_exact<const KEEP: bool>(
        &mut self,
        parent: &mut Reader<'a>,
        start: usize,
    ) -> Option<()> {
        let body = parent.try_length_delimited()?;
        let body_len = body.data().len();
        let ids = if KEEP {
            StreamHeader::fast_values(body)?
        } else {
            StreamHeader::fast_check(body)?;
            stream::Values::default()
        };
        let end = parent.pos();
        if end - start != body_len + 2 {
            return None;
        }
        self.record(ids, start, end);
        Some(())
    }

    /// Whether as many streams as are kept have been read.
    #[inline(always)]
    pub(crate) fn is_full(&self) -> bool {
        self.count >= CACHED
    }

    #[inline(always)]
    fn record(&mut self, ids: stream::Values<'a>, start: usize, end: usize) {
        if self.count == 0 {
            self.start = start;
            self.canonical = true;
            self.cacheable = true;
        }
        if let Some(slot) = self.ids.get_mut(self.count) {
            *slot = ids;
        }
        self.count += 1;
        self.end = end;
        self.raw_len += end - start;
    }

    /// The depth the streams' unknown fields were checked at; 0, valid anywhere, when
    /// there are none.
    fn checked_depth(&self) -> u8 {
        if self.cacheable {
            0
        } else {
            self.depth as u8
        }
    }

    #[inline(always)]
    pub(crate) fn finish(self, data: &'a [u8], lookahead: &'a [u8]) -> Streams<'a> {
        if self.count == 0 {
            return Streams::default();
        }
        let src = &data[self.start..self.end];
        let canonical = self.canonical && src.len() == self.raw_len;
        let repr = if self.cacheable && self.count <= CACHED {
            Repr::Cached {
                ids: self.ids,
                count: self.count as u8,
                src,
                canonical,
            }
        } else {
            Repr::Wire {
                src,
                lookahead: &lookahead[self.start..],
                count: self.count,
                canonical,
                depth: self.checked_depth(),
            }
        };
        Streams { repr }
    }

    /// The streams of a RequestHeader merged from the fields tagged `outer` in `span`,
    /// a run of the enclosing message's fields.
    pub(crate) fn finish_merged(self, span: &'a [u8], outer: u8) -> Streams<'a> {
        let repr = if self.count == 0 {
            return Streams::default();
        } else if self.cacheable && self.count <= CACHED {
            Repr::Cached {
                ids: self.ids,
                count: self.count as u8,
                src: span,
                canonical: false,
            }
        } else {
            Repr::Merged {
                src: span,
                outer,
                count: self.count,
                depth: self.checked_depth(),
            }
        };
        Streams { repr }
    }
}

/// Iterator over [`Streams`].
#[derive(Clone, Debug)]
pub struct StreamsIter<'a> {
    inner: IterRepr<'a>,
}

#[derive(Clone, Debug)]
enum IterRepr<'a> {
    Cached {
        ids: [stream::Values<'a>; CACHED],
        next: u8,
        count: u8,
    },
    Wire {
        reader: Reader<'a>,
        left: usize,
    },
    Exact {
        streams: Reader<'a>,
        left: usize,
    },
    Merged {
        fields: NestedFields<'a>,
        left: usize,
    },
    Slice(core::slice::Iter<'a, StreamHeader<'a>>),
}

impl<'a> Iterator for StreamsIter<'a> {
    type Item = StreamHeader<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterRepr::Cached { ids, next, count } => {
                if *next >= *count {
                    return None;
                }
                let values = *ids.get(usize::from(*next))?;
                *next += 1;
                Some(StreamHeader::from_values(values))
            }
            IterRepr::Slice(iter) => iter.next().copied(),
            IterRepr::Wire { reader, left } => next_on_wire(reader, left),
            IterRepr::Exact { streams, left } => next_exact(streams, left),
            IterRepr::Merged { fields, left } => next_merged(fields, left),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = match &self.inner {
            IterRepr::Cached { next, count, .. } => usize::from(count.saturating_sub(*next)),
            IterRepr::Slice(iter) => iter.len(),
            IterRepr::Wire { left, .. }
            | IterRepr::Exact { left, .. }
            | IterRepr::Merged { left, .. } => *left,
        };
        (left, Some(left))
    }
}

/// The next stream in a run of RequestHeader fields; kept out of line so that
/// [`StreamsIter::next`] stays small enough to inline.
#[inline(never)]
fn next_on_wire<'a>(reader: &mut Reader<'a>, left: &mut usize) -> Option<StreamHeader<'a>> {
    while reader.has_remaining() {
        let start = reader.pos();
        let tag = reader.tag().ok()?;
        if tag == STREAMS {
            let body = reader.length_delimited().ok()?;
            *left = left.saturating_sub(1);
            return StreamHeader::decode_at_depth(body, RECURSION_LIMIT).ok();
        }
        reader.skip(tag, start, RECURSION_LIMIT).ok()?;
    }
    None
}

/// The next of a run of canonical streams without unknown fields, already checked: no
/// skipping, no unknown fields to look for, only the ids to read.
#[inline(always)]
fn next_exact<'a>(streams: &mut Reader<'a>, left: &mut usize) -> Option<StreamHeader<'a>> {
    if !streams.next_is(STREAMS) {
        return None;
    }
    let body = streams.try_length_delimited()?;
    #[cfg(debug_assertions)]
    let whole = body.clone();
    *left = left.saturating_sub(1);
    let stream = StreamHeader::checked(body)?;
    // In debug builds (tests, fuzzing) every stream read here is decoded again in full.
    #[cfg(debug_assertions)]
    {
        let full = StreamHeader::decode_at_depth(whole, RECURSION_LIMIT);
        assert_eq!(full, Ok(stream), "the exact path read a stream differently");
    }
    Some(stream)
}

/// The next stream in the bodies of a merged RequestHeader's occurrences.
#[inline(never)]
fn next_merged<'a>(fields: &mut NestedFields<'a>, left: &mut usize) -> Option<StreamHeader<'a>> {
    let body = fields.find(|&(tag, _, _)| tag == STREAMS)?.2;
    *left = left.saturating_sub(1);
    StreamHeader::decode_at_depth(Reader::new(body, 0), RECURSION_LIMIT).ok()
}

impl ExactSizeIterator for StreamsIter<'_> {}
impl core::iter::FusedIterator for StreamsIter<'_> {}
