//! [`Streams`], the repeated `streams` field of a RequestHeader: held where it lies in the
//! input (or in a caller's slice), readable without allocating; its iterator; and the
//! tracker that collects it while a RequestHeader is decoded.

use super::stream::{self, StreamHeader};
use super::{sealed::Sealed, Message};
use crate::wire::fields::{NestedFields, Path};
use crate::wire::reader::Reader;
use crate::wire::sink::Sink;
use crate::wire::size;
use core::fmt;

mod iter;
mod tracker;
use iter::IterRepr;
pub use iter::StreamsIter;
pub(crate) use tracker::StreamsTracker;

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
