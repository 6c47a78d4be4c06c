//! Sequence numbers seen out of order, and the contiguous prefix of them.

use std::collections::BTreeSet;

/// The numbers `1..=n` seen so far, in any order: [`Prefix::upto`] is the largest `n`
/// with every number from 1 to `n` seen. What may be acknowledged to an Atomix
/// partition is that prefix and never more: acknowledging past a response still in
/// flight makes the server forget it, and a retry of that request then fails.
///
/// ```
/// use atomix_session::Prefix;
///
/// let mut seen = Prefix::default();
/// seen.insert(2);
/// assert_eq!(seen.upto(), 0); // 1 is missing
/// seen.insert(1);
/// assert_eq!(seen.upto(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prefix {
    upto: u64,
    /// Seen numbers above `upto + 1`: never `upto + 1` itself.
    beyond: BTreeSet<u64>,
}

impl Prefix {
    /// Records `n`; 0 and numbers already seen change nothing.
    pub fn insert(&mut self, n: u64) {
        if n <= self.upto {
            return;
        }
        if n != self.upto + 1 {
            self.beyond.insert(n);
            return;
        }
        self.upto = n;
        while self.beyond.remove(&(self.upto + 1)) {
            self.upto += 1;
        }
    }

    /// The largest `n` with every number from 1 to `n` seen.
    pub fn upto(&self) -> u64 {
        self.upto
    }

    /// Whether `n` was seen.
    pub fn contains(&self, n: u64) -> bool {
        n <= self.upto && n > 0 || self.beyond.contains(&n)
    }

    /// How many numbers above the prefix are held.
    pub fn gaps_held(&self) -> usize {
        self.beyond.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order_of_a_few_numbers_gives_the_same_prefix() {
        // All 720 orders of 1..=6, with 4 left out: the prefix stops at 3 whatever
        // the order, and reaches 6 once 4 comes.
        let mut orders = vec![vec![]];
        for n in [1u64, 2, 3, 5, 6] {
            let mut next = Vec::new();
            for o in &orders {
                for i in 0..=o.len() {
                    let mut o: Vec<u64> = o.clone();
                    o.insert(i, n);
                    next.push(o);
                }
            }
            orders = next;
        }
        assert_eq!(orders.len(), 120);
        for order in orders {
            let mut p = Prefix::default();
            for &n in &order {
                p.insert(n);
                p.insert(n); // seen twice: no change
            }
            assert_eq!(p.upto(), 3, "{order:?}");
            assert!(p.contains(5) && !p.contains(4) && !p.contains(0));
            p.insert(4);
            assert_eq!((p.upto(), p.gaps_held()), (6, 0), "{order:?}");
        }
    }
}
