//! The tonic service scaffolding the tests and benchmarks share: a small gRPC proxy in
//! front of the partitions of an Atomix cluster, built on tonic and
//! `atomix_headers::tonic_codec`, which tests/grpc_proxy.rs runs end to end and
//! benches/grpc_proxy.rs measures. (The proxy for operators is `atomix-proxy`, in
//! proxy/: leaders, retries, deadlines, draining, metrics.)
//!
//! It accepts any unary or server-streaming method of an Atomix primitive service
//! (`/atomix.<primitive>.<Service>/<Method>`), reads the request's header, and sends the
//! call to one of the upstreams (the partitions, in order) by the Atomix Go client's
//! rule: FNV-1a 32 of `header.name.name`, or of the operation's field 2 (the key or the
//! value) for the map and set methods on one entry, modulo the number of partitions.
//! Every response message comes back as it left the upstream.
//!
//! The rewrite it shows: the proxy remembers the highest `index` each partition has
//! answered with, and stamps a request whose `index` is lower with that one, so that a
//! query waits for what any client of the proxy has already seen. Nothing else of the
//! message changes; a request it does not stamp goes upstream as the bytes that came in.
//! NOT_LEADER responses are logged with their leader.
//!
//! Faults become gRPC statuses, never a hang or a crash: an unknown method is
//! UNIMPLEMENTED, a malformed message INVALID_ARGUMENT (from the codec), an upstream that
//! cannot be reached UNAVAILABLE, naming its address. tonic refuses messages over 4 MiB
//! from their prefix, and compressed messages (no compression is enabled here) with
//! UNIMPLEMENTED before they reach the codec.

use atomix_headers::tonic_codec::{ClientCodec, ServerCodec};
use atomix_headers::{
    partition, OwnedRequestEnvelope, OwnedResponseEnvelope, RequestEnvelope, ResponseStatus,
};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::net::TcpListener;
use tokio_stream::{Stream, StreamExt};
use tonic::codegen::{http, Service, StdError};
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};

/// The primitives whose services the proxy forwards (the log's client-streaming
/// Produce is not one of them).
const PRIMITIVES: &[&str] = &[
    "counter",
    "election",
    "indexedmap",
    "leader",
    "list",
    "lock",
    "map",
    "set",
    "value",
];

/// One partition's upstream.
struct Upstream {
    addr: String,
    channel: Channel,
    /// The highest `index` this partition has answered with.
    last_index: AtomicU64,
}

/// The proxy's state, shared by every call.
pub struct Proxy {
    upstreams: Vec<Upstream>,
}

impl Proxy {
    /// A proxy over `upstreams` (host:port, in partition order). Connections are made
    /// when first needed, so an upstream that is down fails only the calls routed to it.
    pub fn new(upstreams: &[String]) -> Result<Self, String> {
        if upstreams.is_empty() {
            return Err("at least one upstream is needed".into());
        }
        let upstreams = upstreams
            .iter()
            .map(|addr| {
                let endpoint = Endpoint::from_shared(format!("http://{addr}"))
                    .map_err(|e| format!("bad upstream address {addr}: {e}"))?;
                Ok(Upstream {
                    addr: addr.clone(),
                    channel: endpoint.connect_lazy(),
                    last_index: AtomicU64::new(0),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { upstreams })
    }

    /// The proxy as tonic routes: every path goes to it.
    pub fn routes(self) -> Routes {
        let service = ProxyService {
            proxy: Arc::new(self),
        };
        let mut routes = Routes::default();
        let router = std::mem::take(routes.axum_router_mut());
        *routes.axum_router_mut() = router.fallback_service(service);
        routes
    }

    /// Serves clients accepted on `listener` until `shutdown` resolves. Accepted sockets
    /// send without delay (TCP_NODELAY): a proxy adds a hop, not a wait. An error
    /// accepting one connection (out of file descriptors, say) is skipped by tonic's
    /// accept loop, and serving goes on.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), tonic::transport::Error> {
        tonic::transport::Server::builder()
            .add_routes(self.routes())
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                shutdown,
            )
            .await
    }
}

/// A method path split into its primitive, service and method.
struct Method {
    path: http::uri::PathAndQuery,
    primitive: String,
    method: String,
}

fn parse_path(path: &str) -> Option<Method> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let mut parts = service.split('.');
    let (Some("atomix"), Some(primitive), Some(_service), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if !PRIMITIVES.contains(&primitive) || method.is_empty() || method.contains('/') {
        return None;
    }
    Some(Method {
        path: path.parse().ok()?,
        primitive: primitive.to_owned(),
        method: method.to_owned(),
    })
}

/// The bytes the Go client hashes to pick a partition.
fn routing_key<'a>(method: &Method, request: &RequestEnvelope<'a>) -> Result<&'a [u8], Status> {
    let by_entry = match method.primitive.as_str() {
        "map" => matches!(
            method.method.as_str(),
            "Exists" | "Put" | "Replace" | "Get" | "Remove"
        ),
        "set" => matches!(method.method.as_str(), "Add" | "Contains" | "Remove"),
        _ => false,
    };
    if by_entry {
        // A proto3 string: absent is empty, and the last occurrence counts.
        return Ok(request
            .last_field(2)
            .and_then(|f| f.payload())
            .unwrap_or_default());
    }
    let header = request
        .header
        .as_ref()
        .ok_or_else(|| Status::invalid_argument("the request has no header (field 1)"))?;
    Ok(header.name.unwrap_or_default().name.as_bytes())
}

#[derive(Clone)]
struct ProxyService {
    proxy: Arc<Proxy>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type ResponseStream = Pin<Box<dyn Stream<Item = Result<OwnedResponseEnvelope, Status>> + Send>>;

impl<B> Service<http::Request<B>> for ProxyService
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<StdError> + Send,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let proxy = self.proxy.clone();
        Box::pin(async move {
            let path = request.uri().path();
            let Some(method) = parse_path(path) else {
                let status = Status::unimplemented(format!("no Atomix method at {path}"));
                return Ok(status.into_http());
            };
            // A unary response is a stream of one message on the wire: one handler
            // serves both kinds.
            let call = Call { proxy, method };
            let mut grpc = tonic::server::Grpc::new(ServerCodec::default());
            Ok(grpc.server_streaming(call, request).await)
        })
    }
}

/// One call: its first (and only) request message, routed and forwarded.
struct Call {
    proxy: Arc<Proxy>,
    method: Method,
}

impl Service<Request<OwnedRequestEnvelope>> for Call {
    type Response = Response<ResponseStream>;
    type Error = Status;
    type Future = BoxFuture<Result<Self::Response, Status>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<OwnedRequestEnvelope>) -> Self::Future {
        let proxy = self.proxy.clone();
        let path = self.method.path.clone();
        let routed = route(&proxy, &self.method, request);
        Box::pin(async move {
            let (index, request) = routed?;
            forward(proxy, index, path, request).await
        })
    }
}

/// Picks the partition and stamps the request when its index is behind.
fn route(
    proxy: &Proxy,
    method: &Method,
    request: Request<OwnedRequestEnvelope>,
) -> Result<(usize, Request<OwnedRequestEnvelope>), Status> {
    let (metadata, extensions, message) = request.into_parts();
    let envelope = message.message();
    let key = routing_key(method, envelope)?;
    // Partitions are counted in u32, as the Go client counts them.
    let count = u32::try_from(proxy.upstreams.len()).unwrap_or(u32::MAX);
    let index = partition::index(key, count).unwrap_or(0) as usize;
    let last = proxy.upstreams[index].last_index.load(Ordering::Relaxed);
    let message = match envelope.header {
        Some(header) if header.index < last => {
            let mut stamped = *envelope;
            if let Some(h) = &mut stamped.header {
                h.index = last;
            }
            OwnedRequestEnvelope::from_message(&stamped)
                .map_err(|e| Status::internal(format!("re-encoding the request: {e}")))?
        }
        _ => message,
    };
    Ok((index, Request::from_parts(metadata, extensions, message)))
}

async fn forward(
    proxy: Arc<Proxy>,
    index: usize,
    path: http::uri::PathAndQuery,
    request: Request<OwnedRequestEnvelope>,
) -> Result<Response<ResponseStream>, Status> {
    let upstream = &proxy.upstreams[index];
    let unavailable = |e: &dyn std::fmt::Display| {
        Status::unavailable(format!(
            "partition {} upstream {} failed: {e}",
            index + 1,
            upstream.addr
        ))
    };
    let mut client = tonic::client::Grpc::new(upstream.channel.clone());
    client.ready().await.map_err(|e| unavailable(&e))?;
    let response = client
        .server_streaming(request, path, ClientCodec::default())
        .await
        .map_err(|status| match status.code() {
            // The connection failed or was torn down (an upstream shutting down resets
            // its streams, CANCELLED), rather than the upstream answering with an error
            // of its own: the caller may retry elsewhere.
            tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled => {
                unavailable(&status.message())
            }
            _ => status,
        })?;
    let (metadata, stream, extensions) = response.into_parts();
    let proxy = proxy.clone();
    let stream = stream.map(move |message| {
        let message = message?;
        if let Some(header) = message.message().header {
            let upstream = &proxy.upstreams[index];
            upstream
                .last_index
                .fetch_max(header.index, Ordering::Relaxed);
            if header.status == ResponseStatus::NOT_LEADER {
                eprintln!(
                    "grpc_proxy: upstream {} (partition {}): NOT_LEADER, leader {:?}",
                    upstream.addr,
                    index + 1,
                    header.leader
                );
            }
        }
        Ok(message)
    });
    Ok(Response::from_parts(metadata, Box::pin(stream), extensions))
}
