//! The header proxy (testkit/src/header_proxy.rs) on 127.0.0.1, between a test client and a test
//! upstream: 100,000 RequestHeaders, with unknown fields, written in chunks cut at random
//! points, must reach the upstream intact, in order, with `index` stamped; the upstream's
//! ResponseHeaders must come back intact and in order.

mod common;
use testkit::header_proxy as proxy;

use atomix_headers::tokio_codec::HeaderCodec;
use atomix_headers::{
    Message, Name, OwnedRequestHeader, OwnedResponseHeader, RequestHeader, ResponseHeader,
    ResponseStatus, StreamHeader, UnknownFields,
};
use common::Rng;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, FramedRead, FramedWrite};

const FRAMES: u64 = 100_000;
/// Unknown fields a newer peer might send: partition = 6 and a fixed32.
const EXTRA: &[u8] = &[0x30, 0x07, 0x55, 0x01, 0x02, 0x03, 0x04];
/// What the upstream answers them with: message = 8 ("retry") and a fixed32.
const EXTRA_RESPONSE: &[u8] = &[
    0x42, 0x05, b'r', b'e', b't', b'r', b'y', 0x55, 0x01, 0x02, 0x03, 0x04,
];

/// Encodes request `i` (with `index` left 0: the proxy stamps it) into `out`.
fn request(i: u64, out: &mut Vec<u8>) {
    let streams = [StreamHeader {
        stream_id: i,
        response_id: i * 2,
        ..Default::default()
    }];
    let n = (i % 3) as usize;
    RequestHeader {
        name: Some(Name {
            name: "my-map",
            namespace: "default",
            ..Default::default()
        }),
        session_id: 42,
        request_id: i,
        streams: streams[..n.min(1)].into(),
        unknown_fields: if i.is_multiple_of(2) {
            UnknownFields::from_bytes::<RequestHeader>(EXTRA).unwrap()
        } else {
            UnknownFields::EMPTY
        },
        ..Default::default()
    }
    .encode_length_delimited(out)
    .unwrap();
}

fn check_request(i: u64, got: &RequestHeader<'_>) {
    let mut expected = Vec::new();
    request(i, &mut expected);
    let want = RequestHeader::decode(&expected[1..]).unwrap();
    assert_eq!(got.index, i, "index stamped with the sequence number");
    assert_eq!(
        RequestHeader { index: 0, ..*got },
        want,
        "request {i} intact"
    );
}

async fn upstream(listener: TcpListener) {
    let (socket, _) = listener.accept().await.unwrap();
    let (read, write) = socket.into_split();
    let mut requests = FramedRead::new(read, HeaderCodec::<OwnedRequestHeader>::new());
    let mut responses = FramedWrite::new(write, HeaderCodec::<OwnedResponseHeader>::new());
    let mut i = 0;
    while let Some(request) = requests.next().await {
        i += 1;
        let request = request.unwrap();
        check_request(i, request.message());
        let response = ResponseHeader {
            session_id: 42,
            response_id: request.message().request_id,
            index: request.message().index,
            leader: "raft-node-2:5678",
            status: ResponseStatus::from_value((i % 5) as i32),
            unknown_fields: if request.message().unknown_fields.is_empty() {
                UnknownFields::EMPTY
            } else {
                UnknownFields::from_bytes::<ResponseHeader>(EXTRA_RESPONSE).unwrap()
            },
            ..Default::default()
        };
        responses.feed(response).await.unwrap();
        if requests.read_buffer().is_empty() {
            SinkExt::<ResponseHeader<'_>>::flush(&mut responses)
                .await
                .unwrap();
        }
    }
    SinkExt::<ResponseHeader<'_>>::flush(&mut responses)
        .await
        .unwrap();
    assert_eq!(i, FRAMES, "every request reached the upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_relays_100k_frames_split_at_random_points() {
    let upstream_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = upstream_listener.local_addr().unwrap();
    let upstream_task = tokio::spawn(upstream(upstream_listener));
    let proxy_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = proxy_listener.local_addr().unwrap();
    tokio::spawn(proxy::serve(proxy_listener, upstream_addr));

    let run = async {
        let client = TcpStream::connect(proxy_addr).await.unwrap();
        let (read, mut write) = client.into_split();
        let writer = tokio::spawn(async move {
            let mut wire = Vec::new();
            for i in 1..=FRAMES {
                request(i, &mut wire);
            }
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            let mut pos = 0;
            while pos < wire.len() {
                let len = (1 + rng.next() % 1500) as usize;
                let end = (pos + len).min(wire.len());
                write.write_all(&wire[pos..end]).await.unwrap();
                pos = end;
            }
            write.shutdown().await.unwrap();
        });
        let mut responses = FramedRead::new(read, HeaderCodec::<OwnedResponseHeader>::new());
        let mut i = 0;
        while let Some(response) = responses.next().await {
            i += 1;
            let response = response.unwrap();
            let header = response.message();
            assert_eq!(
                (header.response_id, header.index),
                (i, i),
                "response {i} in order"
            );
            assert_eq!(header.status.value(), (i % 5) as i32);
            let extra: &[u8] = if i % 2 == 0 { EXTRA_RESPONSE } else { &[] };
            assert_eq!(
                header.unknown_fields,
                UnknownFields::from_bytes::<ResponseHeader>(extra).unwrap()
            );
            if i == FRAMES {
                break;
            }
        }
        assert_eq!(i, FRAMES, "every response came back");
        writer.await.unwrap();
        upstream_task.await.unwrap();
    };
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the relay finishes in time");
}

/// An upstream that answers every request on every connection with its request_id.
async fn answering_upstream(listener: TcpListener) {
    loop {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::spawn(async move {
            let (read, write) = socket.into_split();
            let mut requests = FramedRead::new(read, HeaderCodec::<OwnedRequestHeader>::new());
            let mut responses = FramedWrite::new(write, HeaderCodec::<OwnedResponseHeader>::new());
            while let Some(Ok(request)) = requests.next().await {
                let response = ResponseHeader {
                    response_id: request.message().request_id,
                    index: request.message().index,
                    ..Default::default()
                };
                if responses.send(response).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// The proxy in front of an answering upstream, serving `incoming`.
async fn start_proxy(
    incoming: impl futures_util::Stream<Item = std::io::Result<TcpStream>> + Unpin + Send + 'static,
) {
    let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    tokio::spawn(answering_upstream(upstream));
    tokio::spawn(proxy::serve_incoming(incoming, upstream_addr));
}

/// Sends requests `ids` on one connection and reads as many responses, through one
/// `Framed` that writes requests and reads responses.
async fn exchange(proxy: std::net::SocketAddr, ids: std::ops::Range<u64>) {
    let client = TcpStream::connect(proxy).await.unwrap();
    let mut framed = Framed::new(client, HeaderCodec::<OwnedResponseHeader>::new());
    for i in ids.clone() {
        let mut wire = Vec::new();
        request(i, &mut wire);
        let owned = OwnedRequestHeader::decode(bytes::Bytes::from(wire).slice(1..)).unwrap();
        framed.feed(owned).await.unwrap();
    }
    SinkExt::<OwnedRequestHeader>::flush(&mut framed)
        .await
        .unwrap();
    for i in ids {
        let response = framed.next().await.unwrap().unwrap();
        assert_eq!(response.message().response_id, i);
    }
}

#[tokio::test]
async fn a_complete_frame_goes_upstream_while_the_next_is_still_arriving() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    start_proxy(tokio_stream::wrappers::TcpListenerStream::new(listener)).await;

    let client = TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = client.into_split();
    let mut wire = Vec::new();
    request(1, &mut wire);
    let first = wire.len();
    request(2, &mut wire);
    // The whole first frame and one byte of the second; then wait.
    write.write_all(&wire[..first + 1]).await.unwrap();
    let mut responses = FramedRead::new(read, HeaderCodec::<OwnedResponseHeader>::new());
    let response = tokio::time::timeout(Duration::from_secs(3), responses.next())
        .await
        .expect("the first request is answered before the second is complete")
        .unwrap()
        .unwrap();
    assert_eq!(response.message().response_id, 1);
    write.write_all(&wire[first + 1..]).await.unwrap();
    let response = responses.next().await.unwrap().unwrap();
    assert_eq!(response.message().response_id, 2);
}

#[tokio::test]
async fn accept_errors_are_logged_and_serving_goes_on() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // What `accept` returns when the process is out of file descriptors (EMFILE).
    let failures = (0..3).map(|_| Err(std::io::Error::from_raw_os_error(24)));
    let incoming = tokio_stream::StreamExt::chain(
        tokio_stream::iter(failures),
        tokio_stream::wrappers::TcpListenerStream::new(listener),
    );
    start_proxy(Box::pin(incoming)).await;
    tokio::time::timeout(Duration::from_secs(10), exchange(addr, 1..4))
        .await
        .expect("the proxy still serves after failed accepts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    start_proxy(tokio_stream::wrappers::TcpListenerStream::new(listener)).await;
    let clients: Vec<_> = (0..200u64)
        .map(|c| tokio::spawn(exchange(addr, c * 100..c * 100 + 20)))
        .collect();
    let all = async {
        for client in clients {
            client.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("200 clients are served");
}
