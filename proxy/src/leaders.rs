//! The leader each partition is believed to have: taken from NOT_LEADER, or from the
//! replica that answered when the believed one could not be reached; counted and
//! logged when it changes.

use crate::metrics::{PartitionLabels, RetryLabels};
use crate::proxy::Proxy;
use crate::upstream::Partition;

/// Counts a request sent again to `partition`, and why.
pub fn count_retry(proxy: &Proxy, partition: &Partition, reason: &'static str) {
    proxy
        .metrics
        .retries
        .get_or_create(&RetryLabels {
            partition: partition.label,
            reason,
        })
        .inc();
}

/// A NOT_LEADER named `next`: make it the leader and count the redirect.
pub fn follow(proxy: &Proxy, partition: &Partition, from: usize, next: usize) {
    count_retry(proxy, partition, "not_leader");
    if partition.set_leader(next) {
        leader_changed(proxy, partition, from, next, "NOT_LEADER named it");
    }
}

/// `current` answered as a leader: if the proxy had another in mind (it reached
/// this one past unreachable ones), this one leads now.
pub fn settle(proxy: &Proxy, partition: &Partition, current: usize) {
    let from = partition.leader();
    if from != current && partition.set_leader(current) {
        leader_changed(
            proxy,
            partition,
            from,
            current,
            "the believed leader was unreachable",
        );
    }
}

/// Counts and logs a new leader of `partition`.
fn leader_changed(proxy: &Proxy, partition: &Partition, from: usize, to: usize, why: &'static str) {
    proxy
        .metrics
        .leader_changes
        .get_or_create(&PartitionLabels {
            partition: partition.label,
        })
        .inc();
    tracing::info!(
        partition = partition.label,
        from = %partition.replicas[from].addr,
        to = %partition.replicas[to].addr,
        why,
        "leader changed"
    );
}
