//! [`StreamsIter`]: the streams of a [`super::Streams`], in order, read where they lie.

use super::{CACHED, STREAMS};
use crate::message::sealed::Sealed;
use crate::message::stream::{self, StreamHeader};
use crate::wire::fields::NestedFields;
use crate::wire::reader::{Reader, RECURSION_LIMIT};

/// Iterator over [`Streams`](super::Streams).
#[derive(Clone, Debug)]
pub struct StreamsIter<'a> {
    pub(super) inner: IterRepr<'a>,
}

#[derive(Clone, Debug)]
pub(super) enum IterRepr<'a> {
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
