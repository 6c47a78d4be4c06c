//! Length-delimited framing under arbitrary byte streams.
//!
//! Frames built from arbitrary bodies arrive in arbitrary chunks: every frame must come
//! out once, in order, whole, with "incomplete" never mistaken for "invalid"; a frame over
//! the limit fails as soon as its prefix is in, before its body. Raw arbitrary buffers:
//! every prefix of a buffer answers either "incomplete" or exactly what the whole buffer
//! answers.
#![no_main]

use arbitrary::Arbitrary;
use atomix_headers::framing;
use atomix_headers::{DecodeErrorKind, Message, Progress, StreamHeader};
use atomix_headers_fuzz::build;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    bodies: Vec<Vec<u8>>,
    chunks: Vec<u8>,
    limit: u16,
    raw: Vec<u8>,
}

fn frames_in_chunks(input: &Input) {
    let limit = usize::from(input.limit);
    let mut stream = Vec::new();
    for body in &input.bodies {
        build::varint(&mut stream, body.len() as u64, 0);
        stream.extend_from_slice(body);
    }
    let mut received = Vec::new();
    let mut fed = 0;
    let mut chunks = input.chunks.iter().cycle();
    let mut expected = input.bodies.iter();
    loop {
        match framing::split(&received, limit) {
            Ok(Progress::Complete(frame)) => {
                let want = expected.next().expect("no frame beyond those sent");
                assert_eq!(
                    &received[frame.body.clone()],
                    &want[..],
                    "frame comes out whole"
                );
                let body = &received[frame.body.clone()];
                // Decoding the frame directly agrees with decoding its body.
                let direct = StreamHeader::decode_length_delimited(&received).map(Progress::complete);
                match (StreamHeader::decode(body), direct) {
                    (Ok(a), Ok(Some((b, used)))) => assert_eq!((a, frame.len()), (b, used)),
                    (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind()),
                    (a, b) => panic!("body decode {a:?} but frame decode {b:?}"),
                }
                received.drain(..frame.len());
            }
            Ok(Progress::Partial(needed)) => {
                assert!(needed >= 1);
                if fed == stream.len() {
                    assert!(
                        received.is_empty() || expected.len() > 0,
                        "leftover bytes without a frame"
                    );
                    assert!(expected.next().is_none(), "every frame came out");
                    return;
                }
                let chunk = usize::from(*chunks.next().unwrap_or(&7)).max(1);
                let end = (fed + chunk).min(stream.len());
                received.extend_from_slice(&stream[fed..end]);
                fed = end;
            }
            Err(e) => {
                assert_eq!(e.kind(), DecodeErrorKind::FrameTooLarge);
                let want = expected.next().expect("an error belongs to a frame");
                assert!(want.len() > limit, "only an over-limit frame fails");
                // Failed from the prefix alone: no body byte beyond this chunk was needed.
                let prefix = (want.len() as u64 | 1).ilog2() as usize / 7 + 1;
                assert!(received.len() >= prefix);
                return;
            }
        }
    }
}

fn prefixes_agree(raw: &[u8]) {
    let whole = framing::split(raw, usize::MAX);
    for cut in 0..=raw.len().min(64) {
        let part = framing::split(&raw[..cut], usize::MAX);
        match (&whole, &part) {
            (_, Ok(Progress::Partial(needed))) => {
                assert!(*needed >= 1);
                if let Ok(Progress::Complete(frame)) = &whole {
                    assert!(frame.len() > cut, "complete frame reported as partial");
                    assert!(
                        cut + needed <= frame.len(),
                        "asked for more than the frame holds"
                    );
                }
            }
            (Ok(Progress::Complete(a)), Ok(Progress::Complete(b))) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a, b),
            (whole, part) => panic!("prefix {cut}: {part:?} but whole buffer {whole:?}"),
        }
    }
}

fuzz_target!(|input: Input| {
    frames_in_chunks(&input);
    prefixes_agree(&input.raw);
});
