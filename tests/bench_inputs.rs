//! The benchmark inputs decode to the intended values, with our decoder and with every
//! peer's, so the benchmarks never measure an error path or a disagreement.

use testkit::inputs;
use testkit::peers::buffa_types as bf;
use testkit::peers::prost_types as pr;
use testkit::peers::quick;

use atomix_headers::{Message, Progress, RequestHeader, ResponseHeader, StreamHeader};
use buffa::{Message as _, MessageView as _};
use quick_protobuf::{BytesReader, MessageRead};

/// The (stream_id, response_id) pairs of any decoder's streams, in order.
macro_rules! stream_ids {
    ($streams:expr) => {
        $streams
            .iter()
            .map(|s| (s.stream_id, s.response_id))
            .collect::<Vec<_>>()
    };
}

fn qp<'a, M: MessageRead<'a>>(bytes: &'a [u8]) -> M {
    M::from_reader(&mut BytesReader::from_bytes(bytes), bytes).unwrap()
}

#[test]
fn request_inputs() {
    let [typical, worst] = <[_; 2]>::try_from(inputs::requests()).ok().unwrap();
    for (input, name, ids, streams) in [
        (
            &typical,
            "my-map",
            (1_234_567, 1_765_432, 1_990_001),
            inputs::typical_streams(),
        ),
        (
            &worst,
            inputs::LONG_NAME,
            (u64::MAX, u64::MAX, u64::MAX),
            inputs::worst_streams(),
        ),
    ] {
        let bytes = &input.bytes[..];
        let ours = RequestHeader::decode(bytes).unwrap();
        assert_eq!(ours.name.unwrap().name, name);
        assert_eq!((ours.session_id, ours.request_id, ours.index), ids);
        let want = stream_ids!(streams);
        assert_eq!(stream_ids!(ours.streams), want);
        assert_eq!(ours.encode_to_vec().unwrap(), bytes);

        let p = <pr::RequestHeader as prost::Message>::decode(bytes).unwrap();
        assert_eq!(
            (
                p.session_id,
                p.request_id,
                p.index,
                p.name.unwrap().name.as_str()
            ),
            (ids.0, ids.1, ids.2, name)
        );
        assert_eq!(stream_ids!(p.streams), want);
        let q: quick::atomix::headers::RequestHeader = qp(bytes);
        assert_eq!(stream_ids!(q.streams), want);
        assert_eq!(q.name.unwrap().name, name);
        let b = bf::atomix::headers::RequestHeader::decode_from_slice(bytes).unwrap();
        assert_eq!(stream_ids!(b.streams), want);
        let v = bf::atomix::headers::RequestHeaderView::decode_view(bytes).unwrap();
        assert_eq!(stream_ids!(v.streams), want);
        assert_eq!(b.encode_to_vec(), bytes);
    }
}

#[test]
fn response_inputs() {
    for (i, input) in inputs::responses().iter().enumerate() {
        let bytes = &input.bytes[..];
        let ours = ResponseHeader::decode(bytes).unwrap();
        let leader = if i == 0 {
            inputs::LEADER.to_owned()
        } else {
            inputs::LEADER.repeat(8)
        };
        assert_eq!(ours.leader, leader);
        assert_eq!(ours.status.value(), 2);
        let p = <pr::ResponseHeader as prost::Message>::decode(bytes).unwrap();
        assert_eq!(
            (p.session_id, p.stream_id, p.response_id, p.index),
            (
                ours.session_id,
                ours.stream_id,
                ours.response_id,
                ours.index
            )
        );
        assert_eq!(
            (p.leader.as_str(), p.status, p.r#type),
            (ours.leader, ours.status.value(), ours.r#type.value())
        );
        let q: quick::atomix::headers::ResponseHeader = qp(bytes);
        assert_eq!((q.leader.as_ref(), q.index), (ours.leader, ours.index));
        let b = bf::atomix::headers::ResponseHeader::decode_from_slice(bytes).unwrap();
        assert_eq!((b.leader.as_str(), b.index), (ours.leader, ours.index));
        let v = bf::atomix::headers::ResponseHeaderView::decode_view(bytes).unwrap();
        assert_eq!((v.leader, v.session_id), (ours.leader, ours.session_id));
        assert_eq!(b.encode_to_vec(), bytes);
        assert_eq!(ours.encode_to_vec().unwrap(), bytes);
    }
}

#[test]
fn stream_inputs_and_frames() {
    for input in inputs::streams() {
        let bytes = &input.bytes[..];
        let ours = StreamHeader::decode(bytes).unwrap();
        assert!(ours.stream_id >= 1_000_001);
        let p = <pr::StreamHeader as prost::Message>::decode(bytes).unwrap();
        assert_eq!(
            (p.stream_id, p.response_id),
            (ours.stream_id, ours.response_id)
        );
        let q: quick::atomix::headers::StreamHeader = qp(bytes);
        assert_eq!(
            (q.stream_id, q.response_id),
            (ours.stream_id, ours.response_id)
        );

        let frames = inputs::frames(bytes, 1000);
        let mut rest = &frames[..];
        let mut n = 0;
        while let Ok(Progress::Complete((m, used))) = StreamHeader::decode_length_delimited(rest) {
            assert_eq!(m, ours);
            rest = &rest[used..];
            n += 1;
        }
        assert_eq!((n, rest.len()), (1000, 0));
    }
}
