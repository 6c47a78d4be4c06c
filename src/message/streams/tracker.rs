//! [`StreamsTracker`]: a RequestHeader's `streams`, collected while it is decoded.

use super::{Repr, Streams, CACHED};
use crate::error::DecodeError;
use crate::message::stream::{self, StreamHeader};
use crate::wire::reader::Reader;
use crate::wire::size;

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
