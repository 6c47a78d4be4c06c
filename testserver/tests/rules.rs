//! The test server keeps the 2020 server's session rules (shared/ATOMIX-SESSIONS.md).

use atomix_testserver::client::{counter, map, next_message, request, set, Client, Head};
use atomix_testserver::{bytes_field, message_field, varint_field, Group};
use bytes::BytesMut;
use std::time::Duration;

fn put(key: &str, value: &str) -> Vec<u8> {
    let mut b = Vec::new();
    bytes_field(2, key.as_bytes(), &mut b);
    bytes_field(3, value.as_bytes(), &mut b);
    b
}

fn key(k: &str) -> Vec<u8> {
    let mut b = Vec::new();
    bytes_field(2, k.as_bytes(), &mut b);
    b
}

/// A CreateRequest's timeout field (a Duration of `secs`).
fn timeout(secs: u64) -> Vec<u8> {
    let mut d = Vec::new();
    varint_field(1, secs, &mut d);
    let mut b = Vec::new();
    message_field(2, &d, &mut b);
    b
}

async fn create(c: &Client, name: &str, body: &[u8]) -> u64 {
    let r = c
        .call(
            &map("Create"),
            &request(
                &Head {
                    name,
                    ..Default::default()
                },
                body,
            ),
        )
        .await;
    assert_eq!(r.code, 0, "{}", r.message);
    r.head(0).session_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_apply_in_order_once_and_answer_again_until_acknowledged() {
    let g = Group::start(1).await;
    let c = Client::connect(&g.addrs[0]).await;
    let s = create(&c, "m", &[]).await;
    assert!(s > 0);
    let head = |request_id| Head {
        name: "m",
        session_id: s,
        request_id,
        ..Default::default()
    };
    // Command 2 arrives first: it waits for 1.
    let early = {
        let c = c.clone();
        let m = request(&head(2), &put("k", "two"));
        tokio::spawn(async move { c.call(&map("Put"), &m).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!early.is_finished(), "command 2 waits for command 1");
    let one = c
        .call(&map("Put"), &request(&head(1), &put("k", "one")))
        .await;
    assert_eq!(one.code, 0);
    let two = early.await.unwrap();
    assert_eq!(two.code, 0);
    assert_eq!(two.fields(0).bytes(5), b"one", "applied after 1");
    // Sent again: the same bytes, applied once.
    let again = c
        .call(&map("Put"), &request(&head(1), &put("k", "one")))
        .await;
    assert_eq!(again.messages, one.messages);
    assert_eq!(g.applied_twice(), 0);
    // Acknowledged by a KeepAlive: refused as the server does.
    let ka = c.call(&map("KeepAlive"), &request(&head(1), &[])).await;
    assert_eq!(ka.code, 0);
    let late = c
        .call(&map("Put"), &request(&head(1), &put("k", "one")))
        .await;
    assert_eq!(
        (late.code, late.message.as_str()),
        (2, "sequence number 1 has already been acknowledged")
    );
    // An unknown session, and 0.
    for id in [s + 1000, 0] {
        let r = c
            .call(
                &map("Get"),
                &request(
                    &Head {
                        name: "m",
                        session_id: id,
                        ..Default::default()
                    },
                    &key("k"),
                ),
            )
            .await;
        assert_eq!((r.code, r.message), (2, format!("unknown session {id}")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_waits_for_the_sessions_last_command_and_the_index() {
    let g = Group::start(1).await;
    let c = Client::connect(&g.addrs[0]).await;
    let s = create(&c, "m", &[]).await;
    let path = map("Get");
    let ahead = request(
        &Head {
            name: "m",
            session_id: s,
            index: 1_000,
            ..Default::default()
        },
        &key("k"),
    );
    let far = c.call(&path, &ahead);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), far)
            .await
            .is_err(),
        "index 1000 is ahead"
    );
    let waiting = {
        let c = c.clone();
        let m = request(
            &Head {
                name: "m",
                session_id: s,
                request_id: 1,
                ..Default::default()
            },
            &key("k"),
        );
        tokio::spawn(async move { c.call(&map("Get"), &m).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "waits for command 1");
    c.call(
        &map("Put"),
        &request(
            &Head {
                name: "m",
                session_id: s,
                request_id: 1,
                ..Default::default()
            },
            &put("k", "v"),
        ),
    )
    .await;
    let r = waiting.await.unwrap();
    assert_eq!(r.fields(0).bytes(2), b"v", "reads its own write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_only_inside_a_keepalive() {
    let g = Group::start(1).await;
    let c = Client::connect(&g.addrs[0]).await;
    let short = create(&c, "m", &timeout(1)).await;
    let long = create(&c, "m", &timeout(60)).await;
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    // Past its timeout, but no KeepAlive ran: still there.
    let get = |id| {
        request(
            &Head {
                name: "m",
                session_id: id,
                ..Default::default()
            },
            &key("k"),
        )
    };
    assert_eq!(c.call(&map("Get"), &get(short)).await.code, 0);
    // Another session's KeepAlive on the same map expires it.
    c.call(
        &map("KeepAlive"),
        &request(
            &Head {
                name: "m",
                session_id: long,
                ..Default::default()
            },
            &[],
        ),
    )
    .await;
    let r = c.call(&map("Get"), &get(short)).await;
    assert_eq!((r.code, r.message), (2, format!("unknown session {short}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_cached_until_acknowledged_and_replayed() {
    let g = Group::start(1).await;
    let c = Client::connect(&g.addrs[0]).await;
    let s = create(&c, "m", &[]).await;
    let events = request(
        &Head {
            name: "m",
            session_id: s,
            request_id: 1,
            ..Default::default()
        },
        &[],
    );
    let (code, _, mut body) = c.start(&map("Events"), &events).await;
    assert_eq!(code, u32::MAX, "a stream, no status yet");
    let mut held = BytesMut::new();
    let open = next_message(&mut body, &mut held, Duration::from_secs(5))
        .await
        .unwrap();
    for (n, k) in ["a", "b", "c"].iter().enumerate() {
        let h = Head {
            name: "m",
            session_id: s,
            request_id: 2 + n as u64,
            ..Default::default()
        };
        c.call(&map("Put"), &request(&h, &put(k, "v"))).await;
    }
    let mut got = vec![open];
    for _ in 0..3 {
        got.push(
            next_message(&mut body, &mut held, Duration::from_secs(5))
                .await
                .unwrap(),
        );
    }
    drop(body);
    // Acknowledge up to response 2, then send the same Events again: 3 and 4 replay.
    let ka = Head {
        name: "m",
        session_id: s,
        request_id: 4,
        streams: &[(1, 2)],
        ..Default::default()
    };
    c.call(&map("KeepAlive"), &request(&ka, &[])).await;
    let (_, _, mut again) = c.start(&map("Events"), &events).await;
    let mut held = BytesMut::new();
    let r3 = next_message(&mut again, &mut held, Duration::from_secs(5))
        .await
        .unwrap();
    let r4 = next_message(&mut again, &mut held, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!([r3, r4], [got[2].clone(), got[3].clone()]);
    let reply = atomix_testserver::client::Reply {
        messages: got,
        ..Default::default()
    };
    let ids: Vec<(u64, u64, u64)> = (0..4)
        .map(|i| {
            let h = reply.head(i);
            (h.stream_id, h.response_id, h.kind)
        })
        .collect();
    assert_eq!(ids, [(1, 1, 1), (1, 2, 0), (1, 3, 0), (1, 4, 0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_name_the_leader_and_sets_and_counters_work() {
    let g = Group::start(3).await;
    g.set_leader(2);
    let follower = Client::connect(&g.addrs[0]).await;
    let r = follower
        .call(
            &set("Create"),
            &request(
                &Head {
                    name: "s",
                    ..Default::default()
                },
                &[],
            ),
        )
        .await;
    let f = r.fields(0);
    let header = atomix_testserver::Fields::read(f.bytes(1)).unwrap();
    assert_eq!(
        (header.varint(6), header.bytes(5)),
        (2, g.addrs[2].as_bytes())
    );
    let leader = Client::connect(&g.addrs[2]).await;
    let r = leader
        .call(
            &set("Create"),
            &request(
                &Head {
                    name: "s",
                    ..Default::default()
                },
                &[],
            ),
        )
        .await;
    let s = r.head(0).session_id;
    let add = request(
        &Head {
            name: "s",
            session_id: s,
            request_id: 1,
            ..Default::default()
        },
        &key("x"),
    );
    assert_eq!(leader.call(&set("Add"), &add).await.fields(0).varint(3), 1);
    let it = leader
        .call(
            &set("Iterate"),
            &request(
                &Head {
                    name: "s",
                    session_id: s,
                    ..Default::default()
                },
                &[],
            ),
        )
        .await;
    assert_eq!(it.messages.len(), 3, "open, x, close");
    assert_eq!(it.fields(1).bytes(2), b"x");
    // The counter: session 0, no sequencing.
    let r = leader
        .call(
            &counter("Create"),
            &request(
                &Head {
                    name: "c",
                    ..Default::default()
                },
                &[],
            ),
        )
        .await;
    assert_eq!(r.head(0).session_id, 0);
    let mut delta = Vec::new();
    varint_field(2, 5, &mut delta);
    for _ in 0..2 {
        leader
            .call(
                &counter("Increment"),
                &request(
                    &Head {
                        name: "c",
                        ..Default::default()
                    },
                    &delta,
                ),
            )
            .await;
    }
    let r = leader
        .call(
            &counter("Get"),
            &request(
                &Head {
                    name: "c",
                    ..Default::default()
                },
                &[],
            ),
        )
        .await;
    assert_eq!(r.fields(0).varint(2), 10);
}
