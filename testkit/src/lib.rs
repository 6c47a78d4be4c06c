//! What atomix-headers' tests, benchmarks and fuzz targets share, in one crate instead of
//! files included by path into each:
//!
//! - [`invariants`]: what must hold of the codec on any input (the fuzz targets and the
//!   regression tests check them);
//! - [`inputs`]: the benchmark inputs (tests/bench_inputs.rs checks they decode to what
//!   is intended);
//! - [`peers`]: the other Rust protobuf crates' code for the schema (see
//!   `peers/README.md`);
//! - [`header_proxy`] and [`grpc_proxy`]: small proxies on `tokio_codec` and
//!   `tonic_codec`, which tests/proxy.rs and tests/grpc_proxy.rs run end to end.

pub mod grpc_proxy;
pub mod header_proxy;
pub mod inputs;
pub mod invariants;

pub mod peers;
