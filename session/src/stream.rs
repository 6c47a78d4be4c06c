//! The partitions' streams of one call, merged into the one stream its client sees.

use crate::prefix::Prefix;
use std::collections::VecDeque;

/// A streaming call's kind, as the server runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    /// A streaming query (map Entries, set Iterate): nothing is cached or replayed.
    Query,
    /// A streaming command (map and set Events): every response is cached until the
    /// client acknowledges it, and replayed when the client sends the call again.
    Command,
}

/// The type of a partition's stream response (its header's `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamType {
    /// OPEN_STREAM: the partition's stream is open.
    Open,
    /// RESPONSE: one entry or event.
    Response,
    /// CLOSE_STREAM: the partition's stream is over.
    Close,
}

/// A response for the client: the merged stream's own `response_id`, its type, and the
/// partition's response it carries (whose header gets this id and type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emit<R> {
    /// 1 for the OPEN_STREAM, then one more for each response.
    pub response_id: u64,
    /// OPEN_STREAM, RESPONSE or CLOSE_STREAM, for the client.
    pub kind: UpstreamType,
    /// The partition's response whose header carries `response_id` and `kind`.
    pub response: R,
}

/// One partition's stream within the merge.
#[derive(Clone, Debug, Default)]
struct Part {
    /// The partition's response ids received, for what the proxy acknowledges to it.
    received: Prefix,
    open: bool,
    closed: bool,
}

/// The streams one call opened on every partition, as one stream: one OPEN_STREAM
/// (when the first partition opens), every partition's responses as they come with
/// the merge's own response ids, one CLOSE_STREAM once every partition has closed. No
/// order holds across partitions, as in the Go client's merge.
///
/// ```
/// use atomix_session::{StreamKind, StreamMerge, UpstreamType::*};
///
/// let mut events = StreamMerge::new(StreamKind::Command, 2, 1 << 20);
/// assert_eq!(events.push(0, 1, Open, "open-0", 10).unwrap().map(|e| e.response_id), Some(1));
/// assert!(events.push(1, 1, Open, "open-1", 10).unwrap().is_none()); // one OPEN_STREAM
/// let e = events.push(1, 2, Response, "inserted k", 20).unwrap().unwrap();
/// assert_eq!((e.response_id, e.response), (2, "inserted k"));
/// // The client reconnects without acknowledging: both are replayed.
/// assert_eq!(events.replay().map(|e| e.response_id).collect::<Vec<_>>(), [1, 2]);
/// events.acknowledge(2);
/// assert_eq!(events.replay().count(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct StreamMerge<R> {
    kind: StreamKind,
    parts: Vec<Part>,
    /// The last response id given out.
    last_id: u64,
    opened: bool,
    closed: bool,
    /// Responses the client has not acknowledged (commands only), oldest first.
    cache: VecDeque<(Emit<R>, usize)>,
    cached_bytes: usize,
    limit: usize,
}

/// The client holds more unacknowledged stream responses than the limit allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheFull {
    /// Bytes held.
    pub held: usize,
    /// The limit.
    pub limit: usize,
}

impl<R: Clone> StreamMerge<R> {
    /// A merge of one stream on each of `partitions`. A command stream holds at most
    /// `limit` bytes of responses its client has not acknowledged.
    pub fn new(kind: StreamKind, partitions: usize, limit: usize) -> Self {
        StreamMerge {
            kind,
            parts: vec![Part::default(); partitions],
            last_id: 0,
            opened: false,
            closed: false,
            cache: VecDeque::new(),
            cached_bytes: 0,
            limit,
        }
    }

    /// Partition `partition`'s response `response_id` of type `kind` (`size` bytes):
    /// what the client gets of it, if anything. A response the partition sent before
    /// (a replay after a reconnection) or one on a stream it already closed gives
    /// nothing. Past the cache limit the stream must end: the client cannot keep up.
    pub fn push(
        &mut self,
        partition: usize,
        response_id: u64,
        kind: UpstreamType,
        response: R,
        size: usize,
    ) -> Result<Option<Emit<R>>, CacheFull> {
        let Some(part) = self.parts.get_mut(partition) else {
            return Ok(None);
        };
        if part.closed || (response_id != 0 && part.received.contains(response_id)) {
            return Ok(None);
        }
        part.received.insert(response_id);
        let emit = match kind {
            UpstreamType::Open => {
                part.open = true;
                !std::mem::replace(&mut self.opened, true)
            }
            UpstreamType::Response => true,
            UpstreamType::Close => {
                part.closed = true;
                self.parts.iter().all(|p| p.closed)
            }
        };
        if !emit {
            return Ok(None);
        }
        self.last_id += 1;
        if kind == UpstreamType::Close {
            self.closed = true;
        }
        let e = Emit {
            response_id: self.last_id,
            kind,
            response,
        };
        if self.kind == StreamKind::Command {
            if self.cached_bytes + size > self.limit {
                return Err(CacheFull {
                    held: self.cached_bytes + size,
                    limit: self.limit,
                });
            }
            self.cached_bytes += size;
            self.cache.push_back((e.clone(), size));
        }
        Ok(Some(e))
    }

    /// The client acknowledged every response up to `response_id` (its KeepAlive's
    /// `streams`): they are dropped.
    pub fn acknowledge(&mut self, response_id: u64) {
        while let Some((e, size)) = self.cache.front() {
            if e.response_id > response_id {
                break;
            }
            self.cached_bytes -= size;
            self.cache.pop_front();
        }
    }

    /// What the client has not acknowledged, oldest first: sent again when the client
    /// sends the same call again, before the stream goes on.
    pub fn replay(&self) -> impl Iterator<Item = &Emit<R>> + '_ {
        self.cache.iter().map(|(e, _)| e)
    }

    /// What the proxy acknowledges to each partition: every response up to it was
    /// received (and, for a command stream, is cached for the client).
    pub fn acknowledgeable(&self) -> impl Iterator<Item = u64> + '_ {
        self.parts.iter().map(|p| p.received.upto())
    }

    /// Whether every partition has closed (the client got CLOSE_STREAM).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Bytes cached for the client.
    pub fn cached_bytes(&self) -> usize {
        self.cached_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UpstreamType::*;

    /// Every interleaving of three partitions' streams (open, two responses, close
    /// each, in order per partition): one OPEN_STREAM first, every response once, ids
    /// 1.. without a gap, one CLOSE_STREAM last.
    #[test]
    fn any_interleaving_merges_into_one_well_formed_stream() {
        let per = [(1, Open), (2, Response), (3, Response), (4, Close)];
        let mut count = 0;
        // Interleavings of 3 sequences of 4: positions chosen by a mixed-radix walk.
        let mut stack = vec![(vec![0usize; 3], Vec::<(usize, u64, UpstreamType)>::new())];
        while let Some((next, order)) = stack.pop() {
            if order.len() == 12 {
                count += 1;
                let mut m = StreamMerge::new(StreamKind::Command, 3, usize::MAX);
                let mut out = Vec::new();
                for &(p, id, kind) in &order {
                    if let Some(e) = m.push(p, id, kind, (p, id), 1).unwrap() {
                        out.push(e);
                    }
                    // A replayed duplicate changes nothing.
                    assert!(m.push(p, id, kind, (p, id), 1).unwrap().is_none());
                }
                assert_eq!(out.len(), 1 + 6 + 1, "{order:?}");
                assert_eq!(out[0].kind, Open);
                assert_eq!(out[7].kind, Close);
                assert!(out[1..7].iter().all(|e| e.kind == Response));
                let ids: Vec<u64> = out.iter().map(|e| e.response_id).collect();
                assert_eq!(ids, (1..=8).collect::<Vec<_>>());
                assert!(m.is_closed());
                assert_eq!(m.acknowledgeable().collect::<Vec<_>>(), [4, 4, 4]);
                continue;
            }
            for p in 0..3 {
                if next[p] < 4 {
                    let (id, kind) = per[next[p]];
                    let mut n = next.clone();
                    n[p] += 1;
                    let mut o = order.clone();
                    o.push((p, id, kind));
                    stack.push((n, o));
                }
            }
        }
        assert_eq!(count, 34_650, "12! / (4!)^3 interleavings");
    }

    #[test]
    fn a_command_stream_replays_what_was_not_acknowledged_and_is_bounded() {
        let mut m = StreamMerge::new(StreamKind::Command, 2, 100);
        m.push(0, 1, Open, "o", 10).unwrap();
        m.push(1, 1, Open, "o", 10).unwrap();
        for i in 0..5 {
            m.push(i % 2, 2 + i as u64 / 2, Response, "e", 10).unwrap();
        }
        // One OPEN_STREAM and five responses: the second open is not the client's.
        assert_eq!(m.cached_bytes(), 60);
        m.acknowledge(3);
        let ids: Vec<u64> = m.replay().map(|e| e.response_id).collect();
        assert_eq!(ids, [4, 5, 6]);
        assert_eq!(m.cached_bytes(), 30);
        // 30 held: 80 more do not fit.
        let full = m.push(0, 9, Response, "big", 80).unwrap_err();
        assert_eq!(
            full,
            CacheFull {
                held: 110,
                limit: 100
            }
        );
        // A query stream caches nothing.
        let mut q = StreamMerge::new(StreamKind::Query, 1, 0);
        q.push(0, 0, Open, "o", 10).unwrap();
        assert!(q.push(0, 0, Response, "entry", 1 << 30).unwrap().is_some());
        assert_eq!(q.replay().count(), 0);
    }

    #[test]
    fn nothing_after_a_partition_closed_and_no_partition_out_of_range() {
        let mut m = StreamMerge::new(StreamKind::Query, 2, 0);
        m.push(0, 1, Open, 0, 0).unwrap();
        assert!(
            m.push(0, 2, Close, 0, 0).unwrap().is_none(),
            "partition 1 is open"
        );
        assert!(
            m.push(0, 3, Response, 0, 0).unwrap().is_none(),
            "after its close"
        );
        assert!(m.push(5, 1, Response, 0, 0).unwrap().is_none());
        let last = m.push(1, 1, Close, 0, 0).unwrap().unwrap();
        assert_eq!((last.response_id, last.kind), (2, Close));
    }
}
