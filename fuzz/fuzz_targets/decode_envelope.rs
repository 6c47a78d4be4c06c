//! Decodes arbitrary bytes as a RequestEnvelope and as a ResponseEnvelope (an Atomix
//! primitive message seen through its header) and holds each result to the codec's
//! invariants (testkit/src/invariants.rs). In these debug builds every envelope the fast
//! path decodes is decoded again by the general path, and the two must agree.
#![no_main]

use atomix_headers_fuzz::invariants::{check_decode, RequestEnv, ResponseEnv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_decode::<RequestEnv>(data);
    check_decode::<ResponseEnv>(data);
});
