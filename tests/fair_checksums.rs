//! The fair suite's contenders do the same work: in every group of testkit/src/fair.rs,
//! every contender returns the same checksum (of every field read, or of the bytes
//! written), and every group has ours and at least three peers.

use testkit::fair as suite;

use std::collections::BTreeMap;

#[test]
fn every_contender_of_a_group_returns_the_same_checksum() {
    let benches = suite::benches();
    let mut groups: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    for bench in &benches {
        groups
            .entry(&bench.group)
            .or_default()
            .push((bench.contender, (bench.run)()));
    }
    assert!(groups.len() >= 30, "{} groups", groups.len());
    for (group, results) in &groups {
        assert!(
            results.iter().any(|(c, _)| *c == "atomix-headers") && results.len() >= 4,
            "{group}: {results:?}"
        );
        let (_, first) = results[0];
        assert!(
            results.iter().all(|(_, sum)| *sum == first),
            "{group}: the contenders disagree: {results:?}"
        );
        assert_ne!(first, 0, "{group}: nothing was read");
    }
}
