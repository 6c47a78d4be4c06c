//! The gRPC proxy (testkit/src/grpc_proxy.rs) end to end on 127.0.0.1: three upstream
//! partitions serving counter and map, the proxy in front, and tonic's generated client
//! (tests/generated/, from testdata/schema/atomix/{counter,map}/) as the Atomix client.
//!
//! - 10,000 requests over 8 connections each reach the partition the Go client's rule
//!   picks, byte for byte as sent (unknown fields included), but for a stamped `index`;
//! - a server-streaming call relays every event in order;
//! - a malformed message gets INVALID_ARGUMENT, an unknown method UNIMPLEMENTED, a
//!   message over 4 MiB OUT_OF_RANGE, a compressed one UNIMPLEMENTED, and the proxy goes
//!   on serving;
//! - a stopped upstream gives its callers UNAVAILABLE, not a hang, while the other
//!   partitions keep serving.

use testkit::grpc_proxy;

#[allow(clippy::all, dead_code)]
mod generated {
    pub mod atomix {
        pub mod headers {
            include!("generated/atomix.headers.rs");
        }
        pub mod primitive {
            include!("generated/atomix.primitive.rs");
        }
        pub mod counter {
            include!("generated/atomix.counter.rs");
        }
        pub mod map {
            include!("generated/atomix.map.rs");
        }
    }
}

use atomix_headers::tonic_codec::{ClientCodec, ServerCodec};
use atomix_headers::{
    partition, Message, OwnedRequestEnvelope, OwnedResponseEnvelope, RequestEnvelope,
};
use bytes::Bytes;
use generated::atomix::counter::counter_service_client::CounterServiceClient;
use generated::atomix::counter::{IncrementRequest, IncrementResponse};
use generated::atomix::headers::{RequestHeader, ResponseHeader, ResponseStatus, ResponseType};
use generated::atomix::map::map_service_client::MapServiceClient;
use generated::atomix::map::{EventRequest, EventResponse, PutRequest, PutResponse};
use generated::atomix::primitive::Name;
use prost::Message as _;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::codegen::{http, Service, StdError};
use tonic::transport::server::TcpIncoming;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

const PARTITIONS: usize = 3;
const REQUESTS: usize = 10_000;
const CONNECTIONS: usize = 8;
const EVENTS: u64 = 20;

/// What one upstream received: the method path and the message's bytes.
type Log = Arc<Mutex<Vec<(String, Bytes)>>>;

/// An upstream partition: answers counter and map calls, recording each request's bytes
/// exactly as they arrived (read through this crate's codec, not prost's).
#[derive(Clone)]
struct Upstream {
    log: Log,
    index: Arc<Mutex<u64>>,
    /// Endless event streams still open.
    live: Arc<AtomicUsize>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Events =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<OwnedResponseEnvelope, Status>> + Send>>;

fn owned(message: &impl prost::Message) -> OwnedResponseEnvelope {
    OwnedResponseEnvelope::decode(Bytes::from(message.encode_to_vec())).unwrap()
}

impl<B> Service<http::Request<B>> for Upstream
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<StdError> + Send,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let call = UpstreamCall {
            upstream: self.clone(),
            path: request.uri().path().to_owned(),
        };
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(ServerCodec::default());
            Ok(grpc.server_streaming(call, request).await)
        })
    }
}

struct UpstreamCall {
    upstream: Upstream,
    path: String,
}

impl Service<Request<OwnedRequestEnvelope>> for UpstreamCall {
    type Response = Response<Events>;
    type Error = Status;
    type Future = BoxFuture<Result<Self::Response, Status>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<OwnedRequestEnvelope>) -> Self::Future {
        let bytes = request.into_inner().into_bytes();
        self.upstream
            .log
            .lock()
            .unwrap()
            .push((self.path.clone(), bytes.clone()));
        let index = {
            let mut index = self.upstream.index.lock().unwrap();
            *index += 1;
            *index
        };
        let header = |r#type: ResponseType| ResponseHeader {
            index,
            r#type: r#type as i32,
            ..Default::default()
        };
        let messages: Vec<OwnedResponseEnvelope> = match self.path.as_str() {
            "/atomix.counter.CounterService/Increment" => {
                let request = IncrementRequest::decode(bytes).unwrap();
                let name = request.header.and_then(|h| h.name).unwrap_or_default().name;
                let mut header = header(ResponseType::Response);
                if name == "not-leader" {
                    header.status = ResponseStatus::NotLeader as i32;
                    header.leader = "10.0.0.9:5678".into();
                }
                vec![owned(&IncrementResponse {
                    header: Some(header),
                    previous_value: 0,
                    next_value: request.delta,
                })]
            }
            "/atomix.map.MapService/Put" => vec![owned(&PutResponse {
                header: Some(header(ResponseType::Response)),
                ..Default::default()
            })],
            "/atomix.map.MapService/Events" if bytes.ends_with(b"endless") => {
                // Events until the caller goes away: one every millisecond.
                let (send, receive) = tokio::sync::mpsc::channel(4);
                let live = self.upstream.live.clone();
                live.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    for n in 0.. {
                        let event = owned(&EventResponse {
                            header: Some(ResponseHeader {
                                response_id: n,
                                ..Default::default()
                            }),
                            ..Default::default()
                        });
                        if send.send(Ok(event)).await.is_err() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    live.fetch_sub(1, Ordering::SeqCst);
                });
                let stream: Events = Box::pin(tokio_stream::wrappers::ReceiverStream::new(receive));
                return Box::pin(async move { Ok(Response::new(stream)) });
            }
            "/atomix.map.MapService/Events" => {
                let request = EventRequest::decode(bytes).unwrap();
                (0..=EVENTS + 1)
                    .map(|n| {
                        let r#type = match n {
                            0 => ResponseType::OpenStream,
                            n if n > EVENTS => ResponseType::CloseStream,
                            _ => ResponseType::Response,
                        };
                        owned(&EventResponse {
                            header: Some(ResponseHeader {
                                response_id: n,
                                stream_id: 1,
                                ..header(r#type)
                            }),
                            key: request.key.clone(),
                            version: n as i64,
                            ..Default::default()
                        })
                    })
                    .collect()
            }
            other => {
                let status = Status::unimplemented(format!("upstream has no {other}"));
                return Box::pin(async move { Err(status) });
            }
        };
        let stream: Events = Box::pin(tokio_stream::iter(messages.into_iter().map(Ok)));
        Box::pin(async move { Ok(Response::new(stream)) })
    }
}

struct Cluster {
    proxy: String,
    logs: Vec<Log>,
    live: Vec<Arc<AtomicUsize>>,
    stops: Vec<Option<oneshot::Sender<()>>>,
    upstreams: Vec<tokio::task::JoinHandle<()>>,
}

async fn start() -> Cluster {
    let (mut addrs, mut logs, mut stops, mut upstreams) = (vec![], vec![], vec![], vec![]);
    let mut live = vec![];
    for _ in 0..PARTITIONS {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap().to_string());
        let upstream = Upstream {
            log: Log::default(),
            index: Arc::default(),
            live: Arc::default(),
        };
        logs.push(upstream.log.clone());
        live.push(upstream.live.clone());
        let mut routes = tonic::service::Routes::default();
        let router = std::mem::take(routes.axum_router_mut());
        *routes.axum_router_mut() = router.fallback_service(upstream);
        let (stop, stopped) = oneshot::channel::<()>();
        stops.push(Some(stop));
        upstreams.push(tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_routes(routes)
                .serve_with_incoming_shutdown(
                    TcpIncoming::from(listener).with_nodelay(Some(true)),
                    async {
                        let _ = stopped.await;
                    },
                )
                .await
                .unwrap();
        }));
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap().to_string();
    let server = grpc_proxy::Proxy::new(&addrs).unwrap();
    tokio::spawn(server.serve(listener, std::future::pending()));
    Cluster {
        proxy,
        logs,
        live,
        stops,
        upstreams,
    }
}

async fn connect(addr: &str) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn header(name: &str, request_id: u64, index: u64) -> Option<RequestHeader> {
    Some(RequestHeader {
        name: Some(Name {
            name: name.into(),
            namespace: "default".into(),
        }),
        session_id: 1000 + request_id % 7,
        request_id,
        index,
        streams: vec![],
    })
}

/// The partition the Go client would pick for `key`.
fn partition_of(key: &str) -> usize {
    partition::index(key.as_bytes(), PARTITIONS as u32).unwrap() as usize
}

/// What a request sent as `sent` may arrive as: the same bytes, or the same message with
/// only a higher `index` (the proxy's stamp).
fn assert_forwarded(sent: &[u8], received: &[u8]) {
    if sent == received {
        return;
    }
    let sent = RequestEnvelope::decode(sent).unwrap();
    let mut received = RequestEnvelope::decode(received).unwrap();
    let (s, r) = (sent.header.unwrap(), received.header.as_mut().unwrap());
    assert!(r.index > s.index, "only a stamp may change a request");
    r.index = s.index;
    assert_eq!(received.encode_to_vec(), sent.encode_to_vec());
    assert_eq!(
        received.operation.as_contiguous(),
        sent.operation.as_contiguous()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_proxy_routes_relays_and_fails_as_a_grpc_server_should() {
    let mut cluster = start().await;

    // 10,000 requests over 8 connections: counters by name, map puts by key.
    let mut clients = Vec::new();
    for c in 0..CONNECTIONS {
        let channel = connect(&cluster.proxy).await;
        clients.push(tokio::spawn(async move {
            let mut counter = CounterServiceClient::new(channel.clone());
            let mut map = MapServiceClient::new(channel);
            let mut sent = Vec::new();
            for i in 0..REQUESTS / CONNECTIONS {
                let id = (c * REQUESTS + i) as u64;
                if i % 2 == 0 {
                    let name = format!("counter-{}", i % 37);
                    let request = IncrementRequest {
                        header: header(&name, id, 0),
                        delta: i as i64,
                    };
                    sent.push((partition_of(&name), id, request.encode_to_vec()));
                    let response = counter.increment(request).await.unwrap().into_inner();
                    assert_eq!(response.next_value, i as i64);
                } else {
                    let key = format!("key-{id}");
                    let request = PutRequest {
                        header: header("my-map", id, 0),
                        key: key.clone(),
                        value: vec![b'v'; i % 100],
                        version: 1,
                    };
                    sent.push((partition_of(&key), id, request.encode_to_vec()));
                    map.put(request).await.unwrap();
                }
            }
            sent
        }));
    }
    let mut sent = Vec::new();
    for client in clients {
        sent.extend(client.await.unwrap());
    }
    assert_eq!(sent.len(), REQUESTS);

    // Requests with unknown fields, in the header and in the message, through a raw
    // client: they too arrive byte for byte.
    let mut raw = tonic::client::Grpc::new(connect(&cluster.proxy).await);
    for i in 0..100u64 {
        let id = 1_000_000 + i;
        let mut bytes = IncrementRequest {
            header: header("counter-raw", id, u64::MAX - 1),
            delta: 1,
        }
        .encode_to_vec();
        // header field 9 (unknown) inside field 1, and message field 15 (unknown).
        bytes.extend_from_slice(&[0x0a, 0x02, 0x48, 0x05, 0x7a, 0x03, b'x', b'y', b'z']);
        sent.push((partition_of("counter-raw"), id, bytes.clone()));
        let request = OwnedRequestEnvelope::decode(Bytes::from(bytes)).unwrap();
        raw.ready().await.unwrap();
        let path = "/atomix.counter.CounterService/Increment".parse().unwrap();
        let mut responses = raw
            .server_streaming(Request::new(request), path, ClientCodec::default())
            .await
            .unwrap()
            .into_inner();
        assert!(responses.message().await.unwrap().is_some());
    }

    // Every request reached the partition the Go client picks, as it was sent.
    let mut received = std::collections::HashMap::new();
    for (partition, log) in cluster.logs.iter().enumerate() {
        for (_, bytes) in log.lock().unwrap().iter() {
            let envelope = RequestEnvelope::decode(bytes).unwrap();
            let id = envelope.header.unwrap().request_id;
            assert!(received.insert(id, (partition, bytes.clone())).is_none());
        }
    }
    assert_eq!(received.len(), sent.len());
    let mut stamped = 0;
    for (partition, id, bytes) in &sent {
        let (arrived_at, arrived) = &received[id];
        assert_eq!(arrived_at, partition, "request {id}");
        assert_forwarded(bytes, arrived);
        stamped += usize::from(bytes[..] != arrived[..]);
    }
    assert!(
        stamped > 0,
        "the proxy stamps requests behind their partition"
    );
    assert!(stamped < sent.len(), "and leaves the others as they came");

    // A server-streaming call: every event, in order.
    let mut map = MapServiceClient::new(connect(&cluster.proxy).await);
    let mut events = map
        .events(EventRequest {
            header: header("my-map", 7, 0),
            replay: true,
            key: "k".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut ids = Vec::new();
    while let Some(event) = events.message().await.unwrap() {
        ids.push(event.header.unwrap().response_id);
    }
    assert_eq!(ids, (0..=EVENTS + 1).collect::<Vec<_>>());

    // A malformed message and an unknown method: statuses, and the proxy serves on.
    let mut raw = tonic::client::Grpc::new(connect(&cluster.proxy).await);
    raw.ready().await.unwrap();
    let malformed = Bytes::from_static(&[0x0a, 0x05, 0x01]);
    let status = raw
        .unary::<_, OwnedResponseEnvelope, _>(
            Request::new(malformed),
            "/atomix.counter.CounterService/Increment".parse().unwrap(),
            atomix_headers::tonic_codec::EnvelopeCodec::<Bytes, OwnedResponseEnvelope>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    raw.ready().await.unwrap();
    let status = raw
        .unary::<_, OwnedResponseEnvelope, _>(
            Request::new(Bytes::from_static(&[0x0a, 0x00])),
            "/atomix.nothing.NoService/Nothing".parse().unwrap(),
            atomix_headers::tonic_codec::EnvelopeCodec::<Bytes, OwnedResponseEnvelope>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    // A message over tonic's 4 MiB limit is refused from its prefix; a compressed one
    // (the proxy enables no compression) is refused by name.
    let mut map = MapServiceClient::new(connect(&cluster.proxy).await);
    let status = map
        .put(PutRequest {
            header: header("my-map", 10, 0),
            key: "big".into(),
            value: vec![0; 5 << 20],
            version: 1,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    let mut gzip = CounterServiceClient::new(connect(&cluster.proxy).await)
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let status = gzip
        .increment(IncrementRequest {
            header: header("counter-1", 11, 0),
            delta: 1,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    assert!(status.message().contains("gzip"), "{status:?}");

    let mut counter = CounterServiceClient::new(connect(&cluster.proxy).await);
    counter
        .increment(IncrementRequest {
            header: header("not-leader", 8, 0),
            delta: 1,
        })
        .await
        .unwrap();

    // One upstream stops: its callers get UNAVAILABLE in bounded time, the others are
    // served.
    let down = partition_of("counter-1");
    cluster.stops[down].take().unwrap().send(()).unwrap();
    // Its connections close when the proxy's side lets go; the test does not wait long.
    let _ = tokio::time::timeout(Duration::from_secs(5), &mut cluster.upstreams[down]).await;
    let name_on = |up: bool| {
        (0..)
            .map(|i| format!("counter-{i}"))
            .find(|n| (partition_of(n) == down) != up)
            .unwrap()
    };
    for up in [false, true] {
        let request = IncrementRequest {
            header: header(&name_on(up), 9, 0),
            delta: 1,
        };
        let result = tokio::time::timeout(Duration::from_secs(20), counter.increment(request))
            .await
            .expect("an answer, not a hang");
        match (up, result) {
            (true, Ok(_)) => {}
            (false, Err(status)) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                assert!(status.message().contains("127.0.0.1"), "{status:?}");
            }
            (up, other) => panic!("partition up: {up}, got {other:?}"),
        }
    }
}

/// Resident memory of this process, in bytes (Linux).
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// 200 clients at once, each leaving in the middle of an endless event stream: every
/// upstream stream is released, and a second wave of 200 does not grow memory.
async fn wave(proxy: &str) {
    let mut clients = Vec::new();
    for c in 0..200u64 {
        let proxy = proxy.to_owned();
        clients.push(tokio::spawn(async move {
            let mut map = MapServiceClient::new(connect(&proxy).await);
            let mut events = map
                .events(EventRequest {
                    header: header(&format!("map-{c}"), c, 0),
                    replay: false,
                    key: "endless".into(),
                })
                .await
                .unwrap()
                .into_inner();
            for _ in 0..3 {
                assert!(events.message().await.unwrap().is_some());
            }
            // Dropping the stream and the connection here is the client going away.
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_that_leave_mid_stream_release_everything() {
    let cluster = start().await;
    let open = |cluster: &Cluster| -> usize {
        cluster.live.iter().map(|l| l.load(Ordering::SeqCst)).sum()
    };
    let mut after = Vec::new();
    for _ in 0..2 {
        wave(&cluster.proxy).await;
        // The proxy drops its upstream call when its client goes: every endless stream
        // ends upstream, in bounded time.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while open(&cluster) > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} upstream streams still open",
                open(&cluster)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        after.push(resident());
    }
    assert!(
        after[1] < after[0] + 32 * 1024 * 1024,
        "a second wave of 200 clients grew memory from {} to {} bytes",
        after[0],
        after[1]
    );
}
