//! What reading the header costs a gRPC proxy, per unary call, on loopback in one
//! process: testkit/src/grpc_proxy.rs (decodes each request's header, routes by the Go
//! client's rule, stamps `index` when it is behind) against the same proxy shape
//! forwarding blindly by method path (the message passed on as opaque bytes, the
//! baseline a user would otherwise pick). Both sit in front of the same upstream, and
//! tonic's generated counter client calls Increment through each in turn.
//!
//!     cargo bench --bench grpc_proxy --features tonic
//!
//! Prints, per proxy, the median over rounds of the mean time per call, and the ratio.

use testkit::grpc_proxy;

#[allow(clippy::all, dead_code)]
mod generated {
    pub mod atomix {
        pub mod headers {
            include!("../tests/generated/atomix.headers.rs");
        }
        pub mod primitive {
            include!("../tests/generated/atomix.primitive.rs");
        }
        pub mod counter {
            include!("../tests/generated/atomix.counter.rs");
        }
    }
}

use bytes::{Buf, BufMut, Bytes};
use generated::atomix::counter::counter_service_client::CounterServiceClient;
use generated::atomix::counter::{IncrementRequest, IncrementResponse};
use generated::atomix::headers::{RequestHeader, ResponseHeader};
use generated::atomix::primitive::Name;
use prost::Message as _;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::net::TcpListener;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http, Service, StdError};
use tonic::transport::server::TcpIncoming;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

const CALLS: usize = 2_000;
const ROUNDS: usize = 7;

/// Messages as opaque bytes: what a proxy that does not read them uses.
#[derive(Clone, Default)]
struct RawCodec;

struct Raw;

impl Encoder for Raw {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Stream = Pin<Box<dyn tokio_stream::Stream<Item = Result<Bytes, Status>> + Send>>;

/// The upstream, and the blind proxy: both answer any path, one with a fixed
/// IncrementResponse, the other by forwarding to `upstream`.
#[derive(Clone)]
struct Node {
    upstream: Option<Channel>,
}

impl<B> Service<http::Request<B>> for Node
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
        let call = NodeCall {
            upstream: self.upstream.clone(),
            path: request.uri().path().parse().unwrap(),
        };
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec);
            Ok(grpc.server_streaming(call, request).await)
        })
    }
}

struct NodeCall {
    upstream: Option<Channel>,
    path: http::uri::PathAndQuery,
}

impl Service<Request<Bytes>> for NodeCall {
    type Response = Response<Stream>;
    type Error = Status;
    type Future = BoxFuture<Result<Self::Response, Status>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let (upstream, path) = (self.upstream.clone(), self.path.clone());
        Box::pin(async move {
            let Some(channel) = upstream else {
                let response = IncrementResponse {
                    header: Some(ResponseHeader {
                        index: 7,
                        ..Default::default()
                    }),
                    previous_value: 1,
                    next_value: 2,
                };
                let stream: Stream = Box::pin(tokio_stream::once(Ok(Bytes::from(
                    response.encode_to_vec(),
                ))));
                return Ok(Response::new(stream));
            };
            let mut client = tonic::client::Grpc::new(channel);
            client
                .ready()
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
            let response = client.server_streaming(request, path, RawCodec).await?;
            let (metadata, stream, extensions) = response.into_parts();
            let stream: Stream = Box::pin(stream);
            Ok(Response::from_parts(metadata, stream, extensions))
        })
    }
}

async fn serve_routes(routes: tonic::service::Routes) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_routes(routes)
            .serve_with_incoming(TcpIncoming::from(listener).with_nodelay(Some(true))),
    );
    addr
}

async fn serve_node(node: Node) -> String {
    let mut routes = tonic::service::Routes::default();
    let router = std::mem::take(routes.axum_router_mut());
    *routes.axum_router_mut() = router.fallback_service(node);
    serve_routes(routes).await
}

async fn channel(addr: &str) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Mean time per call over `CALLS` sequential Increments.
async fn round(client: &mut CounterServiceClient<Channel>) -> f64 {
    let start = Instant::now();
    for i in 0..CALLS {
        let request = IncrementRequest {
            header: Some(RequestHeader {
                name: Some(Name {
                    name: format!("counter-{}", i % 16),
                    namespace: "default".into(),
                }),
                session_id: 12345,
                request_id: i as u64,
                index: 0,
                streams: vec![],
            }),
            delta: 1,
        };
        client.increment(request).await.unwrap();
    }
    start.elapsed().as_nanos() as f64 / CALLS as f64
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let upstream = serve_node(Node { upstream: None }).await;
    let blind = serve_node(Node {
        upstream: Some(channel(&upstream).await),
    })
    .await;
    let reading = serve_routes(
        grpc_proxy::Proxy::new(std::slice::from_ref(&upstream))
            .unwrap()
            .routes(),
    )
    .await;
    let mut through_blind = CounterServiceClient::new(channel(&blind).await);
    let mut through_reading = CounterServiceClient::new(channel(&reading).await);
    // Warm both paths up, then alternate rounds so that drift hits both alike.
    round(&mut through_blind).await;
    round(&mut through_reading).await;
    let (mut blind_ns, mut reading_ns) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        blind_ns.push(round(&mut through_blind).await);
        reading_ns.push(round(&mut through_reading).await);
    }
    let (b, r) = (median(blind_ns), median(reading_ns));
    println!("proxy cost per unary Increment, {ROUNDS} rounds of {CALLS} sequential calls:");
    println!("  blind forward by method path: {:.1} µs", b / 1000.0);
    println!("  reading, routing and stamping: {:.1} µs", r / 1000.0);
    println!(
        "  reading / blind: {:.3} ({:+.1}%)",
        r / b,
        (r / b - 1.0) * 100.0
    );
}
