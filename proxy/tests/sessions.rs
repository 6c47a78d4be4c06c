//! atomix-proxy end to end with sessions it holds for its clients: a client that knows
//! nothing of partitions uses three partitions of three replicas (the workspace's test
//! server, which keeps the 2020 server's session rules) as one endpoint.
//!
//! The binary runs as a child process; every loop is bounded in count and time.

mod common;

use atomix_testserver::client::{self as c, map, next_message, request, set, Client, Head, Reply};
use atomix_testserver::{bytes_field, message_field, varint_field, Group};
use bytes::BytesMut;
use common::Proxy;
use std::sync::Arc;
use std::time::Duration;

async fn cluster() -> (Vec<Arc<Group>>, Proxy) {
    let mut groups = Vec::new();
    for _ in 0..3 {
        groups.push(Group::start(3).await);
    }
    let args: Vec<String> = groups
        .iter()
        .flat_map(|g| ["--partition".to_owned(), g.addrs.join(",")])
        .collect();
    let proxy = Proxy::start(&args, 0);
    (groups, proxy)
}

fn field(number: u64, value: &str) -> Vec<u8> {
    let mut b = Vec::new();
    bytes_field(number, value.as_bytes(), &mut b);
    b
}

/// A client of one session, numbering its commands as a direct client does.
struct Session<'a> {
    client: &'a Client,
    name: &'a str,
    id: u64,
    next: u64,
    service: fn(&str) -> String,
}

impl<'a> Session<'a> {
    async fn create(client: &'a Client, service: fn(&str) -> String, name: &'a str) -> Session<'a> {
        let r = client
            .call(
                &service("Create"),
                &request(
                    &Head {
                        name,
                        ..Default::default()
                    },
                    &[],
                ),
            )
            .await;
        assert_eq!(r.code, 0, "Create: {}", r.message);
        let id = r.head(0).session_id;
        assert!(id >> 63 == 1, "the proxy's id: {id}");
        Session {
            client,
            name,
            id,
            next: 0,
            service,
        }
    }

    fn head(&self, request_id: u64) -> Head<'a> {
        Head {
            name: self.name,
            session_id: self.id,
            request_id,
            ..Default::default()
        }
    }

    async fn command(&mut self, method: &str, body: &[u8]) -> Reply {
        self.next += 1;
        let r = self
            .client
            .call(
                &(self.service)(method),
                &request(&self.head(self.next), body),
            )
            .await;
        assert_eq!(r.code, 0, "{method} {}: {}", self.next, r.message);
        r
    }

    async fn query(&self, method: &str, body: &[u8]) -> Reply {
        let r = self
            .client
            .call(
                &(self.service)(method),
                &request(&self.head(self.next), body),
            )
            .await;
        assert_eq!(r.code, 0, "{method}: {}", r.message);
        r
    }

    async fn size(&self) -> u64 {
        self.query("Size", &[]).await.fields(0).varint(2)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_over_three_partitions_is_one_map() {
    let (groups, proxy) = cluster().await;
    let client = Client::connect(&proxy.addr).await;
    let mut s = Session::create(&client, map, "m").await;
    for i in 0..1000 {
        s.command(
            "Put",
            &[field(2, &format!("k{i}")), field(3, &format!("v{i}"))].concat(),
        )
        .await;
    }
    // Every partition holds some of the keys.
    for g in &groups {
        assert!(
            g.state.lock().unwrap().index > 100,
            "keys spread over the partitions"
        );
    }
    for i in 0..1000 {
        let r = s.query("Get", &field(2, &format!("k{i}"))).await;
        assert_eq!(r.fields(0).bytes(2), format!("v{i}").as_bytes());
    }
    assert_eq!(s.size().await, 1000);
    let entries = s.query("Entries", &[]).await;
    let mut keys: Vec<String> = (0..entries.messages.len())
        .filter(|&i| entries.head(i).kind == 0)
        .map(|i| entries.fields(i).string(2))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 1000, "each key once");
    assert_eq!(entries.head(0).kind, 1, "one OPEN_STREAM first");
    assert_eq!(
        entries.head(entries.messages.len() - 1).kind,
        2,
        "one CLOSE_STREAM last"
    );
    // Events opened before 100 more Puts sees exactly those 100.
    s.next += 1;
    let events_id = s.next;
    let (_, _, mut body) = client
        .start(&map("Events"), &request(&s.head(events_id), &[]))
        .await;
    let mut held = BytesMut::new();
    let open = next_message(&mut body, &mut held, Duration::from_secs(5))
        .await
        .expect("OPEN_STREAM");
    let open = Reply {
        messages: vec![open],
        ..Default::default()
    };
    assert_eq!((open.head(0).kind, open.head(0).response_id), (1, 1));
    for i in 1000..1100 {
        s.command(
            "Put",
            &[field(2, &format!("k{i}")), field(3, "new")].concat(),
        )
        .await;
    }
    let mut seen = Vec::new();
    for _ in 0..100 {
        let m = next_message(&mut body, &mut held, Duration::from_secs(5))
            .await
            .expect("an event");
        seen.push(m);
    }
    let events = Reply {
        messages: seen,
        ..Default::default()
    };
    let mut keys: Vec<String> = (0..100).map(|i| events.fields(i).string(3)).collect();
    let ids: Vec<u64> = (0..100).map(|i| events.head(i).response_id).collect();
    assert_eq!(
        ids,
        (2..102).collect::<Vec<_>>(),
        "the proxy's own response ids"
    );
    keys.sort();
    let mut want: Vec<String> = (1000..1100).map(|i| format!("k{i}")).collect();
    want.sort();
    assert_eq!(keys, want);
    assert!(
        next_message(&mut body, &mut held, Duration::from_millis(300))
            .await
            .is_none(),
        "nothing more"
    );
    drop(body);
    s.command("Clear", &[]).await;
    assert_eq!(s.size().await, 0);
    let ka = client
        .call(&map("KeepAlive"), &request(&s.head(s.next), &[]))
        .await;
    assert_eq!(ka.code, 0, "{}", ka.message);
    let close = client.call(&map("Close"), &request(&s.head(0), &[])).await;
    assert_eq!(close.code, 0, "{}", close.message);
    let after = client
        .call(&map("Get"), &request(&s.head(s.next), &field(2, "k1")))
        .await;
    assert_eq!(
        (after.code, after.message),
        (2, format!("unknown session {}", s.id))
    );
    for g in &groups {
        assert_eq!(g.applied_twice(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_and_a_counter_through_the_proxy() {
    let (_groups, proxy) = cluster().await;
    let client = Client::connect(&proxy.addr).await;
    let mut s = Session::create(&client, set, "s").await;
    for i in 0..1000 {
        let r = s.command("Add", &field(2, &format!("e{i}"))).await;
        assert_eq!(r.fields(0).varint(3), 1, "added");
    }
    assert_eq!(s.size().await, 1000);
    let it = s.query("Iterate", &[]).await;
    let values: std::collections::BTreeSet<String> = (1..it.messages.len() - 1)
        .map(|i| it.fields(i).string(2))
        .collect();
    assert_eq!(values.len(), 1000);
    let r = s.query("Contains", &field(2, "e7")).await;
    assert_eq!(r.fields(0).varint(2), 1);
    s.command("Clear", &[]).await;
    assert_eq!(s.size().await, 0);
    // The counter has no sessions: it is routed by its name, as before.
    let mut delta = Vec::new();
    varint_field(2, 3, &mut delta);
    for _ in 0..10 {
        let r = client
            .call(
                &c::counter("Increment"),
                &request(
                    &Head {
                        name: "n",
                        ..Default::default()
                    },
                    &delta,
                ),
            )
            .await;
        assert_eq!(r.code, 0, "{}", r.message);
    }
    let r = client
        .call(
            &c::counter("Get"),
            &request(
                &Head {
                    name: "n",
                    ..Default::default()
                },
                &[],
            ),
        )
        .await;
    assert_eq!(r.fields(0).varint(2), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_apply_once_and_leader_changes_lose_nothing() {
    let (groups, proxy) = cluster().await;
    let client = Client::connect(&proxy.addr).await;
    let mut s = Session::create(&client, map, "m").await;
    let first = s
        .command("Put", &[field(2, "k"), field(3, "one")].concat())
        .await;
    // The same request again (a client's retry): the same answer, applied once.
    let again = client
        .call(
            &map("Put"),
            &request(&s.head(1), &[field(2, "k"), field(3, "one")].concat()),
        )
        .await;
    assert_eq!(again.messages, first.messages);
    for i in 0..200 {
        if i == 100 {
            // Every partition elects another leader mid-run.
            for g in &groups {
                g.set_leader(2);
            }
        }
        s.command("Put", &[field(2, &format!("k{i}")), field(3, "v")].concat())
            .await;
    }
    assert_eq!(s.size().await, 201);
    for g in &groups {
        assert_eq!(g.applied_twice(), 0, "nothing applied twice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_clients_each_see_their_own_map() {
    let (_groups, proxy) = cluster().await;
    let mut tasks = Vec::new();
    for c in 0..10 {
        let addr = proxy.addr.clone();
        tasks.push(tokio::spawn(async move {
            let client = Client::connect(&addr).await;
            let name = format!("m{c}");
            let mut s = Session::create(&client, map, &name).await;
            for i in 0..200 {
                s.command("Put", &[field(2, &format!("k{i}")), field(3, "v")].concat())
                    .await;
            }
            s.size().await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_ahead_of_a_gap_waits_and_a_lost_session_is_unknown() {
    let (groups, proxy) = cluster().await;
    let client = Client::connect(&proxy.addr).await;
    let s = Session::create(&client, map, "m").await;
    // Command 2 before 1: it waits, then both apply in order.
    let early = {
        let client = client.clone();
        let m = request(&s.head(2), &[field(2, "k"), field(3, "two")].concat());
        tokio::spawn(async move { client.call(&map("Put"), &m).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!early.is_finished());
    let one = client
        .call(
            &map("Put"),
            &request(&s.head(1), &[field(2, "k"), field(3, "one")].concat()),
        )
        .await;
    assert_eq!(one.code, 0, "{}", one.message);
    let two = early.await.unwrap();
    assert_eq!(two.fields(0).bytes(5), b"one", "2 applied after 1");
    // A KeepAlive, then a Create timeout that passes with none: the session expires.
    let mut d = Vec::new();
    varint_field(1, 1, &mut d);
    let mut body = Vec::new();
    message_field(2, &d, &mut body);
    let r = client
        .call(
            &map("Create"),
            &request(
                &Head {
                    name: "short",
                    ..Default::default()
                },
                &body,
            ),
        )
        .await;
    let short = r.head(0).session_id;
    tokio::time::sleep(Duration::from_millis(1_700)).await;
    let r = client
        .call(
            &map("Get"),
            &request(
                &Head {
                    name: "short",
                    session_id: short,
                    ..Default::default()
                },
                &field(2, "k"),
            ),
        )
        .await;
    assert_eq!((r.code, r.message), (2, format!("unknown session {short}")));
    drop(groups);
}

/// The next message of a stream, within 5 s.
async fn next(body: &mut h2::RecvStream, held: &mut BytesMut) -> Option<bytes::Bytes> {
    next_message(body, held, Duration::from_secs(5)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_again_replay_what_the_client_did_not_acknowledge() {
    let (_groups, proxy) = cluster().await;
    let client = Client::connect(&proxy.addr).await;
    let mut s = Session::create(&client, map, "m").await;
    s.next += 1;
    let events = request(&s.head(s.next), &[]);
    let (_, _, mut body) = client.start(&map("Events"), &events).await;
    let mut held = BytesMut::new();
    let open = next(&mut body, &mut held).await.expect("OPEN_STREAM");
    s.command("Put", &[field(2, "k1"), field(3, "v")].concat())
        .await;
    let first = next(&mut body, &mut held).await.expect("the event of k1");
    drop(body); // the client goes away without acknowledging anything
    s.command("Put", &[field(2, "k2"), field(3, "v")].concat())
        .await;
    // The same Events call again: what it had (1, 2), then what came meanwhile (3).
    let (_, _, mut body) = client.start(&map("Events"), &events).await;
    let mut held = BytesMut::new();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(
            next(&mut body, &mut held)
                .await
                .expect("a replayed or new response"),
        );
    }
    let r = Reply {
        messages: got.clone(),
        ..Default::default()
    };
    let ids: Vec<u64> = (0..3).map(|i| r.head(i).response_id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(&got[..2], &[open, first][..], "replayed byte for byte");
    assert_eq!(r.fields(2).string(3), "k2");
    assert!(
        next_message(&mut body, &mut held, Duration::from_millis(500))
            .await
            .is_none(),
        "no duplicate from the partitions' own replay"
    );
    drop(body);
    // Acknowledged up to 3 by a KeepAlive: sent again, nothing is replayed.
    let ka = Head {
        streams: &[(1, 3)],
        ..s.head(s.next)
    };
    let r = client.call(&map("KeepAlive"), &request(&ka, &[])).await;
    assert_eq!(r.code, 0, "{}", r.message);
    let (_, _, mut body) = client.start(&map("Events"), &events).await;
    let mut held = BytesMut::new();
    assert!(
        next_message(&mut body, &mut held, Duration::from_millis(500))
            .await
            .is_none(),
        "everything was acknowledged"
    );
}
