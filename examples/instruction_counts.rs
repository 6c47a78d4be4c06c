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
//! Arguments: `request|response|stream`, `typical|worst`, `decode|encode|frames`,
//! iterations. `decode` of a request also iterates its streams, as the benchmark does;
//! `encode` writes a decoded header into a reused `Vec`; `frames` decodes a buffer of
//! 1,000 length-delimited copies with `FrameDecoder::decode`, as the frames benchmark
//! does (so its count is per 1,000 frames).
//!
//! With `ROUNDS=k` set it times the loop k times and prints the fastest round per
//! iteration, a quick A/B check that a shared machine's noise disturbs less than a
//! single timing (`cargo bench` gives the published figures).

use testkit::inputs;

use atomix_headers::framing::FrameDecoder;
use atomix_headers::{Message, Progress, RequestHeader, ResponseHeader, StreamHeader};
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Decode,
    Encode,
    Frames,
}

fn run<'a, M: Message<'a>>(
    bytes: &'a [u8],
    op: Op,
    n: usize,
    rounds: usize,
    inspect: impl Fn(&M) -> u64,
) {
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let start = Instant::now();
        let acc = match op {
            Op::Encode => encode_loop::<M>(bytes, n),
            Op::Decode => decode_loop(bytes, n, &inspect),
            Op::Frames => frames_loop(bytes, n, &inspect),
        };
        black_box(acc);
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
    if rounds > 1 {
        println!("{best:.2} ns per iteration (fastest of {rounds} rounds)");
    }
}

// One function per operation, kept apart, so that what the compiler inlines into one
// loop does not depend on the others.

#[inline(never)]
fn encode_loop<'a, M: Message<'a>>(bytes: &'a [u8], n: usize) -> u64 {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    let message = M::decode(bytes).expect("bench inputs decode");
    for _ in 0..n {
        out.clear();
        black_box(&message).encode(&mut out).expect("a Vec grows");
    }
    out.len() as u64
}

#[inline(never)]
fn decode_loop<'a, M: Message<'a>>(bytes: &'a [u8], n: usize, inspect: impl Fn(&M) -> u64) -> u64 {
    let mut acc = 0u64;
    for _ in 0..n {
        let message = M::decode(black_box(bytes)).expect("bench inputs decode");
        acc = acc.wrapping_add(inspect(&message));
        black_box(&message);
    }
    acc
}

#[inline(never)]
fn frames_loop<'a, M: Message<'a>>(bytes: &'a [u8], n: usize, inspect: impl Fn(&M) -> u64) -> u64 {
    let decoder = FrameDecoder::new();
    let mut acc = 0u64;
    for _ in 0..n {
        let mut rest = black_box(bytes);
        while let Ok(Progress::Complete((message, used))) = decoder.decode::<M>(rest) {
            acc = acc.wrapping_add(inspect(&message));
            black_box(&message);
            rest = &rest[used..];
        }
        assert!(rest.is_empty(), "bench frames decode");
    }
    acc
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [message, case, op, n] = &args[..] else {
        eprintln!("usage: instruction_counts request|response|stream typical|worst decode|encode|frames ITERATIONS");
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
    let op = match op.as_str() {
        "decode" => Op::Decode,
        "encode" => Op::Encode,
        "frames" => Op::Frames,
        _ => {
            eprintln!("unknown operation {op:?}");
            return ExitCode::FAILURE;
        }
    };
    let frames;
    let bytes = if op == Op::Frames {
        frames = inputs::frames(&input.bytes, 1_000);
        &frames[..]
    } else {
        &input.bytes[..]
    };
    // ROUNDS=k repeats the loop k times and prints the fastest round's time per
    // iteration: a quick A/B check, steadier than one timing on a shared machine. The
    // published figures come from criterion (`cargo bench`).
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    match message.as_str() {
        "request" => run::<RequestHeader>(bytes, op, n, rounds, |r| {
            r.streams.iter().map(|s| s.stream_id ^ s.response_id).sum()
        }),
        "response" => run::<ResponseHeader>(bytes, op, n, rounds, |r| r.session_id),
        _ => run::<StreamHeader>(bytes, op, n, rounds, |s| s.stream_id),
    }
    ExitCode::SUCCESS
}
