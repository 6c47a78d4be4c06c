//! The client session alone, fed events in orders a proxy can see them.

use super::*;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(30);

fn session(partitions: usize, limit: usize) -> (ClientSession<u64>, Instant) {
    let now = Instant::now();
    let parts = (0..partitions as u64)
        .map(|p| PartitionSession::new(100 + p, 1000 * p))
        .collect();
    (
        ClientSession::new(SessionIds::new().next(), T, now, parts, limit),
        now,
    )
}

fn send(c: Command<u64>) -> Upstream {
    match c {
        Command::Send(up) => up,
        other => panic!("{other:?}"),
    }
}

/// A small deterministic generator: the orders are the same on every run.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

#[test]
fn commands_go_out_in_the_clients_order_whatever_order_they_arrive_in() {
    // 12 commands over 3 partitions arrive shuffled, some twice; whenever one waits,
    // it is asked again after each command given out (as the proxy wakes waiters).
    // Each partition sees its own numbers 1, 2, 3... in the client's order.
    for seed in 0..500 {
        let (mut s, _) = session(3, usize::MAX);
        let mut rng = Lcg(seed);
        let target = |n: u64| ((n * 7) % 3) as usize;
        let mut arrivals: Vec<u64> = (1..=12).chain((1..=12).filter(|n| n % 4 == 0)).collect();
        for i in (1..arrivals.len()).rev() {
            arrivals.swap(i, rng.below(i + 1));
        }
        let mut waiting: Vec<u64> = Vec::new();
        let mut sent: Vec<Vec<(u64, u64)>> = vec![Vec::new(); 3];
        let mut handle = |s: &mut ClientSession<u64>, n: u64, waiting: &mut Vec<u64>| match s
            .command(n, target(n))
        {
            Command::Send(up) => {
                let log = &mut sent[up.partition];
                if !log.contains(&(n, up.request_id)) {
                    log.push((n, up.request_id));
                }
                true
            }
            Command::Wait => {
                waiting.push(n);
                false
            }
            other => panic!("{other:?}"),
        };
        for n in arrivals {
            if handle(&mut s, n, &mut waiting) {
                loop {
                    let before = waiting.len();
                    let ready: Vec<u64> = std::mem::take(&mut waiting);
                    for w in ready {
                        handle(&mut s, w, &mut waiting);
                    }
                    if waiting.len() == before {
                        break;
                    }
                }
            }
        }
        assert!(waiting.is_empty(), "seed {seed}: {waiting:?}");
        assert_eq!(s.issued(), 12);
        for (p, log) in sent.iter().enumerate() {
            let clients: Vec<u64> = log.iter().map(|e| e.0).collect();
            let mut sorted = clients.clone();
            sorted.sort();
            assert_eq!(
                clients, sorted,
                "seed {seed}, partition {p}: in client order"
            );
            let seqs: Vec<u64> = log.iter().map(|e| e.1).collect();
            assert_eq!(
                seqs,
                (1..=log.len() as u64).collect::<Vec<_>>(),
                "seed {seed}"
            );
        }
    }
}

#[test]
fn a_retry_is_sent_again_while_in_flight_answered_from_the_save_then_refused() {
    let (mut s, now) = session(2, usize::MAX);
    let up = send(s.command(1, 1));
    assert_eq!((up.session_id, up.request_id, up.index), (101, 1, 1000));
    // In flight: the same fields again; the partition answers the number once.
    assert_eq!(send(s.command(1, 1)), up);
    s.answered(1, 1005, 77, 8);
    s.answered(1, 1009, 78, 8); // a second answer to a retry: the first is kept
    assert_eq!(s.command(1, 1), Command::Saved(77));
    assert_eq!(s.saved_bytes(), 8);
    // Acknowledged by the client: forgotten, and refused as the server does.
    s.keep_alive(now, 1).unwrap();
    assert_eq!(s.saved_bytes(), 0);
    let refused = s.command(1, 1);
    assert_eq!(refused, Command::Refused(Refusal::Acknowledged(1)));
    let Command::Refused(r) = refused else {
        unreachable!()
    };
    assert_eq!(
        r.to_string(),
        "sequence number 1 has already been acknowledged"
    );
}

#[test]
fn only_a_contiguous_prefix_is_acknowledged_upstream() {
    let (mut s, _) = session(1, usize::MAX);
    for n in 1..=4 {
        send(s.command(n, 0));
    }
    // Answers arrive 2, 4, 1: 3 is still in flight, so 2 is the most to acknowledge.
    for n in [2, 4, 1] {
        s.answered(n, 0, n, 1);
    }
    assert_eq!(s.keep_alives().collect::<Vec<_>>(), [(0, 100, 2)]);
    s.answered(3, 0, 3, 1);
    assert_eq!(s.keep_alives().collect::<Vec<_>>(), [(0, 100, 4)]);
}

#[test]
fn a_client_that_claims_too_much_keeps_commands_in_flight() {
    let (mut s, now) = session(1, usize::MAX);
    send(s.command(1, 0));
    send(s.command(2, 0));
    s.answered(1, 0, 1, 1);
    s.keep_alive(now, 2).unwrap(); // 2 was never answered
                                   // 2 is still in flight: its retry is sent again, not refused.
    assert_eq!(send(s.command(2, 0)).request_id, 2);
}

#[test]
fn reads_see_the_clients_writes_and_never_go_back() {
    let (mut s, _) = session(2, usize::MAX);
    send(s.command(1, 0));
    let q = s.query(0).unwrap();
    assert_eq!(
        (q.session_id, q.request_id, q.index),
        (100, 1, 0),
        "waits for command 1"
    );
    s.answered(1, 40, 0, 0);
    assert_eq!(s.query(0).unwrap().index, 40);
    s.read(0, 35); // an answer from a replica behind: the index stays
    assert_eq!(s.query(0).unwrap().index, 40);
    s.read(0, 50);
    assert_eq!(s.query(0).unwrap().index, 50);
    assert_eq!(
        s.query(1).unwrap().index,
        1000,
        "each partition its own index"
    );
}

#[test]
fn memory_for_unacknowledged_answers_is_bounded() {
    let (mut s, now) = session(1, 100);
    for n in 1..=3 {
        send(s.command(n, 0));
        s.answered(n, 0, n, 40);
    }
    let refused = s.command(4, 0);
    let Command::Refused(
        r @ Refusal::TooMuchUnacknowledged {
            held: 120,
            limit: 100,
        },
    ) = refused
    else {
        panic!("{refused:?}")
    };
    assert!(r.to_string().contains("KeepAlive"), "{r}");
    // Retries of what was saved are still answered.
    assert_eq!(s.command(3, 0), Command::Saved(3));
    s.keep_alive(now, 2).unwrap();
    assert_eq!(send(s.command(4, 0)).request_id, 4);
}

#[test]
fn a_session_expires_after_its_timeout_without_keepalive_and_ends_for_good() {
    let (mut s, now) = session(1, usize::MAX);
    s.keep_alive(now + T / 2, 0).unwrap();
    assert!(!s.expired(now + T));
    assert!(s.expired(now + T / 2 + T + Duration::from_millis(1)));
    let late = now + 2 * T;
    assert_eq!(s.keep_alive(late, 0), Err(Refusal::UnknownSession(s.id())));
    assert!(s.is_ended());
    let refused = s.command(1, 0);
    assert_eq!(refused, Command::Refused(Refusal::UnknownSession(s.id())));
    assert_eq!(s.query(0), Err(Refusal::UnknownSession(s.id())));
    let Command::Refused(r) = refused else {
        unreachable!()
    };
    assert_eq!(r.to_string(), format!("unknown session {}", s.id()));
}

#[test]
fn fanned_out_commands_take_a_number_on_every_partition() {
    let (mut s, _) = session(3, usize::MAX);
    send(s.command(1, 2));
    let Command::SendAll(ups) = s.command_all(2) else {
        panic!()
    };
    let numbers: Vec<(u64, u64)> = ups.iter().map(|u| (u.session_id, u.request_id)).collect();
    assert_eq!(numbers, [(100, 1), (101, 1), (102, 2)]);
    // Retried before every part answered: the same numbers.
    assert_eq!(s.command_all(2), Command::SendAll(ups.clone()));
    assert!(!s.part_answered(2, 0, 5));
    assert!(
        !s.part_answered(2, 0, 5),
        "a part answered twice counts once"
    );
    s.answered(2, 0, 9, 1); // not all parts yet: not saved
    assert!(!s.part_answered(2, 2, 5));
    assert!(s.part_answered(2, 1, 1007));
    s.answered(2, 0, 22, 1);
    assert_eq!(s.command_all(2), Command::Saved(22));
    assert_eq!(
        s.keep_alives().map(|k| k.2).collect::<Vec<_>>(),
        [1, 1, 0],
        "partition 2's command 1 is still in flight"
    );
    assert_eq!(s.query(1).unwrap().index, 1007);
}

#[test]
fn request_id_zero_is_not_sequenced() {
    let (mut s, _) = session(2, usize::MAX);
    let up = send(s.command(0, 1));
    assert_eq!((up.session_id, up.request_id), (101, 0));
    assert_eq!(s.issued(), 0);
    assert_eq!(send(s.command(1, 1)).request_id, 1);
}

#[test]
fn proxy_session_ids_are_unique_and_apart_from_partition_ids() {
    let ids = SessionIds::new();
    let all: std::collections::BTreeSet<u64> = (0..1000).map(|_| ids.next()).collect();
    assert_eq!(all.len(), 1000);
    assert!(all.iter().all(|&id| id > u64::MAX / 2));
}

#[test]
fn an_opened_stream_is_answered_and_resumes_with_the_same_numbers() {
    let (mut s, now) = session(2, usize::MAX);
    let Command::SendAll(ups) = s.command_all(1) else {
        panic!()
    };
    send(s.command(2, 0));
    s.answered(2, 0, 2, 1);
    s.part_answered(1, 0, 0);
    // Not every partition opened: the client cannot acknowledge past it.
    s.keep_alive(now, 2).unwrap();
    assert_eq!(s.command(2, 0), Command::Saved(2));
    s.part_answered(1, 1, 0);
    s.opened(1);
    s.keep_alive(now, 2).unwrap();
    assert_eq!(s.command(2, 0), Command::Refused(Refusal::Acknowledged(2)));
    // Sent again after the client's acknowledgement: the same numbers, to resume.
    assert_eq!(s.command_all(1), Command::SendAll(ups));
    // Closed (a KeepAlive no longer lists it): refused as acknowledged.
    s.close_stream(1);
    assert_eq!(s.command_all(1), Command::Refused(Refusal::Acknowledged(1)));
}
