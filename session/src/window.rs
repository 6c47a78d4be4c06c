//! Entries numbered by contiguous ids, oldest first: what a session keeps of the
//! commands between the client's acknowledgement and the last one given out. A lookup
//! is an index, not a search, however many the client leaves unacknowledged.

use std::collections::VecDeque;

/// Entries for ids `first..first + len`.
#[derive(Clone, Debug)]
pub(crate) struct Window<T> {
    first: u64,
    entries: VecDeque<T>,
}

impl<T> Window<T> {
    /// An empty window whose first entry will be `first`.
    pub(crate) fn new(first: u64) -> Self {
        Window {
            first,
            entries: VecDeque::new(),
        }
    }

    fn slot(&self, id: u64) -> Option<usize> {
        let i = usize::try_from(id.checked_sub(self.first)?).ok()?;
        (i < self.entries.len()).then_some(i)
    }

    pub(crate) fn get(&self, id: u64) -> Option<&T> {
        self.entries.get(self.slot(id)?)
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        let i = self.slot(id)?;
        self.entries.get_mut(i)
    }

    /// Adds the entry for the next id, `first + len`.
    pub(crate) fn push(&mut self, entry: T) {
        self.entries.push_back(entry);
    }

    /// The first id whose entry `stop` is true for; past the last when none.
    pub(crate) fn first_where(&self, mut stop: impl FnMut(&T) -> bool) -> u64 {
        let i = self
            .entries
            .iter()
            .position(&mut stop)
            .unwrap_or(self.entries.len());
        self.first + i as u64
    }

    /// Drops the entries of ids up to `upto`, oldest first, handing each to `gone`.
    pub(crate) fn drop_upto(&mut self, upto: u64, mut gone: impl FnMut(T)) {
        while self.first <= upto {
            let Some(entry) = self.entries.pop_front() else {
                self.first = upto + 1;
                return;
            };
            gone(entry);
            self.first += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_to_their_entries_as_the_window_moves() {
        let mut w = Window::new(1);
        for id in 1..=5u64 {
            w.push(id * 10);
        }
        assert_eq!(
            (w.get(0), w.get(1), w.get(5), w.get(6)),
            (None, Some(&10), Some(&50), None)
        );
        assert_eq!(w.first_where(|&v| v == 30), 3);
        assert_eq!(w.first_where(|&v| v == 99), 6);
        let mut gone = Vec::new();
        w.drop_upto(2, |v| gone.push(v));
        assert_eq!(gone, [10, 20]);
        assert_eq!((w.get(2), w.get(3)), (None, Some(&30)));
        *w.get_mut(3).unwrap() = 31;
        w.drop_upto(9, |_| {});
        assert_eq!(w.get(5), None);
        w.push(100); // id 10
        assert_eq!(w.get(10), Some(&100));
    }
}
