//! The routing table (`partition::route`) against every method of every service in
//! atomix-api 1954176, and the rule the Atomix Go client follows, worked out here apart
//! from the table: which methods need every partition, which route by an entry's key,
//! and how the header's `partition` (field 6) and the key are read when a message
//! repeats them or writes them with another wire type.

mod common;

use atomix_headers::partition::{fnv1a_32, method, methods, route, RouteError, Scope};
use atomix_headers::{Message, RequestEnvelope};
use common::{len_field, varint};

/// Every rpc of atomix-api 1954176's primitive services (proto/atomix/*/*.proto):
/// path, client-streaming, server-streaming.
const API: &[(&str, bool, bool)] = &[
    ("/atomix.counter.CounterService/Create", false, false),
    ("/atomix.counter.CounterService/Close", false, false),
    ("/atomix.counter.CounterService/Set", false, false),
    ("/atomix.counter.CounterService/Get", false, false),
    ("/atomix.counter.CounterService/Increment", false, false),
    ("/atomix.counter.CounterService/Decrement", false, false),
    ("/atomix.counter.CounterService/CheckAndSet", false, false),
    (
        "/atomix.election.LeaderElectionService/Create",
        false,
        false,
    ),
    (
        "/atomix.election.LeaderElectionService/KeepAlive",
        false,
        false,
    ),
    ("/atomix.election.LeaderElectionService/Close", false, false),
    ("/atomix.election.LeaderElectionService/Enter", false, false),
    (
        "/atomix.election.LeaderElectionService/Withdraw",
        false,
        false,
    ),
    (
        "/atomix.election.LeaderElectionService/Anoint",
        false,
        false,
    ),
    (
        "/atomix.election.LeaderElectionService/Promote",
        false,
        false,
    ),
    ("/atomix.election.LeaderElectionService/Evict", false, false),
    (
        "/atomix.election.LeaderElectionService/GetTerm",
        false,
        false,
    ),
    ("/atomix.election.LeaderElectionService/Events", false, true),
    ("/atomix.indexedmap.IndexedMapService/Create", false, false),
    (
        "/atomix.indexedmap.IndexedMapService/KeepAlive",
        false,
        false,
    ),
    ("/atomix.indexedmap.IndexedMapService/Close", false, false),
    ("/atomix.indexedmap.IndexedMapService/Size", false, false),
    ("/atomix.indexedmap.IndexedMapService/Exists", false, false),
    ("/atomix.indexedmap.IndexedMapService/Put", false, false),
    ("/atomix.indexedmap.IndexedMapService/Replace", false, false),
    ("/atomix.indexedmap.IndexedMapService/Get", false, false),
    (
        "/atomix.indexedmap.IndexedMapService/FirstEntry",
        false,
        false,
    ),
    (
        "/atomix.indexedmap.IndexedMapService/LastEntry",
        false,
        false,
    ),
    (
        "/atomix.indexedmap.IndexedMapService/PrevEntry",
        false,
        false,
    ),
    (
        "/atomix.indexedmap.IndexedMapService/NextEntry",
        false,
        false,
    ),
    ("/atomix.indexedmap.IndexedMapService/Remove", false, false),
    ("/atomix.indexedmap.IndexedMapService/Clear", false, false),
    ("/atomix.indexedmap.IndexedMapService/Events", false, true),
    ("/atomix.indexedmap.IndexedMapService/Entries", false, true),
    ("/atomix.leader.LeaderLatchService/Create", false, false),
    ("/atomix.leader.LeaderLatchService/KeepAlive", false, false),
    ("/atomix.leader.LeaderLatchService/Close", false, false),
    ("/atomix.leader.LeaderLatchService/Latch", false, false),
    ("/atomix.leader.LeaderLatchService/Get", false, false),
    ("/atomix.leader.LeaderLatchService/Events", false, true),
    ("/atomix.list.ListService/Create", false, false),
    ("/atomix.list.ListService/KeepAlive", false, false),
    ("/atomix.list.ListService/Close", false, false),
    ("/atomix.list.ListService/Size", false, false),
    ("/atomix.list.ListService/Contains", false, false),
    ("/atomix.list.ListService/Append", false, false),
    ("/atomix.list.ListService/Insert", false, false),
    ("/atomix.list.ListService/Get", false, false),
    ("/atomix.list.ListService/Set", false, false),
    ("/atomix.list.ListService/Remove", false, false),
    ("/atomix.list.ListService/Clear", false, false),
    ("/atomix.list.ListService/Events", false, true),
    ("/atomix.list.ListService/Iterate", false, true),
    ("/atomix.lock.LockService/Create", false, false),
    ("/atomix.lock.LockService/KeepAlive", false, false),
    ("/atomix.lock.LockService/Close", false, false),
    ("/atomix.lock.LockService/Lock", false, false),
    ("/atomix.lock.LockService/Unlock", false, false),
    ("/atomix.lock.LockService/IsLocked", false, false),
    ("/atomix.log.LogService/Produce", true, false),
    ("/atomix.log.LogService/Consume", false, true),
    ("/atomix.map.MapService/Create", false, false),
    ("/atomix.map.MapService/KeepAlive", false, false),
    ("/atomix.map.MapService/Close", false, false),
    ("/atomix.map.MapService/Size", false, false),
    ("/atomix.map.MapService/Exists", false, false),
    ("/atomix.map.MapService/Put", false, false),
    ("/atomix.map.MapService/Replace", false, false),
    ("/atomix.map.MapService/Get", false, false),
    ("/atomix.map.MapService/Remove", false, false),
    ("/atomix.map.MapService/Clear", false, false),
    ("/atomix.map.MapService/Events", false, true),
    ("/atomix.map.MapService/Entries", false, true),
    ("/atomix.set.SetService/Create", false, false),
    ("/atomix.set.SetService/KeepAlive", false, false),
    ("/atomix.set.SetService/Close", false, false),
    ("/atomix.set.SetService/Size", false, false),
    ("/atomix.set.SetService/Contains", false, false),
    ("/atomix.set.SetService/Add", false, false),
    ("/atomix.set.SetService/Remove", false, false),
    ("/atomix.set.SetService/Clear", false, false),
    ("/atomix.set.SetService/Events", false, true),
    ("/atomix.set.SetService/Iterate", false, true),
    ("/atomix.value.ValueService/Create", false, false),
    ("/atomix.value.ValueService/KeepAlive", false, false),
    ("/atomix.value.ValueService/Close", false, false),
    ("/atomix.value.ValueService/Set", false, false),
    ("/atomix.value.ValueService/Get", false, false),
    ("/atomix.value.ValueService/Events", false, true),
];

/// The scope the issue and the Go client give a method: map and set operations on the
/// whole map or on a per-partition session need every partition; those on one entry
/// hash its key (field 2); everything else hashes the primitive's name.
fn expected_scope(path: &str) -> Scope {
    let (service, name) = path[1..].split_once('/').unwrap();
    let partitioned = matches!(service, "atomix.map.MapService" | "atomix.set.SetService");
    let whole = [
        "Create",
        "KeepAlive",
        "Close",
        "Size",
        "Clear",
        "Entries",
        "Events",
        "Iterate",
    ];
    let entry = match service {
        "atomix.map.MapService" => &["Exists", "Put", "Replace", "Get", "Remove"][..],
        "atomix.set.SetService" => &["Contains", "Add", "Remove"][..],
        _ => &[][..],
    };
    if partitioned && whole.contains(&name) {
        Scope::EveryPartition
    } else if entry.contains(&name) {
        Scope::Entry
    } else {
        Scope::Name
    }
}

/// A request: header { name { name } [partition (field 6)] } key (field 2), then `tail`.
fn request(name: &[u8], partition: Option<u64>, key: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut inner = Vec::new();
    len_field(1, name, &mut inner);
    let mut header = Vec::new();
    len_field(1, &inner, &mut header);
    varint(2 << 3, &mut header);
    varint(7, &mut header); // session_id
    if let Some(p) = partition {
        varint(6 << 3, &mut header);
        varint(p, &mut header);
    }
    let mut out = Vec::new();
    len_field(1, &header, &mut out);
    len_field(2, key, &mut out);
    out.extend_from_slice(tail);
    out
}

#[test]
fn the_table_is_every_method_with_a_header() {
    let mut found = 0;
    for &(path, client_streaming, server_streaming) in API {
        let m = method(path);
        if path.starts_with("/atomix.log.") {
            // The log's messages carry no header: nothing to route by.
            assert!(m.is_none(), "{path}");
            continue;
        }
        assert!(
            !client_streaming,
            "{path}: no primitive with a header streams requests"
        );
        let m = m.unwrap_or_else(|| panic!("{path} is not in the table"));
        assert_eq!(format!("/{}/{}", m.service, m.name), path);
        assert_eq!(m.server_streaming, server_streaming, "{path}");
        assert_eq!(m.scope, expected_scope(path), "{path}");
        found += 1;
    }
    assert_eq!(found, 86);
    assert_eq!(
        methods().len(),
        found,
        "the table has methods atomix-api does not"
    );
    for bad in [
        "",
        "/",
        "/atomix.map.MapService",
        "/atomix.map.MapService/",
        "/atomix.map.MapService/Put/",
        "atomix.map.MapService/Put",
        "/atomix.map.MapService/put",
        "/atomix.log.LogService/Consume",
        "/grpc.health.v1.Health/Check",
    ] {
        assert!(method(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn every_method_routes_by_the_go_clients_rule() {
    let names: [&[u8]; 4] = [b"", b"my-map", b"counter-7", "nom-\u{e9}".as_bytes()];
    let keys: [&[u8]; 4] = [b"", b"k1", b"some longer key", b"\x00\xff"];
    for &(path, _, _) in API.iter().filter(|a| !a.0.starts_with("/atomix.log.")) {
        let m = method(path).unwrap();
        for partitions in [1u32, 2, 3, 7] {
            for (name, key) in names.iter().zip(keys.iter().rev()) {
                let wire = request(name, None, key, &[]);
                let envelope = RequestEnvelope::decode(&wire).unwrap();
                let got = route(m, &envelope, partitions);
                let want = match expected_scope(path) {
                    Scope::Name => Ok(fnv1a_32(name) % partitions),
                    Scope::Entry => Ok(fnv1a_32(key) % partitions),
                    Scope::EveryPartition if partitions == 1 => Ok(0),
                    Scope::EveryPartition => Err(RouteError::NeedsPartition {
                        method: m,
                        partitions,
                    }),
                };
                assert_eq!(got, want, "{path} over {partitions}");
                // Named partitions win over every other rule.
                for p in 1..=partitions {
                    let wire = request(name, Some(u64::from(p)), key, &[]);
                    let envelope = RequestEnvelope::decode(&wire).unwrap();
                    assert_eq!(route(m, &envelope, partitions), Ok(p - 1), "{path}");
                }
                for p in [0, u64::from(partitions) + 1, 1 << 31] {
                    let wire = request(name, Some(p), key, &[]);
                    let envelope = RequestEnvelope::decode(&wire).unwrap();
                    assert_eq!(
                        route(m, &envelope, partitions),
                        Err(RouteError::PartitionOutOfRange {
                            partition: p as u32,
                            partitions
                        }),
                        "{path}"
                    );
                }
            }
        }
    }
}

#[test]
fn fields_are_read_as_upb_reads_the_singular_field() {
    let put = method("/atomix.map.MapService/Put").unwrap();
    let size = method("/atomix.map.MapService/Size").unwrap();
    let partitions = 3;
    // A later field 2 with another wire type (varint 5, fixed32, fixed64) does not
    // replace the key; a later length-delimited one does.
    for tail in [
        &b"\x10\x05"[..],
        b"\x15\x01\x02\x03\x04",
        b"\x11\x01\x02\x03\x04\x05\x06\x07\x08",
    ] {
        let wire = request(b"m", None, b"first-key", tail);
        let envelope = RequestEnvelope::decode(&wire).unwrap();
        assert_eq!(
            route(put, &envelope, partitions),
            Ok(fnv1a_32(b"first-key") % 3)
        );
    }
    let wire = request(b"m", None, b"first-key", b"\x12\x02zz");
    let envelope = RequestEnvelope::decode(&wire).unwrap();
    assert_eq!(route(put, &envelope, partitions), Ok(fnv1a_32(b"zz") % 3));
    // No key at all is the empty key.
    let envelope = RequestEnvelope::decode(b"\x0a\x00").unwrap();
    assert_eq!(route(put, &envelope, partitions), Ok(fnv1a_32(b"") % 3));
    // No header: the empty name; a whole-map call still needs a partition.
    let envelope = RequestEnvelope::decode(b"").unwrap();
    assert!(matches!(
        route(size, &envelope, partitions),
        Err(RouteError::NeedsPartition { .. })
    ));
    // field 6 written as length-delimited is not the uint32 partition.
    let envelope = RequestEnvelope::decode(b"\x0a\x03\x32\x01\x02").unwrap();
    assert!(matches!(
        route(size, &envelope, partitions),
        Err(RouteError::NeedsPartition { .. })
    ));
    // A uint32 keeps the low 32 bits of a longer varint: 2^32 + 2 is partition 2.
    let wire = request(b"m", Some((1 << 32) + 2), b"k", &[]);
    let envelope = RequestEnvelope::decode(&wire).unwrap();
    assert_eq!(route(size, &envelope, partitions), Ok(1));
    // The last of several field 6 occurrences counts, also across merged headers.
    let envelope = RequestEnvelope::decode(b"\x0a\x02\x30\x03\x0a\x02\x30\x01").unwrap();
    assert_eq!(route(size, &envelope, partitions), Ok(0));
    let envelope = RequestEnvelope::decode(b"\x0a\x04\x30\x01\x30\x02").unwrap();
    assert_eq!(route(size, &envelope, partitions), Ok(1));
    // Every varint length of field 6 reads back.
    for bits in 0..64 {
        let value = 1u64 << bits;
        let wire = request(b"m", Some(value), b"k", &[]);
        let envelope = RequestEnvelope::decode(&wire).unwrap();
        let p = value as u32;
        let want = if (1..=3).contains(&p) {
            Ok(p - 1)
        } else {
            Err(RouteError::PartitionOutOfRange {
                partition: p,
                partitions,
            })
        };
        assert_eq!(route(size, &envelope, partitions), want, "2^{bits}");
    }
    assert_eq!(route(size, &envelope, 0), Err(RouteError::NoPartitions));
}

#[test]
fn errors_say_what_to_do() {
    let size = method("/atomix.map.MapService/Size").unwrap();
    let e = RouteError::NeedsPartition {
        method: size,
        partitions: 3,
    };
    let text = e.to_string();
    assert!(text.contains("atomix.map.MapService/Size"), "{text}");
    assert!(text.contains("field 6"), "{text}");
    let e = RouteError::PartitionOutOfRange {
        partition: 9,
        partitions: 3,
    };
    assert!(e.to_string().contains('9') && e.to_string().contains("1 to 3"));
}
