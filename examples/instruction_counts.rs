//! A loop of one codec operation on one benchmark input, for counting instructions with
//! callgrind: unlike wall-clock time, the count does not drift with the load of a shared
//! machine. Run it twice with different iteration counts and take the difference, so
//! that start-up is not counted:
//!
//! ```sh
//! cargo build --profile bench --example instruction_counts
//! for n in 10000 20000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/instruction_counts response typical decode $n
//! done
//! ```
//!
//! Arguments: `request|response|stream`, `typical|worst`, `decode|encode`, iterations.
//! `decode` of a request also iterates its streams, as the benchmark does; `encode`
//! writes a decoded header into a reused `Vec`.

#[path = "../benches/inputs.rs"]
mod inputs;

use atomix_headers::{Message, RequestHeader, ResponseHeader, StreamHeader};
use std::hint::black_box;
use std::process::ExitCode;

fn run<'a, M: Message<'a>>(bytes: &'a [u8], encode: bool, n: usize, inspect: impl Fn(&M) -> u64) {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    let mut acc = 0u64;
    if encode {
        let message = M::decode(bytes).expect("bench inputs decode");
        for _ in 0..n {
            out.clear();
            black_box(&message).encode(&mut out).expect("a Vec grows");
        }
        acc += out.len() as u64;
    } else {
        for _ in 0..n {
            let message = M::decode(black_box(bytes)).expect("bench inputs decode");
            acc = acc.wrapping_add(inspect(&message));
            black_box(&message);
        }
    }
    black_box(acc);
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [message, case, op, n] = &args[..] else {
        eprintln!("usage: instruction_counts request|response|stream typical|worst decode|encode ITERATIONS");
        return ExitCode::FAILURE;
    };
    let inputs = match message.as_str() {
        "request" => inputs::requests(),
        "response" => inputs::responses(),
        "stream" => inputs::streams(),
        _ => {
            eprintln!("unknown message {message:?}");
            return ExitCode::FAILURE;
        }
    };
    let Some(input) = inputs.iter().find(|i| i.name == case) else {
        eprintln!("unknown case {case:?}");
        return ExitCode::FAILURE;
    };
    let Ok(n) = n.parse() else {
        eprintln!("iterations must be a number, not {n:?}");
        return ExitCode::FAILURE;
    };
    let encode = match op.as_str() {
        "decode" => false,
        "encode" => true,
        _ => {
            eprintln!("unknown operation {op:?}");
            return ExitCode::FAILURE;
        }
    };
    let bytes = &input.bytes[..];
    match message.as_str() {
        "request" => run::<RequestHeader>(bytes, encode, n, |r| {
            r.streams.iter().map(|s| s.stream_id ^ s.response_id).sum()
        }),
        "response" => run::<ResponseHeader>(bytes, encode, n, |r| r.session_id),
        _ => run::<StreamHeader>(bytes, encode, n, |s| s.stream_id),
    }
    ExitCode::SUCCESS
}
