//! [`Tracker`]: where a message's unknown fields lie, collected while it is decoded.

use super::{Layout, UnknownFields};
use crate::schema::MessageType;
use crate::wire::fields::Path;

/// Collects the span of a message's unknown fields while it is decoded.
#[derive(Clone, Copy, Default)]
pub(crate) struct Tracker {
    start: usize,
    end: usize,
    len: usize,
}

impl Tracker {
    #[inline(always)]
    pub(crate) fn add(&mut self, start: usize, end: usize) {
        if self.len == 0 {
            self.start = start;
        }
        self.end = end;
        self.len += end - start;
    }

    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The unknown fields of a message field that occurred several times, and so merged:
    /// those `kind` does not know in the bodies of the fields tagged `outer` in `span`, a
    /// run of the enclosing message's fields.
    pub(crate) fn finish_merged(
        self,
        span: &[u8],
        outer: u8,
        kind: MessageType,
        depth: u32,
    ) -> UnknownFields<'_> {
        UnknownFields::picked(span, Path::within(outer), kind, depth, self.len)
    }

    #[inline(always)]
    pub(crate) fn finish<'a>(
        self,
        data: &'a [u8],
        kind: MessageType,
        depth: u32,
    ) -> UnknownFields<'a> {
        if self.len == 0 {
            return UnknownFields::EMPTY;
        }
        let src = &data[self.start..self.end];
        let layout = if src.len() == self.len {
            Layout::Contiguous
        } else {
            Layout::Picked { path: Path::HERE }
        };
        UnknownFields {
            src,
            len: self.len,
            layout,
            kind,
            depth: depth as u8,
        }
    }
}
