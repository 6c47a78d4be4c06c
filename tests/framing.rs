//! Length-delimited frames over a growing receive buffer: split anywhere, limits enforced
//! from the prefix alone, truncation at EOF, and valid and invalid frames interleaved.

use atomix_headers::framing::{FrameDecoder, DEFAULT_MAX_FRAME_LEN};
use atomix_headers::{
    DecodeErrorKind, Message, Name, OwnedRequestHeader, OwnedResponseHeader, Progress,
    RequestHeader, ResponseHeader, StreamHeader,
};
use bytes::BytesMut;

fn sample_frames() -> (Vec<u8>, Vec<Vec<u8>>) {
    let streams = [StreamHeader {
        stream_id: 9,
        ..Default::default()
    }; 3];
    let long = "x".repeat(300); // a two-byte length prefix
    let headers = [
        RequestHeader {
            session_id: 1,
            ..Default::default()
        },
        RequestHeader::default(),
        RequestHeader {
            name: Some(Name {
                name: &long,
                namespace: "ns",
                ..Default::default()
            }),
            streams: (&streams).into(),
            ..Default::default()
        },
    ];
    let mut wire = Vec::new();
    let mut bodies = Vec::new();
    for h in &headers {
        h.encode_length_delimited(&mut wire).unwrap();
        bodies.push(h.encode_to_vec().unwrap());
    }
    (wire, bodies)
}

/// Feeds `wire` in the given pieces and collects every request's bytes.
fn drain(frames: &FrameDecoder, pieces: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match frames.decode_owned::<OwnedRequestHeader>(&mut buf).unwrap() {
                Progress::Complete(r) => out.push(r.bytes().to_vec()),
                Progress::Partial(needed) => {
                    assert!(needed >= 1);
                    assert_eq!(buf.len(), before, "nothing consumed while incomplete");
                    break;
                }
            }
        }
    }
    frames.finish(&buf).unwrap();
    out
}

#[test]
fn split_at_every_byte_boundary_decodes_the_same() {
    let (wire, bodies) = sample_frames();
    let frames = FrameDecoder::new();
    for cut in 0..=wire.len() {
        assert_eq!(
            drain(&frames, &[&wire[..cut], &wire[cut..]]),
            bodies,
            "cut at {cut}"
        );
    }
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(drain(&frames, &bytes), bodies, "one byte at a time");
}

#[test]
fn partial_counts_are_exact_once_the_prefix_is_in() {
    let (wire, bodies) = sample_frames();
    let frames = FrameDecoder::new();
    let first = 1 + bodies[0].len();
    for cut in 1..first {
        assert_eq!(
            frames.split(&wire[..cut]).unwrap(),
            Progress::Partial(first - cut)
        );
    }
    assert_eq!(frames.split(&[]).unwrap(), Progress::Partial(1));
}

#[test]
fn a_length_over_the_limit_fails_before_the_body_arrives() {
    let frames = FrameDecoder::with_max_frame_len(100);
    assert_eq!(frames.max_frame_len(), 100);
    let mut buf = BytesMut::from(&[0xe5, 0x00][..]); // 101, overlong but complete
    let err = frames
        .decode_owned::<OwnedResponseHeader>(&mut buf)
        .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::FrameTooLarge);
    assert_eq!(buf.len(), 2, "nothing consumed");
    // A 4 GiB prefix against the default limit.
    let mut buf = BytesMut::from(&[0x80, 0x80, 0x80, 0x80, 0x10][..]);
    let err = FrameDecoder::new()
        .decode_owned::<OwnedResponseHeader>(&mut buf)
        .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::FrameTooLarge);
    // Exactly at the limit is fine.
    let body = vec![0x4a, 0x3e]
        .into_iter()
        .chain(std::iter::repeat_n(0u8, 62))
        .collect::<Vec<_>>();
    let mut buf = BytesMut::from(&[64u8][..]);
    buf.extend_from_slice(&body);
    let frames = FrameDecoder::with_max_frame_len(64);
    assert!(frames
        .decode_owned::<OwnedResponseHeader>(&mut buf)
        .unwrap()
        .is_complete());
    assert_eq!(DEFAULT_MAX_FRAME_LEN, 65_536);
}

#[test]
fn a_truncated_stream_at_eof_is_reported() {
    let (wire, _) = sample_frames();
    let frames = FrameDecoder::new();
    let mut buf = BytesMut::from(&wire[..wire.len() - 1]);
    while let Progress::Complete(_) = frames.decode_owned::<OwnedRequestHeader>(&mut buf).unwrap() {
    }
    let err = frames.finish(&buf).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::TruncatedFrame);
    assert_eq!(
        err.to_string(),
        format!(
            "invalid frame at byte {}: stream ends inside a frame",
            buf.len()
        )
    );
}

#[test]
fn interleaved_valid_and_invalid_frames() {
    let good = ResponseHeader {
        session_id: 5,
        ..Default::default()
    };
    let mut wire = Vec::new();
    good.encode_length_delimited(&mut wire).unwrap();
    wire.extend_from_slice(&[0x02, 0x2a, 0x05]); // body: leader runs past the frame
    good.encode_length_delimited(&mut wire).unwrap();
    wire.extend_from_slice(&[0xff; 11]); // not a varint: the stream cannot go on

    let frames = FrameDecoder::new();
    let mut buf = BytesMut::from(&wire[..]);
    let next = |buf: &mut BytesMut| frames.decode_owned::<OwnedResponseHeader>(buf);
    assert_eq!(
        next(&mut buf)
            .unwrap()
            .complete()
            .unwrap()
            .message()
            .session_id,
        5
    );
    let err = next(&mut buf).unwrap_err();
    assert_eq!(
        (err.kind(), err.offset(), err.field()),
        (DecodeErrorKind::TruncatedField, 1, Some(5))
    );
    assert_eq!(
        next(&mut buf)
            .unwrap()
            .complete()
            .unwrap()
            .message()
            .session_id,
        5,
        "the bad frame was skipped"
    );
    let left = buf.len();
    assert_eq!(
        next(&mut buf).unwrap_err().kind(),
        DecodeErrorKind::VarintTooLong
    );
    assert_eq!(
        next(&mut buf).unwrap_err().kind(),
        DecodeErrorKind::VarintTooLong,
        "the same error again"
    );
    assert_eq!(buf.len(), left, "a bad prefix consumes nothing");
}

#[test]
fn owned_headers_share_the_receive_buffer() {
    let (wire, _) = sample_frames();
    let mut buf = BytesMut::from(&wire[..]);
    let start = buf.as_ptr() as usize;
    let range = start..start + wire.len();
    let frames = FrameDecoder::new();
    let mut names = 0;
    while let Progress::Complete(r) = frames.decode_owned::<OwnedRequestHeader>(&mut buf).unwrap() {
        assert!(
            range.contains(&(r.bytes().as_ptr() as usize)),
            "frame bytes were not copied"
        );
        if let Some(name) = r.message().name {
            assert!(range.contains(&(name.name.as_ptr() as usize)));
            names += 1;
        }
    }
    assert_eq!(names, 1);
}

#[test]
fn borrowed_frames_decode_in_place() {
    let (wire, bodies) = sample_frames();
    let frames = FrameDecoder::new();
    let mut rest = &wire[..];
    let mut n = 0;
    while let Progress::Complete((r, used)) = frames.decode::<RequestHeader>(rest).unwrap() {
        assert_eq!(r.encode_to_vec().unwrap(), bodies[n]);
        rest = &rest[used..];
        n += 1;
    }
    assert_eq!((n, rest.len()), (3, 0));
}

/// The borrowed frame path holds the decoder's limit, agrees with
/// `decode_length_delimited`, and counts error offsets from the start of the buffer.
#[test]
fn borrowed_frames_keep_the_limit_and_absolute_offsets() {
    // A ResponseHeader whose leader (field 5) is not UTF-8, behind a good first frame.
    let mut wire = Vec::new();
    StreamHeader {
        stream_id: 300,
        ..Default::default()
    }
    .encode_length_delimited(&mut wire)
    .unwrap();
    let first = wire.len();
    wire.extend_from_slice(&[0x05, 0x08, 0x01, 0x2a, 0x01, 0xff]);
    let frames = FrameDecoder::with_max_frame_len(8);
    let (Progress::Complete((stream, used)), Progress::Complete((same, same_used))) = (
        frames.decode::<StreamHeader>(&wire).unwrap(),
        StreamHeader::decode_length_delimited(&wire).unwrap(),
    ) else {
        panic!("the first frame is complete");
    };
    assert_eq!((stream, used), (same, same_used));
    assert_eq!((stream.stream_id, used), (300, first));

    let err = frames.decode::<ResponseHeader>(&wire[used..]).unwrap_err();
    let again = ResponseHeader::decode_length_delimited(&wire[used..]).unwrap_err();
    assert_eq!(err, again);
    assert_eq!(err.kind(), DecodeErrorKind::InvalidUtf8);
    // The bad byte is the sixth of the frame: prefix, tag, value, tag, length, 0xff.
    assert_eq!(err.offset(), 5);

    let err = FrameDecoder::with_max_frame_len(4)
        .decode::<ResponseHeader>(&wire[used..])
        .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::FrameTooLarge);
}

#[cfg(feature = "tokio-util")]
mod codec {
    use atomix_headers::tokio_codec::HeaderCodec;
    use atomix_headers::{Message, OwnedStreamHeader, StreamHeader};
    use bytes::BytesMut;
    use std::io::ErrorKind;
    use tokio_util::codec::{Decoder, Encoder};

    #[test]
    fn eof_inside_a_frame_is_unexpected_eof() {
        let mut codec = HeaderCodec::<OwnedStreamHeader>::new();
        let mut buf = BytesMut::new();
        codec
            .encode(
                StreamHeader {
                    stream_id: 3,
                    ..Default::default()
                },
                &mut buf,
            )
            .unwrap();
        buf.truncate(buf.len() - 1);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert_eq!(
            codec.decode_eof(&mut buf).unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
        let mut bad = BytesMut::from(&[0x01, 0x80][..]);
        assert_eq!(
            codec.decode(&mut bad).unwrap_err().kind(),
            ErrorKind::InvalidData
        );
        let mut empty = BytesMut::new();
        assert!(codec.decode_eof(&mut empty).unwrap().is_none());
        let owned = OwnedStreamHeader::decode(
            StreamHeader {
                response_id: 1,
                ..Default::default()
            }
            .encode_to_vec()
            .unwrap()
            .into(),
        )
        .unwrap();
        codec.encode(owned.clone(), &mut empty).unwrap();
        assert_eq!(codec.decode(&mut empty).unwrap().unwrap(), owned);
    }
}

#[cfg(feature = "tokio-util")]
#[test]
fn a_huge_announced_frame_reserves_a_bounded_step_whatever_the_limit() {
    use atomix_headers::framing::FrameDecoder;
    use atomix_headers::tokio_codec::HeaderCodec;
    use atomix_headers::OwnedRequestHeader;
    use tokio_util::codec::Decoder;

    let mut codec = HeaderCodec::<OwnedRequestHeader>::with_frame_decoder(
        FrameDecoder::with_max_frame_len(usize::MAX),
    );
    // A varint prefix announcing 1 TiB, and nothing of the body.
    let mut buf = bytes::BytesMut::from(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x20][..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(buf.capacity() <= 1 << 20, "capacity {}", buf.capacity());
    assert_eq!(buf.len(), 6, "nothing consumed");
}

#[test]
fn split_to_makes_room_for_the_rest_of_a_frame_in_bounded_steps() {
    let frames = FrameDecoder::with_max_frame_len(usize::MAX);
    // A frame announcing 100 bytes, of which 2 have arrived: room for the other 98.
    let mut buf = BytesMut::from(&[100, 0x08, 0x01][..]);
    assert_eq!(frames.split_to(&mut buf).unwrap(), Progress::Partial(98));
    assert!(buf.capacity() >= 3 + 98, "capacity {}", buf.capacity());
    assert_eq!(buf.len(), 3, "nothing consumed");
    // One announcing 1 TiB: a bounded step, not the whole of it.
    let mut buf = BytesMut::from(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x20][..]);
    assert!(!frames.split_to(&mut buf).unwrap().is_complete());
    assert!(
        buf.capacity() >= 6 + 64 * 1024,
        "capacity {}",
        buf.capacity()
    );
    assert!(buf.capacity() <= 1 << 20, "capacity {}", buf.capacity());
}
