//! One partition's replicated state, as the 2020 server's state machine keeps it: the
//! log index, the sessions with their sequence, saved responses and streams, and the
//! maps, sets and counters. Plain state: the serving side (`serve`) waits and retries
//! where this says to.

use crate::wire::{bytes_field, duration, message_field, varint_field, Fields};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// Which service a call is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Map,
    Set,
    Counter,
}

/// A call's request header, as the state machine reads it.
#[derive(Clone, Debug, Default)]
pub struct Header {
    pub name: String,
    pub session_id: u64,
    pub request_id: u64,
    pub index: u64,
    /// `(stream_id, response_id)` of each stream the client acknowledges.
    pub streams: Vec<(u64, u64)>,
}

/// What the serving side does with a call.
#[derive(Debug)]
pub enum Outcome {
    /// One response message.
    Reply(Vec<u8>),
    /// Stream messages now, then (if `live`) those sent there until it closes.
    Stream {
        now: Vec<Vec<u8>>,
        live: Option<tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>>,
    },
    /// A gRPC status other than OK.
    Status(u32, String),
    /// Not yet: a command ahead of a gap, or a query waiting for the session's last
    /// command or the client's index. Ask again after the next change.
    Wait,
}

/// gRPC's UNKNOWN, which the server answers every session error with.
const UNKNOWN: u32 = 2;

#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) service: Service,
    pub(crate) name: String,
    timeout: Duration,
    last_keepalive: Instant,
    last_applied: u64,
    /// Responses by sequence number, until a KeepAlive acknowledges them.
    saved: BTreeMap<u64, Vec<u8>>,
    /// Event streams by stream id (the Events command's sequence number).
    pub(crate) streams: BTreeMap<u64, EventStream>,
}

#[derive(Debug, Default)]
pub(crate) struct EventStream {
    /// A map stream's key filter; empty for every key.
    pub(crate) key: String,
    pub(crate) last_response: u64,
    /// Responses not yet acknowledged, by response id.
    pub(crate) cache: BTreeMap<u64, Vec<u8>>,
    pub(crate) live: Option<UnboundedSender<Vec<u8>>>,
}

/// A partition's state.
#[derive(Debug, Default)]
pub struct Partition {
    pub index: u64,
    pub(crate) sessions: HashMap<u64, Session>,
    pub(crate) maps: HashMap<String, BTreeMap<String, (Vec<u8>, u64)>>,
    pub(crate) sets: HashMap<String, BTreeSet<String>>,
    counters: HashMap<String, i64>,
    /// Times each (session, sequence number) was applied: a test's check that retries
    /// apply once.
    pub applied: HashMap<(u64, u64), u32>,
}

/// A response message: the header (field 1), then `body`.
pub fn response(
    session_id: u64,
    index: u64,
    stream: Option<(u64, u64, u64)>,
    body: &[u8],
) -> Vec<u8> {
    let mut h = Vec::new();
    varint_field(1, session_id, &mut h);
    if let Some((stream_id, response_id, kind)) = stream {
        varint_field(2, stream_id, &mut h);
        varint_field(3, response_id, &mut h);
        varint_field(7, kind, &mut h);
    }
    varint_field(4, index, &mut h);
    let mut out = Vec::new();
    message_field(1, &h, &mut out);
    out.extend_from_slice(body);
    out
}

/// Header types: RESPONSE, OPEN_STREAM, CLOSE_STREAM.
pub(crate) const RESPONSE: u64 = 0;
pub(crate) const OPEN_STREAM: u64 = 1;
const CLOSE_STREAM: u64 = 2;

impl Partition {
    /// Whether the session exists (a test's view).
    pub fn has_session(&self, id: u64) -> bool {
        self.sessions.contains_key(&id)
    }

    /// Every call on this partition: `method` of `service`, with its header and the
    /// operation's own fields.
    pub fn handle(
        &mut self,
        service: Service,
        method: &str,
        h: &Header,
        op: &Fields,
        now: Instant,
    ) -> Outcome {
        match method {
            "Create" => return self.create(service, h, op, now),
            "KeepAlive" => return self.keep_alive(service, h, now),
            "Close" => return self.close(service, h, op),
            _ => {}
        }
        if service == Service::Counter {
            // The counter has no sessions: every call applies as it comes.
            return self.counter(method, h, op);
        }
        let Some(session) = self.sessions.get(&h.session_id) else {
            return Outcome::Status(UNKNOWN, format!("unknown session {}", h.session_id));
        };
        if is_query(method) {
            if session.last_applied < h.request_id || self.index < h.index {
                return Outcome::Wait;
            }
            return self.query(service, method, h, op);
        }
        // A command: in sequence, once.
        if h.request_id != 0 {
            if h.request_id > session.last_applied + 1 {
                return Outcome::Wait;
            }
            if h.request_id <= session.last_applied {
                return self.again(h);
            }
        }
        self.index += 1;
        *self
            .applied
            .entry((h.session_id, h.request_id))
            .or_default() += 1;
        let outcome = self.command(service, method, h, op);
        let session = self.sessions.get_mut(&h.session_id).expect("checked above");
        if h.request_id != 0 {
            session.last_applied = h.request_id;
            if let Outcome::Reply(bytes) = &outcome {
                session.saved.insert(h.request_id, bytes.clone());
            }
        }
        outcome
    }

    /// A command sent again: its saved response, or its stream replayed and resumed.
    fn again(&mut self, h: &Header) -> Outcome {
        let session = self
            .sessions
            .get_mut(&h.session_id)
            .expect("checked by the caller");
        if let Some(stream) = session.streams.get_mut(&h.request_id) {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            stream.live = Some(tx);
            return Outcome::Stream {
                now: stream.cache.values().cloned().collect(),
                live: Some(rx),
            };
        }
        match session.saved.get(&h.request_id) {
            Some(bytes) => Outcome::Reply(bytes.clone()),
            None => Outcome::Status(
                UNKNOWN,
                format!(
                    "sequence number {} has already been acknowledged",
                    h.request_id
                ),
            ),
        }
    }

    fn create(&mut self, service: Service, h: &Header, op: &Fields, now: Instant) -> Outcome {
        self.index += 1;
        if service == Service::Counter {
            return Outcome::Reply(response(0, self.index, None, &[]));
        }
        let timeout = duration(op.bytes(2)).unwrap_or(Duration::from_secs(30));
        let id = self.index;
        self.sessions.insert(
            id,
            Session {
                service,
                name: h.name.clone(),
                timeout,
                last_keepalive: now,
                last_applied: 0,
                saved: BTreeMap::new(),
                streams: BTreeMap::new(),
            },
        );
        Outcome::Reply(response(id, self.index, None, &[]))
    }

    fn keep_alive(&mut self, service: Service, h: &Header, now: Instant) -> Outcome {
        self.index += 1;
        let index = self.index;
        let Some(session) = self.sessions.get_mut(&h.session_id) else {
            return Outcome::Status(UNKNOWN, format!("unknown session {}", h.session_id));
        };
        // A session expires only here: when a KeepAlive on its primitive is applied
        // and its own last one is older than its timeout. This one's session is
        // checked first, at the time it asks.
        if now.saturating_duration_since(session.last_keepalive) > session.timeout {
            self.sessions.remove(&h.session_id);
            return Outcome::Status(UNKNOWN, format!("unknown session {}", h.session_id));
        }
        session.last_keepalive = now;
        session.saved.retain(|&n, _| n > h.request_id);
        let listed: BTreeMap<u64, u64> = h.streams.iter().copied().collect();
        session.streams.retain(|id, stream| match listed.get(id) {
            Some(&acked) => {
                stream.cache.retain(|&n, _| n > acked);
                true
            }
            None => *id > h.request_id,
        });
        let name = session.name.clone();
        self.sessions.retain(|_, s| {
            s.service != service
                || s.name != name
                || now.saturating_duration_since(s.last_keepalive) <= s.timeout
        });
        Outcome::Reply(response(h.session_id, index, None, &[]))
    }

    fn close(&mut self, service: Service, h: &Header, op: &Fields) -> Outcome {
        self.index += 1;
        if op.varint(2) != 0 {
            match service {
                Service::Map => drop(self.maps.remove(&h.name)),
                Service::Set => drop(self.sets.remove(&h.name)),
                Service::Counter => drop(self.counters.remove(&h.name)),
            }
            self.sessions
                .retain(|_, s| s.service != service || s.name != h.name);
        }
        if service != Service::Counter
            && self.sessions.remove(&h.session_id).is_none()
            && op.varint(2) == 0
        {
            return Outcome::Status(UNKNOWN, format!("unknown session {}", h.session_id));
        }
        Outcome::Reply(response(h.session_id, self.index, None, &[]))
    }

    fn counter(&mut self, method: &str, h: &Header, op: &Fields) -> Outcome {
        let value = self.counters.entry(h.name.clone()).or_default();
        let before = *value;
        let mut body = Vec::new();
        match method {
            "Get" => {
                varint_field(2, before as u64, &mut body);
                return Outcome::Reply(response(0, self.index, None, &body));
            }
            "Set" => *value = op.varint(2) as i64,
            "Increment" => *value = before.wrapping_add(op.varint(2) as i64),
            "Decrement" => *value = before.wrapping_sub(op.varint(2) as i64),
            other => return Outcome::Status(12, format!("no counter method {other}")),
        }
        let after = *value;
        self.index += 1;
        varint_field(2, before as u64, &mut body);
        varint_field(3, after as u64, &mut body);
        Outcome::Reply(response(0, self.index, None, &body))
    }
}

/// Whether a map or set method reads without writing.
fn is_query(method: &str) -> bool {
    matches!(
        method,
        "Get" | "Exists" | "Size" | "Contains" | "Entries" | "Iterate"
    )
}

impl Partition {
    fn query(&mut self, service: Service, method: &str, h: &Header, op: &Fields) -> Outcome {
        let at = |body: &[u8]| response(h.session_id, self.index, None, body);
        let mut body = Vec::new();
        match (service, method) {
            (Service::Map, "Get") => {
                if let Some((value, version)) =
                    self.maps.get(&h.name).and_then(|m| m.get(&op.string(2)))
                {
                    bytes_field(2, value, &mut body);
                    varint_field(3, *version, &mut body);
                }
            }
            (Service::Map, "Exists") => {
                let found = self
                    .maps
                    .get(&h.name)
                    .is_some_and(|m| m.contains_key(&op.string(2)));
                varint_field(2, found as u64, &mut body);
            }
            (Service::Map, "Size") => varint_field(
                2,
                self.maps.get(&h.name).map_or(0, |m| m.len()) as u64,
                &mut body,
            ),
            (Service::Set, "Size") => varint_field(
                2,
                self.sets.get(&h.name).map_or(0, |s| s.len()) as u64,
                &mut body,
            ),
            (Service::Set, "Contains") => {
                let found = self
                    .sets
                    .get(&h.name)
                    .is_some_and(|s| s.contains(&op.string(2)));
                varint_field(2, found as u64, &mut body);
            }
            (Service::Map, "Entries") | (Service::Set, "Iterate") => {
                let s = h.session_id;
                let mut now = vec![response(s, self.index, Some((0, 0, OPEN_STREAM)), &[])];
                if service == Service::Map {
                    for (key, (value, version)) in self.maps.get(&h.name).into_iter().flatten() {
                        let mut b = Vec::new();
                        bytes_field(2, key.as_bytes(), &mut b);
                        bytes_field(3, value, &mut b);
                        varint_field(4, *version, &mut b);
                        now.push(response(s, self.index, Some((0, 0, RESPONSE)), &b));
                    }
                } else {
                    for value in self.sets.get(&h.name).into_iter().flatten() {
                        let mut b = Vec::new();
                        bytes_field(2, value.as_bytes(), &mut b);
                        now.push(response(s, self.index, Some((0, 0, RESPONSE)), &b));
                    }
                }
                now.push(response(s, self.index, Some((0, 0, CLOSE_STREAM)), &[]));
                return Outcome::Stream { now, live: None };
            }
            (_, other) => return Outcome::Status(12, format!("no method {other}")),
        }
        Outcome::Reply(at(&body))
    }
}
