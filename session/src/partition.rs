//! One partition's session under a client session, and the header fields a request
//! carries to it.

use crate::prefix::Prefix;

/// One partition's session under a client session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionSession {
    pub(crate) id: u64,
    /// The partition's sequence numbers given out: `1..=last_issued`.
    pub(crate) last_issued: u64,
    /// The sequence numbers whose answers arrived.
    pub(crate) delivered: Prefix,
    /// The highest index the partition has shown this client session.
    pub(crate) index: u64,
}

impl PartitionSession {
    /// A session the partition opened as `id`, at `index` (its Create answer's).
    pub fn new(id: u64, index: u64) -> Self {
        PartitionSession {
            id,
            last_issued: 0,
            delivered: Prefix::default(),
            index,
        }
    }

    /// The partition's id for this session.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The highest index the partition has shown this session.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The last sequence number given out.
    pub fn last_issued(&self) -> u64 {
        self.last_issued
    }

    /// What a KeepAlive to the partition may acknowledge: every answer up to it
    /// arrived.
    pub fn acknowledgeable(&self) -> u64 {
        self.delivered.upto()
    }
}

/// Where a request goes, and the header fields it carries there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// The partition, from 0.
    pub partition: usize,
    /// The partition's session id.
    pub session_id: u64,
    /// The partition session's sequence number (a command's own, or for a query the
    /// last command given out, which the server waits for).
    pub request_id: u64,
    /// The index that partition last showed this client: the server answers a query
    /// only from a state at least this new.
    pub index: u64,
}
