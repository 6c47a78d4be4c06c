//! The peers' code for the schema: prost (derive), quick-protobuf (pb-rs) and buffa
//! (protoc-gen-buffa). Generated code, kept as generated; see README.md here.

pub mod buffa_types;
pub mod prost_types;
#[allow(clippy::all, unused_imports, dead_code)]
pub mod quick;
