//! Decodes arbitrary bytes as a StreamHeader and holds the result to the codec's invariants
//! (testkit/src/invariants.rs): no panic, borrowed slices inside the input, exact
//! encoded_len, and an encoding that is a fixed point.
#![no_main]

use atomix_headers_fuzz::invariants::{check_decode, Stream};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_decode::<Stream>(data);
});
