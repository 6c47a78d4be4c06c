//! One client session spread over a session on every partition.

use crate::partition::{PartitionSession, Upstream};
use crate::window::Window;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// What to do with a client's command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<R> {
    /// Send it, with these header fields. A retry of a command still in flight gets
    /// the same fields: the partition answers the same sequence number once.
    Send(Upstream),
    /// Send it to every partition, each with its own fields (from
    /// [`ClientSession::command_all`]).
    SendAll(Vec<Upstream>),
    /// Answer with the response the client was given before.
    Saved(R),
    /// An earlier command of the client has not been given out yet: ask again once
    /// [`ClientSession::issued`] has reached the one before (within the call's
    /// deadline), as the server waits for a gap.
    Wait,
    /// Refuse it, as the server would.
    Refused(Refusal),
}

/// Why a call on a client session is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The session is unknown (ended, expired, or a partition's lost): gRPC UNKNOWN
    /// with this message, as the server answers, so that the client creates another.
    UnknownSession(u64),
    /// A command the client had acknowledged: gRPC UNKNOWN, as the server answers.
    Acknowledged(u64),
    /// The client holds this many bytes of answers it has not acknowledged, past the
    /// limit: RESOURCE_EXHAUSTED until a KeepAlive acknowledges some.
    TooMuchUnacknowledged {
        /// Bytes held.
        held: usize,
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownSession(id) => write!(f, "unknown session {id}"),
            Refusal::Acknowledged(n) => {
                write!(f, "sequence number {n} has already been acknowledged")
            }
            Refusal::TooMuchUnacknowledged { held, limit } => write!(
                f,
                "the session holds {held} bytes of responses its client has not acknowledged \
                 (limit {limit}); send a KeepAlive"
            ),
        }
    }
}

/// A client's command the session knows.
#[derive(Clone, Debug)]
enum Entry<R> {
    InFlight(Upstream),
    /// On every partition; `answered[p]` once partition `p` answered.
    FannedOut {
        ups: Vec<Upstream>,
        answered: Vec<bool>,
    },
    Done {
        response: R,
        size: usize,
    },
    /// A fanned-out stream command (Events) every partition opened: answered (the
    /// client may acknowledge past it); its numbers are in `ClientSession::streams`.
    Opened,
}

/// One client session, spread over a session on every partition.
#[derive(Clone, Debug)]
pub struct ClientSession<R> {
    id: u64,
    timeout: Duration,
    last_keepalive: Instant,
    partitions: Vec<PartitionSession>,
    /// The client's commands given out, in its order: `1..=issued`.
    issued: u64,
    /// Commands given out and not acknowledged by the client, by request id.
    commands: Window<Entry<R>>,
    /// Open stream commands by request id, resumed with the same numbers while open,
    /// as the server replays a stream sent again, whatever the client acknowledged.
    streams: BTreeMap<u64, Vec<Upstream>>,
    /// The client's KeepAlive: every answer up to it was received.
    acknowledged: u64,
    saved_bytes: usize,
    limit: usize,
    ended: bool,
}

impl<R: Clone> ClientSession<R> {
    /// A session `id` (from [`SessionIds`](crate::SessionIds)) over `partitions`, in partition order,
    /// expiring `timeout` after its last KeepAlive (`now` counts as one). Past `limit`
    /// bytes of answers the client has not acknowledged, new commands are refused.
    pub fn new(
        id: u64,
        timeout: Duration,
        now: Instant,
        partitions: Vec<PartitionSession>,
        limit: usize,
    ) -> Self {
        ClientSession {
            id,
            timeout,
            last_keepalive: now,
            partitions,
            issued: 0,
            commands: Window::new(1),
            streams: BTreeMap::new(),
            acknowledged: 0,
            saved_bytes: 0,
            limit,
            ended: false,
        }
    }

    /// The proxy's id of this session.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The partition sessions, in partition order.
    pub fn partitions(&self) -> &[PartitionSession] {
        &self.partitions
    }

    /// The client's commands given out so far: `1..=issued`.
    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// Bytes of answers held for retries the client may still make.
    pub fn saved_bytes(&self) -> usize {
        self.saved_bytes
    }

    /// What to do with the client's command `request_id` for `partition`.
    /// `request_id` 0 is not sequenced, as at the server.
    pub fn command(&mut self, request_id: u64, partition: usize) -> Command<R> {
        if self.ended || partition >= self.partitions.len() {
            return Command::Refused(Refusal::UnknownSession(self.id));
        }
        if request_id == 0 {
            let p = &self.partitions[partition];
            return Command::Send(Upstream {
                partition,
                session_id: p.id,
                request_id: 0,
                index: p.index,
            });
        }
        if request_id <= self.acknowledged {
            return Command::Refused(Refusal::Acknowledged(request_id));
        }
        if let Some(known) = self.known(request_id) {
            return known;
        }
        let p = &mut self.partitions[partition];
        p.last_issued += 1;
        let up = Upstream {
            partition,
            session_id: p.id,
            request_id: p.last_issued,
            index: p.index,
        };
        self.commands.push(Entry::InFlight(up));
        self.issued = request_id;
        Command::Send(up)
    }

    /// What to do with the client's command `request_id` that runs on every
    /// partition (Clear, Events): a sequence number of each partition session. Its
    /// parts are answered with [`ClientSession::part_answered`], the whole with
    /// [`ClientSession::answered`].
    pub fn command_all(&mut self, request_id: u64) -> Command<R> {
        if self.ended {
            return Command::Refused(Refusal::UnknownSession(self.id));
        }
        if request_id == 0 {
            let ups = (0..self.partitions.len())
                .map(|p| {
                    let mut up = self.query(p).expect("a partition of the session");
                    up.request_id = 0;
                    up
                })
                .collect();
            return Command::SendAll(ups);
        }
        if let Some(known) = self.known(request_id) {
            return known;
        }
        let ups: Vec<Upstream> = self
            .partitions
            .iter_mut()
            .enumerate()
            .map(|(partition, p)| {
                p.last_issued += 1;
                Upstream {
                    partition,
                    session_id: p.id,
                    request_id: p.last_issued,
                    index: p.index,
                }
            })
            .collect();
        let answered = vec![false; ups.len()];
        self.commands.push(Entry::FannedOut {
            ups: ups.clone(),
            answered,
        });
        self.issued = request_id;
        Command::SendAll(ups)
    }

    /// What is already decided for `request_id`: `None` when it is the next to give
    /// out.
    fn known(&self, request_id: u64) -> Option<Command<R>> {
        // An open stream resumes whatever the client acknowledged, as at the server
        // while the client's KeepAlive lists it.
        if let Some(ups) = self.streams.get(&request_id) {
            return Some(Command::SendAll(ups.clone()));
        }
        if request_id <= self.acknowledged {
            return Some(Command::Refused(Refusal::Acknowledged(request_id)));
        }
        match self.commands.get(request_id) {
            Some(Entry::Done { response, .. }) => Some(Command::Saved(response.clone())),
            Some(Entry::InFlight(up)) => Some(Command::Send(*up)),
            Some(Entry::FannedOut { ups, .. }) => Some(Command::SendAll(ups.clone())),
            // Opened, then closed: as acknowledged.
            Some(Entry::Opened) => Some(Command::Refused(Refusal::Acknowledged(request_id))),
            None if request_id <= self.issued => {
                Some(Command::Refused(Refusal::Acknowledged(request_id)))
            }
            None if request_id > self.issued + 1 => Some(Command::Wait),
            None if self.saved_bytes > self.limit => {
                Some(Command::Refused(Refusal::TooMuchUnacknowledged {
                    held: self.saved_bytes,
                    limit: self.limit,
                }))
            }
            None => None,
        }
    }

    /// Partition `partition` answered its part of the fanned-out command `request_id`
    /// at `index`; whether every part is answered now.
    pub fn part_answered(&mut self, request_id: u64, partition: usize, index: u64) -> bool {
        let Some(Entry::FannedOut { ups, answered }) = self.commands.get_mut(request_id) else {
            return false;
        };
        let (Some(up), Some(done)) = (ups.get(partition), answered.get_mut(partition)) else {
            return false;
        };
        if !*done {
            *done = true;
            let p = &mut self.partitions[partition];
            p.delivered.insert(up.request_id);
            p.index = p.index.max(index);
        }
        answered.iter().all(|&a| a)
    }

    /// Every partition opened its stream of the fanned-out stream command
    /// `request_id` (each part answered with [`ClientSession::part_answered`]): it
    /// counts as answered, and stays resumable with the same numbers.
    pub fn opened(&mut self, request_id: u64) {
        if let Some(entry) = self.commands.get_mut(request_id) {
            if let Entry::FannedOut { ups, answered } = entry {
                if answered.iter().all(|&a| a) {
                    self.streams.insert(request_id, std::mem::take(ups));
                    *entry = Entry::Opened;
                }
            }
        }
    }

    /// The partition numbers of the fanned-out command `request_id`, while it is in
    /// flight or an open stream.
    pub fn stream_numbers(&self, request_id: u64) -> Option<Vec<Upstream>> {
        if let Some(ups) = self.streams.get(&request_id) {
            return Some(ups.clone());
        }
        match self.commands.get(request_id)? {
            Entry::FannedOut { ups, .. } => Some(ups.clone()),
            _ => None,
        }
    }

    /// Forgets the stream command `request_id` (the client closed its stream).
    pub fn close_stream(&mut self, request_id: u64) {
        self.streams.remove(&request_id);
    }

    /// The header fields of a query on `partition`: it waits at the server for the
    /// session's last command there and for the index the client has seen there.
    pub fn query(&self, partition: usize) -> Result<Upstream, Refusal> {
        match self.partitions.get(partition) {
            Some(p) if !self.ended => Ok(Upstream {
                partition,
                session_id: p.id,
                request_id: p.last_issued,
                index: p.index,
            }),
            _ => Err(Refusal::UnknownSession(self.id)),
        }
    }

    /// Command `request_id` was answered by its partition at `index`, with `response`
    /// (`size` bytes, counted against the limit until the client acknowledges it).
    /// The first answer is the one kept; a command not in flight changes nothing.
    ///
    /// A fanned-out command is saved so once all its parts are answered
    /// ([`ClientSession::part_answered`]); `index` is then not read.
    pub fn answered(&mut self, request_id: u64, index: u64, response: R, size: usize) {
        let Some(entry) = self.commands.get_mut(request_id) else {
            return;
        };
        match entry {
            Entry::InFlight(up) => {
                let p = &mut self.partitions[up.partition];
                p.delivered.insert(up.request_id);
                p.index = p.index.max(index);
            }
            Entry::FannedOut { answered, .. } if answered.iter().all(|&a| a) => {}
            Entry::FannedOut { .. } | Entry::Done { .. } | Entry::Opened => return,
        }
        *entry = Entry::Done { response, size };
        self.saved_bytes += size;
    }

    /// A query on `partition` was answered at `index`: later ones read no older state.
    pub fn read(&mut self, partition: usize, index: u64) {
        if let Some(p) = self.partitions.get_mut(partition) {
            p.index = p.index.max(index);
        }
    }

    /// The client's KeepAlive at `now`, acknowledging every answer up to
    /// `acknowledged`: those are forgotten. Refused once the session ended or expired.
    pub fn keep_alive(&mut self, now: Instant, acknowledged: u64) -> Result<(), Refusal> {
        if self.ended || self.expired(now) {
            self.ended = true;
            return Err(Refusal::UnknownSession(self.id));
        }
        self.last_keepalive = now;
        // Only answers the client can have had: the acknowledgement stops below the
        // first command still in flight, whatever the client claims, so that its
        // number still reaches the partition and its retry is still answered.
        let in_flight = self
            .commands
            .first_where(|e| matches!(e, Entry::InFlight(_) | Entry::FannedOut { .. }));
        let acknowledged = acknowledged.min(in_flight - 1);
        if acknowledged > self.acknowledged {
            let mut freed = 0;
            self.commands.drop_upto(acknowledged, |entry| {
                if let Entry::Done { size, .. } = entry {
                    freed += size;
                }
            });
            self.saved_bytes -= freed;
            self.acknowledged = acknowledged;
        }
        Ok(())
    }

    /// Whether the client's last KeepAlive is older than the timeout at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_keepalive) > self.timeout
    }

    /// Ends the session: a sequence number could not be brought to its partition (it
    /// would stall every later command there), a partition lost its session, or the
    /// client closed it. Every later call is refused as an unknown session.
    pub fn end(&mut self) {
        self.ended = true;
    }

    /// Whether the session has ended.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// What the proxy's own KeepAlive to each partition says: (partition, its session
    /// id, the acknowledged prefix). Sent at half the partition timeout.
    pub fn keep_alives(&self) -> impl Iterator<Item = (usize, u64, u64)> + '_ {
        self.partitions
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.id, p.acknowledgeable()))
    }
}
