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
use std::sync::Mutex;

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
    calls: HashMap<CallLabels, u64>,
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
        *counts.calls.entry(labels).or_default() += 1;
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
            for (labels, n) in &counts.calls {
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
