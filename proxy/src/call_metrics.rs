//! The two metrics every call updates, `atomix_proxy_requests_total` and
//! `atomix_proxy_request_duration_seconds`, kept per worker and summed when scraped.
//!
//! prometheus-client's `Family` takes a shared read lock and its `Histogram` a write
//! lock on every update: with several workers, each call would move those locks' cache
//! lines between cores. Here each worker updates its own shard, under a lock no other
//! worker takes except a scrape, and the registry sees one process-wide metric of each.

use crate::metrics::CallLabels;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::MetricType;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

/// A call's labels by where their texts are: equal labels from the same code have the
/// same key (and two keys of equal texts are merged by `CallMetrics::merged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key([(usize, usize); 3]);

impl Key {
    fn of(labels: &CallLabels) -> Self {
        let at = |s: &str| (s.as_ptr() as usize, s.len());
        Key([at(labels.partition), at(labels.method), at(labels.code)])
    }
}

/// A multiply-and-rotate hash of a few words: a `Key` is six of them, and SipHash's
/// resistance to chosen keys buys nothing for addresses in the binary.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Calls ended and their durations, by worker.
#[derive(Debug)]
pub struct CallMetrics {
    shards: Box<[Shard]>,
    /// The histogram's upper bounds, ascending, the last `f64::MAX` (`+Inf`).
    bounds: Vec<f64>,
}

/// One worker's counts, on cache lines of its own.
#[derive(Debug)]
#[repr(align(128))]
struct Shard(Mutex<Counts>);

/// Calls by labels, and the histogram's sum, count and (bound, count) buckets.
type Merged = (HashMap<CallLabels, u64>, f64, u64, Vec<(f64, u64)>);

#[derive(Debug, Default)]
struct Counts {
    /// By the labels' addresses (each a `&'static str` named once in the code), with
    /// the labels themselves, by which shards are merged.
    calls: HashMap<Key, (CallLabels, u64), BuildHasherDefault<KeyHasher>>,
    /// Observations per bucket of `CallMetrics::bounds` (not cumulative).
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

impl CallMetrics {
    /// Shards for `workers` workers, durations bucketed at `bounds` (ascending).
    pub fn new(workers: usize, bounds: impl IntoIterator<Item = f64>) -> Self {
        let bounds: Vec<f64> = bounds.into_iter().chain([f64::MAX]).collect();
        let shards = (0..workers.max(1))
            .map(|_| {
                Shard(Mutex::new(Counts {
                    buckets: vec![0; bounds.len()],
                    ..Counts::default()
                }))
            })
            .collect();
        CallMetrics { shards, bounds }
    }

    /// Counts a call that ended with `labels` after `seconds`, in this worker's shard.
    pub fn record(&self, labels: CallLabels, seconds: f64) {
        let shard = &self.shards[crate::worker::current() % self.shards.len()];
        let mut counts = shard.0.lock().expect("not poisoned");
        let key = Key::of(&labels);
        counts.calls.entry(key).or_insert((labels, 0)).1 += 1;
        // The first bucket whose bound is at least the value, as Prometheus's `le`.
        let bucket = self
            .bounds
            .partition_point(|&bound| bound < seconds)
            .min(self.bounds.len() - 1);
        counts.buckets[bucket] += 1;
        counts.sum += seconds;
        counts.count += 1;
    }

    /// Every shard summed: calls by labels, and the histogram's sum, count, buckets.
    fn merged(&self) -> Merged {
        let mut calls = HashMap::new();
        let mut buckets: Vec<(f64, u64)> = self.bounds.iter().map(|&b| (b, 0)).collect();
        let (mut sum, mut count) = (0.0, 0);
        for shard in self.shards.iter() {
            let counts = shard.0.lock().expect("not poisoned");
            for (labels, n) in counts.calls.values() {
                *calls.entry(labels.clone()).or_default() += n;
            }
            for (merged, n) in buckets.iter_mut().zip(&counts.buckets) {
                merged.1 += n;
            }
            sum += counts.sum;
            count += counts.count;
        }
        (calls, sum, count, buckets)
    }
}

impl Collector for CallMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (calls, sum, count, buckets) = self.merged();
        let family = Family::<CallLabels, Counter>::default();
        for (labels, n) in calls {
            family.get_or_create(&labels).inc_by(n);
        }
        let requests = encoder.encode_descriptor(
            "atomix_proxy_requests",
            "Calls ended, by partition, method and gRPC code",
            None,
            MetricType::Counter,
        )?;
        family.encode(requests)?;
        let mut duration = encoder.encode_descriptor(
            "atomix_proxy_request_duration_seconds",
            "Time from a call's headers to its end",
            None,
            MetricType::Histogram,
        )?;
        duration.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_sum_to_one_metric_of_each() {
        let metrics = CallMetrics::new(2, [0.001, 0.01]);
        let labels = |code| CallLabels {
            partition: "1",
            method: "m",
            code,
        };
        metrics.record(labels("OK"), 0.0005);
        metrics.record(labels("OK"), 0.001);
        crate::worker::enter(1);
        metrics.record(labels("OK"), 0.005);
        metrics.record(labels("UNAVAILABLE"), 5.0);
        crate::worker::enter(0);
        let (calls, sum, count, buckets) = metrics.merged();
        assert_eq!(calls[&labels("OK")], 3);
        assert_eq!(calls[&labels("UNAVAILABLE")], 1);
        assert_eq!(count, 4);
        assert!((sum - 5.0065).abs() < 1e-9);
        assert_eq!(buckets, [(0.001, 2), (0.01, 1), (f64::MAX, 1)]);
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(std::sync::Arc::new(metrics)));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(
                "atomix_proxy_requests_total{partition=\"1\",method=\"m\",code=\"OK\"} 3"
            ),
            "{text}"
        );
        assert!(
            text.contains("atomix_proxy_request_duration_seconds_bucket{le=\"+Inf\"} 4"),
            "{text}"
        );
        assert!(
            text.contains("atomix_proxy_request_duration_seconds_count 4"),
            "{text}"
        );
    }
}
