//! Commands on maps and sets, and the events they raise on open Events streams.

use crate::state::{
    response, EventStream, Header, Outcome, Partition, Service, OPEN_STREAM, RESPONSE,
};
use crate::wire::{bytes_field, varint_field, Fields};

/// Map and set statuses (atomix.map.ResponseStatus, atomix.set.ResponseStatus).
const OK: u64 = 0;
const NOOP: u64 = 1;
const PRECONDITION_FAILED: u64 = 3;

/// Map event types, and the set's.
const INSERTED: u64 = 1;
const UPDATED: u64 = 2;
const MAP_REMOVED: u64 = 3;
const MAP_OPEN: u64 = 4;
const ADDED: u64 = 1;
const SET_REMOVED: u64 = 2;
const SET_OPEN: u64 = 3;

impl Partition {
    /// Applies a map or set command at `self.index` (already advanced).
    pub(crate) fn command(
        &mut self,
        service: Service,
        method: &str,
        h: &Header,
        op: &Fields,
    ) -> Outcome {
        let index = self.index;
        let reply = |body: &[u8]| Outcome::Reply(response(h.session_id, index, None, body));
        let mut body = Vec::new();
        match (service, method) {
            (Service::Map, "Put") => {
                let key = op.string(2);
                let map = self.maps.entry(h.name.clone()).or_default();
                let previous = map.get(&key).cloned();
                let version = op.varint(4);
                if version != 0 && previous.as_ref().map(|p| p.1) != Some(version) {
                    varint_field(2, PRECONDITION_FAILED, &mut body);
                    return reply(&body);
                }
                let value = op.bytes(3).to_vec();
                map.insert(key.clone(), (value.clone(), index));
                varint_field(2, OK, &mut body);
                if let Some((v, ver)) = &previous {
                    bytes_field(5, v, &mut body);
                    varint_field(6, *ver, &mut body);
                }
                let kind = if previous.is_some() {
                    UPDATED
                } else {
                    INSERTED
                };
                self.map_event(h, kind, &key, &value, index);
            }
            (Service::Map, "Replace") => {
                let key = op.string(2);
                let map = self.maps.entry(h.name.clone()).or_default();
                let Some((value, version)) = map.get(&key).cloned() else {
                    varint_field(2, PRECONDITION_FAILED, &mut body);
                    return reply(&body);
                };
                if !holds(op, &value, version) {
                    varint_field(2, PRECONDITION_FAILED, &mut body);
                    return reply(&body);
                }
                let new = op.bytes(5).to_vec();
                map.insert(key.clone(), (new.clone(), index));
                varint_field(2, OK, &mut body);
                bytes_field(5, &value, &mut body);
                varint_field(6, version, &mut body);
                self.map_event(h, UPDATED, &key, &new, index);
            }
            (Service::Map, "Remove") => {
                let key = op.string(2);
                let map = self.maps.entry(h.name.clone()).or_default();
                let Some((value, version)) = map.get(&key).cloned() else {
                    varint_field(2, NOOP, &mut body);
                    return reply(&body);
                };
                if !holds(op, &value, version) {
                    varint_field(2, PRECONDITION_FAILED, &mut body);
                    return reply(&body);
                }
                map.remove(&key);
                varint_field(2, OK, &mut body);
                bytes_field(3, &value, &mut body);
                varint_field(4, version, &mut body);
                self.map_event(h, MAP_REMOVED, &key, &value, index);
            }
            (Service::Map, "Clear") => drop(self.maps.remove(&h.name)),
            (Service::Set, "Add") => {
                let value = op.string(2);
                let added = self
                    .sets
                    .entry(h.name.clone())
                    .or_default()
                    .insert(value.clone());
                varint_field(2, if added { OK } else { NOOP }, &mut body);
                varint_field(3, added as u64, &mut body);
                if added {
                    self.set_event(h, ADDED, &value, index);
                }
            }
            (Service::Set, "Remove") => {
                let value = op.string(2);
                let removed = self.sets.entry(h.name.clone()).or_default().remove(&value);
                varint_field(2, if removed { OK } else { NOOP }, &mut body);
                varint_field(3, removed as u64, &mut body);
                if removed {
                    self.set_event(h, SET_REMOVED, &value, index);
                }
            }
            (Service::Set, "Clear") => drop(self.sets.remove(&h.name)),
            (Service::Map | Service::Set, "Events") => return self.open_events(service, h, op),
            (_, other) => return Outcome::Status(12, format!("no method {other}")),
        }
        reply(&body)
    }

    /// Opens an Events stream: OPEN_STREAM (response 1, cached like every event until
    /// acknowledged), then every event as it happens.
    fn open_events(&mut self, service: Service, h: &Header, op: &Fields) -> Outcome {
        let index = self.index;
        let session = self
            .sessions
            .get_mut(&h.session_id)
            .expect("checked by the caller");
        let mut body = Vec::new();
        varint_field(
            2,
            if service == Service::Map {
                MAP_OPEN
            } else {
                SET_OPEN
            },
            &mut body,
        );
        let open = response(
            h.session_id,
            index,
            Some((h.request_id, 1, OPEN_STREAM)),
            &body,
        );
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut stream = EventStream {
            key: if service == Service::Map {
                op.string(3)
            } else {
                String::new()
            },
            last_response: 1,
            live: Some(tx),
            ..Default::default()
        };
        stream.cache.insert(1, open.clone());
        session.streams.insert(h.request_id, stream);
        Outcome::Stream {
            now: vec![open],
            live: Some(rx),
        }
    }

    fn map_event(&mut self, h: &Header, kind: u64, key: &str, value: &[u8], version: u64) {
        let mut body = Vec::new();
        varint_field(2, kind, &mut body);
        bytes_field(3, key.as_bytes(), &mut body);
        bytes_field(4, value, &mut body);
        varint_field(5, version, &mut body);
        self.publish(Service::Map, h, key, &body);
    }

    fn set_event(&mut self, h: &Header, kind: u64, value: &str, _index: u64) {
        let mut body = Vec::new();
        varint_field(2, kind, &mut body);
        bytes_field(3, value.as_bytes(), &mut body);
        self.publish(Service::Set, h, "", &body);
    }

    /// Sends an event to every open stream on the primitive (of any session), caching
    /// it there until acknowledged.
    fn publish(&mut self, service: Service, h: &Header, key: &str, body: &[u8]) {
        let index = self.index;
        for (&session_id, session) in self.sessions.iter_mut() {
            if session.service != service || session.name != h.name {
                continue;
            }
            for (&stream_id, stream) in session.streams.iter_mut() {
                if !stream.key.is_empty() && stream.key != key {
                    continue;
                }
                stream.last_response += 1;
                let id = stream.last_response;
                let message = response(session_id, index, Some((stream_id, id, RESPONSE)), body);
                stream.cache.insert(id, message.clone());
                if let Some(live) = &stream.live {
                    if live.send(message).is_err() {
                        stream.live = None;
                    }
                }
            }
        }
    }
}

/// Whether a Replace's or Remove's preconditions hold for an entry of `value` at
/// `version`: its `previous_value` / `value` (field 3) and version (field 4), when set.
fn holds(op: &Fields, value: &[u8], version: u64) -> bool {
    let (want_value, want_version) = (op.bytes(3), op.varint(4));
    (want_version == 0 || want_version == version) && (want_value.is_empty() || want_value == value)
}
