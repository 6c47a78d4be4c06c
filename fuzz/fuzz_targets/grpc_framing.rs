//! gRPC framing under arbitrary byte streams.
//!
//! Frames (flag 0 or 1, arbitrary bodies) arrive in arbitrary chunks through
//! `GrpcDecoder::decode_owned`: every frame is answered once, in order; a plain one decodes as its
//! body decodes alone, a compressed one is `CompressedMessage`; "incomplete" is never
//! mistaken for "invalid"; a frame over the limit fails from its prefix alone. Raw
//! arbitrary buffers: every prefix answers either "incomplete" or what the whole buffer
//! answers, and encoding what decoded gives a frame that splits to the same length.
#![no_main]

use arbitrary::Arbitrary;
use atomix_headers::grpc::{self, GrpcDecoder};
use atomix_headers::{DecodeErrorKind, Message, OwnedRequestEnvelope, RequestEnvelope, Progress};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    frames: Vec<(bool, Vec<u8>)>,
    chunks: Vec<u8>,
    limit: u16,
    raw: Vec<u8>,
}

fn frames_in_chunks(input: &Input) {
    let decoder = GrpcDecoder::with_max_message_len(usize::from(input.limit));
    let mut stream = Vec::new();
    for (compressed, body) in &input.frames {
        stream.push(u8::from(*compressed));
        stream.extend_from_slice(&(body.len() as u32).to_be_bytes());
        stream.extend_from_slice(body);
    }
    let mut received = BytesMut::new();
    let mut fed = 0;
    let mut chunks = input.chunks.iter().cycle();
    let mut expected = input.frames.iter();
    loop {
        let before = received.len();
        match decoder.decode_owned::<OwnedRequestEnvelope>(&mut received) {
            Ok(Progress::Complete(envelope)) => {
                let (compressed, body) = expected.next().expect("no frame beyond those sent");
                assert!(!compressed);
                assert_eq!(&envelope.bytes()[..], &body[..], "the message comes out whole");
                assert_eq!(before - received.len(), body.len() + grpc::PREFIX_LEN);
            }
            Ok(Progress::Partial(needed)) => {
                assert!(needed >= 1);
                assert_eq!(received.len(), before, "nothing consumed while incomplete");
                if fed == stream.len() {
                    assert!(expected.next().is_none(), "every frame came out");
                    return;
                }
                let chunk = usize::from(*chunks.next().unwrap_or(&7)).max(1);
                let end = (fed + chunk).min(stream.len());
                received.extend_from_slice(&stream[fed..end]);
                fed = end;
            }
            Err(e) => {
                let (compressed, body) = expected.next().expect("an error belongs to a frame");
                match e.kind() {
                    DecodeErrorKind::FrameTooLarge => {
                        assert!(body.len() > usize::from(input.limit));
                        assert_eq!(received.len(), before, "a bad prefix consumes nothing");
                        return;
                    }
                    DecodeErrorKind::CompressedMessage => assert!(*compressed),
                    _ => {
                        assert!(!compressed);
                        assert!(RequestEnvelope::decode(body).is_err());
                    }
                }
                assert_eq!(before - received.len(), body.len() + grpc::PREFIX_LEN);
            }
        }
    }
}

fn prefixes_agree(raw: &[u8]) {
    let decoder = GrpcDecoder::with_max_message_len(1 << 16);
    let whole = decoder.decode::<RequestEnvelope>(raw);
    for cut in 0..=raw.len().min(64) {
        match (&whole, decoder.decode::<RequestEnvelope>(&raw[..cut])) {
            (_, Ok(Progress::Partial(needed))) => {
                assert!(needed >= 1);
                if let Ok(Progress::Complete((_, used))) = &whole {
                    assert!(*used > cut && cut + needed <= *used);
                }
            }
            (Ok(Progress::Complete(a)), Ok(Progress::Complete(b))) => assert_eq!(*a, b),
            (Err(a), Err(b)) => assert_eq!(*a, b),
            (whole, part) => panic!("prefix {cut}: {part:?} but whole buffer {whole:?}"),
        }
    }
    if let Ok(Progress::Complete((envelope, _))) = whole {
        let mut out = Vec::new();
        grpc::encode(&envelope, &mut out).expect("a Vec has room");
        let Ok(Progress::Complete(frame)) = grpc::split(&out, usize::MAX) else {
            panic!("an encoded frame splits");
        };
        assert_eq!(frame.body.len(), envelope.encoded_len());
        assert_eq!(frame.body.end, out.len());
    }
}

fuzz_target!(|input: Input| {
    frames_in_chunks(&input);
    prefixes_agree(&input.raw);
});
