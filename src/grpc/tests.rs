use super::*;
use crate::{OwnedRequestEnvelope, RequestEnvelope};

const INCREMENT: [u8; 6] = [0x0a, 0x02, 0x10, 0x07, 0x10, 0x05];

fn framed(flag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![flag];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

#[test]
fn every_split_point_is_partial_until_the_frame_is_whole() {
    let wire = framed(0, &INCREMENT);
    for cut in 0..wire.len() {
        let status = split(&wire[..cut], 64).unwrap();
        let needed = match status {
            Progress::Partial(needed) => needed,
            other => panic!("cut at {cut}: {other:?}"),
        };
        assert!(
            needed >= 1 && cut + needed <= wire.len(),
            "cut {cut} needs {needed}"
        );
    }
    assert!(split(&wire, 64).unwrap().is_complete());
}

#[test]
fn a_frame_over_the_limit_fails_from_its_prefix_alone() {
    let err = split(&[0, 0, 0, 0, 65], 64).unwrap_err();
    assert_eq!(
        (err.kind(), err.offset()),
        (DecodeErrorKind::FrameTooLarge, 1)
    );
    assert!(split(&[0, 0, 0, 0, 64], 64).unwrap() == Progress::Partial(64));
    let err = GrpcDecoder::new()
        .split(&[0, 0xff, 0xff, 0xff, 0xff])
        .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::FrameTooLarge);
}

#[test]
fn a_bad_flag_consumes_nothing() {
    let mut buf = BytesMut::from(&framed(2, &INCREMENT)[..]);
    let decoder = GrpcDecoder::new();
    for _ in 0..2 {
        let err = decoder
            .decode_owned::<OwnedRequestEnvelope>(&mut buf)
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.offset()),
            (DecodeErrorKind::InvalidCompressionFlag, 0)
        );
        assert_eq!(buf.len(), 11);
    }
}

#[test]
fn a_compressed_frame_is_consumed_and_the_next_one_decodes() {
    let mut wire = framed(1, b"\x1f\x8b gzip...");
    wire.extend_from_slice(&framed(0, &INCREMENT));
    let decoder = GrpcDecoder::new();

    let err = decoder.decode::<RequestEnvelope>(&wire).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::CompressedMessage);

    let mut buf = BytesMut::from(&wire[..]);
    let err = decoder
        .decode_owned::<OwnedRequestEnvelope>(&mut buf)
        .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::CompressedMessage);
    let Progress::Complete(next) = decoder
        .decode_owned::<OwnedRequestEnvelope>(&mut buf)
        .unwrap()
    else {
        panic!("the second frame is whole")
    };
    assert_eq!(next.message().header.unwrap().session_id, 7);
    assert!(buf.is_empty());

    // Passed through blind, a compressed frame comes out as it came in.
    let mut buf = BytesMut::from(&wire[..]);
    let Progress::Complete(message) = decoder.split_to(&mut buf).unwrap() else {
        panic!("whole")
    };
    assert!(message.compressed);
    let mut out = BytesMut::new();
    super::encode_frame(&message, &mut out).unwrap();
    assert_eq!(&out[..], &wire[..15]);
}

#[test]
fn a_malformed_body_is_consumed_with_its_offset_in_the_buffer() {
    // header { name: <runs past its end> }, then a good frame.
    let mut wire = framed(0, &[0x10, 0x01, 0x0a, 0x05, 0x0a]);
    wire.extend_from_slice(&framed(0, &INCREMENT));
    let decoder = GrpcDecoder::new();
    let err = decoder.decode::<RequestEnvelope>(&wire).unwrap_err();
    assert_eq!(
        (err.kind(), err.offset()),
        (DecodeErrorKind::TruncatedField, 8)
    );
    let mut buf = BytesMut::from(&wire[..]);
    let err = decoder
        .decode_owned::<OwnedRequestEnvelope>(&mut buf)
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.offset()),
        (DecodeErrorKind::TruncatedField, 8)
    );
    assert!(decoder
        .decode_owned::<OwnedRequestEnvelope>(&mut buf)
        .unwrap()
        .is_complete());
}

#[test]
fn a_huge_announced_length_reserves_a_bounded_step() {
    let decoder = GrpcDecoder::with_max_message_len(usize::MAX);
    let mut buf = BytesMut::from(&[0u8, 0xff, 0xff, 0xff, 0xff][..]);
    assert_eq!(
        decoder
            .decode_owned::<OwnedRequestEnvelope>(&mut buf)
            .unwrap(),
        Progress::Partial(u32::MAX as usize)
    );
    assert!(
        buf.capacity() <= 5 + crate::framing::RESERVE_STEP + 64,
        "capacity {}",
        buf.capacity()
    );
}

#[test]
fn encode_is_all_or_nothing() {
    let request = RequestEnvelope::decode(&INCREMENT).unwrap();
    let mut small = [0u8; 10];
    let mut dest = &mut small[..];
    let err = encode(&request, &mut dest).unwrap_err();
    assert_eq!((err.needed(), err.remaining()), (11, 10));
    assert_eq!(small, [0; 10]);
    let mut exact = [0u8; 11];
    encode(&request, &mut &mut exact[..]).unwrap();
    assert_eq!(exact[..], framed(0, &INCREMENT)[..]);
}

#[test]
fn several_frames_in_one_buffer() {
    let mut wire = Vec::new();
    for id in 1..=3u8 {
        wire.extend_from_slice(&framed(0, &[0x0a, 0x02, 0x10, id]));
    }
    let decoder = GrpcDecoder::new();
    let mut at = 0;
    let mut ids = Vec::new();
    while let Progress::Complete((request, used)) =
        decoder.decode::<RequestEnvelope>(&wire[at..]).unwrap()
    {
        ids.push(request.header.unwrap().session_id);
        at += used;
        if at == wire.len() {
            break;
        }
    }
    assert_eq!(ids, [1, 2, 3]);
    decoder.finish(&wire[at..]).unwrap();
    assert_eq!(
        decoder.finish(&wire[..3]).unwrap_err().kind(),
        DecodeErrorKind::TruncatedFrame
    );
}
