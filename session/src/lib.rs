//! Atomix 2020 sessions held on a client's behalf over a partitioned cluster, as plain
//! state: no I/O, no clock, no task. A proxy (or a Rust client) feeds it events (a
//! client's command, a partition's answer, a KeepAlive, the time) and does what it
//! says: send this request with these header fields, answer with this saved response,
//! wait, refuse. Everything here is tested alone, in any interleaving a test can make.
//!
//! The protocol's facts (shared/ATOMIX-SESSIONS.md, from atomix/go-framework 5b8d5f5):
//! - a session lives on one partition, so a map over N partitions needs N sessions;
//! - `request_id` is a session's command sequence: a command ahead of a gap waits at the
//!   server until the gap is filled, forever, so a number once given out must reach its
//!   partition;
//! - a retry with the same `request_id` gets the saved response until a KeepAlive
//!   acknowledges it, so a KeepAlive acknowledges only a contiguous prefix of what was
//!   received;
//! - a query waits until the session has applied `request_id` and the partition's index
//!   has reached `index`: read-your-writes and monotonic reads.
//!
//! [`ClientSession`] is one client session spread over every partition: the client
//! numbers its commands once, as if there were one partition; each partition session
//! numbers its own. [`StreamMerge`] merges the partitions' streams of one call into one.
//!
//! ```
//! use atomix_session::{ClientSession, Command, PartitionSession};
//! use std::time::{Duration, Instant};
//!
//! let now = Instant::now();
//! // Create opened sessions 11 and 20 on partitions 0 and 1.
//! let partitions = vec![PartitionSession::new(11, 11), PartitionSession::new(20, 20)];
//! let mut session = ClientSession::<&str>::new(1 << 63, Duration::from_secs(30), now, partitions, 1 << 20);
//!
//! // The client's command 1 goes to partition 1 as that session's command 1, with the
//! // index that partition last showed.
//! let Command::Send(up) = session.command(1, 1) else { panic!() };
//! assert_eq!((up.partition, up.session_id, up.request_id, up.index), (1, 20, 1, 20));
//! // Its command 3 arrived before 2: it waits.
//! assert!(matches!(session.command(3, 0), Command::Wait));
//! session.answered(1, 21, "put-1", 5);
//! // The client retries command 1: the saved answer, byte for byte.
//! assert!(matches!(session.command(1, 1), Command::Saved("put-1")));
//! ```

#![warn(missing_docs)]

mod client;
mod partition;
mod prefix;
mod stream;
mod window;

pub use client::{ClientSession, Command, Refusal};
pub use partition::{PartitionSession, Upstream};
pub use prefix::Prefix;
pub use stream::{CacheFull, Emit, StreamKind, StreamMerge, UpstreamType};

use std::sync::atomic::{AtomicU64, Ordering};

/// Session ids the proxy gives its clients: unique in the process, and never equal to
/// a partition's, which are log indexes: the top bit is set on every one.
///
/// ```
/// use atomix_session::SessionIds;
///
/// static IDS: SessionIds = SessionIds::new();
/// let (a, b) = (IDS.next(), IDS.next());
/// assert_ne!(a, b);
/// assert!(a >= 1 << 63 && b >= 1 << 63);
/// ```
#[derive(Debug, Default)]
pub struct SessionIds {
    next: AtomicU64,
}

impl SessionIds {
    /// The first id is `1 << 63 | 1`.
    pub const fn new() -> Self {
        SessionIds {
            next: AtomicU64::new(0),
        }
    }

    /// A new id.
    pub fn next(&self) -> u64 {
        (1 << 63) | (self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

#[cfg(test)]
mod tests;
