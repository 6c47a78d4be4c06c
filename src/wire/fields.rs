//! Walking again fields that were already checked: every field of a run, or the fields
//! at the end of a path of nested length-delimited fields. Both stop quietly at anything
//! malformed, which checked bytes never hold.

use super::reader::{Reader, LEN, RECURSION_LIMIT};
use super::skip::skip_simple;

/// Walks a run of fields already known to be well formed, yielding each field's tag and
/// its whole encoding (tag included). Used to re-read validated bytes, so it stops
/// quietly at anything malformed instead of reporting it.
#[derive(Clone, Debug)]
pub(crate) struct RawFields<'a> {
    reader: Reader<'a>,
}

impl<'a> RawFields<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self {
            reader: Reader::new(data, 0),
        }
    }
}

impl<'a> Iterator for RawFields<'a> {
    /// (tag, whole field bytes, the body of a length-delimited field or empty)
    type Item = (u32, &'a [u8], &'a [u8]);

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let r = &mut self.reader;
        if !r.has_remaining() {
            return None;
        }
        let start = r.pos;
        if let Some((body, end)) = skip_simple(r.data, start) {
            r.pos = end;
            let tag = u32::from(r.data[start]);
            return Some((tag, &r.data[start..end], &r.data[body..end]));
        }
        let tag = r.tag().ok()?;
        let body = if tag & 7 == LEN {
            r.length_delimited().ok()?.data
        } else {
            r.skip(tag, start, RECURSION_LIMIT).ok()?;
            &[]
        };
        Some((tag, &r.data[start..r.pos], body))
    }
}

/// Where a run of fields sits inside a checked run of fields: the one-byte tags of the
/// length-delimited fields to descend through, outermost first. The empty path is the
/// run itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Path {
    tags: [u8; 2],
    len: u8,
}

impl Path {
    /// The run itself.
    pub(crate) const HERE: Path = Path {
        tags: [0; 2],
        len: 0,
    };

    /// The bodies of the fields tagged `tag`.
    pub(crate) const fn within(tag: u8) -> Path {
        Path {
            tags: [tag, 0],
            len: 1,
        }
    }

    /// The bodies of the fields tagged `inner` inside those tagged `outer`.
    pub(crate) const fn within_both(outer: u8, inner: u8) -> Path {
        Path {
            tags: [outer, inner],
            len: 2,
        }
    }
}

/// Walks the fields found at the end of a [`Path`] through a run of checked fields, in
/// arrival order: the fields of every body the path leads to, one body after another.
/// Like [`RawFields`] it stops quietly at anything malformed.
#[derive(Clone, Debug)]
pub(crate) struct NestedFields<'a> {
    levels: [RawFields<'a>; 3],
    /// The level being walked: 0 is the run itself.
    level: usize,
    path: Path,
}

impl<'a> NestedFields<'a> {
    pub(crate) fn new(data: &'a [u8], path: Path) -> Self {
        let empty = RawFields::new(&[]);
        Self {
            levels: [RawFields::new(data), empty.clone(), empty],
            level: 0,
            path,
        }
    }
}

impl<'a> Iterator for NestedFields<'a> {
    /// As [`RawFields`] yields it.
    type Item = (u32, &'a [u8], &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.path.len == 0 {
            return self.levels[0].next();
        }
        loop {
            let Some(field) = self.levels.get_mut(self.level)?.next() else {
                if self.level == 0 {
                    return None;
                }
                self.level -= 1;
                continue;
            };
            if self.level == usize::from(self.path.len) {
                return Some(field);
            }
            let (tag, _, body) = field;
            if self.path.tags.get(self.level).map(|&t| u32::from(t)) == Some(tag) {
                self.level += 1;
                *self.levels.get_mut(self.level)? = RawFields::new(body);
            }
        }
    }
}
