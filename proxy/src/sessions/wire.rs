//! What the session layer sends and reads: requests with their header fields
//! rewritten for a partition session, one upstream answer read whole, responses with
//! their header rewritten for the client.

use super::Ctx;
use crate::attempt::{call_timer, exchange, Forward};
use crate::status::{Code, Status, GRPC_MESSAGE, GRPC_STATUS};
use atomix_headers::{
    grpc, Message, RequestEnvelope, ResponseEnvelope, ResponseType, StreamHeader, Streams,
};
use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use http::HeaderMap;

/// The largest upstream answer the session layer reads whole.
const MAX_ANSWER: usize = 64 << 20;

/// A request's header fields for one partition session.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fields<'s> {
    pub session_id: u64,
    pub request_id: u64,
    pub index: u64,
    pub streams: &'s [StreamHeader<'s>],
}

/// `envelope` with its header's session fields set to `fields`, framed for gRPC.
/// Everything else (name, unknown fields, the operation's fields) goes as it came.
pub fn request(envelope: &RequestEnvelope<'_>, fields: Fields<'_>) -> Result<Bytes, Status> {
    let mut e = *envelope;
    let mut header = e.header.unwrap_or_default();
    header.session_id = fields.session_id;
    header.request_id = fields.request_id;
    header.index = fields.index;
    header.streams = Streams::from_slice(fields.streams);
    e.header = Some(header);
    let mut out = Vec::with_capacity(e.encoded_len() + grpc::PREFIX_LEN);
    grpc::encode(&e, &mut out)
        .map_err(|err| Status::new(Code::INTERNAL, format!("re-encoding the request: {err}")))?;
    Ok(Bytes::from(out))
}

/// One upstream answer, read whole.
pub struct Unary {
    pub code: Code,
    pub message: String,
    /// The answer's first message, without its prefix.
    pub response: Option<Bytes>,
    /// The upstream's response headers and trailers: relayed to the client with the
    /// rewritten message, as a passed-through call relays them.
    pub headers: HeaderMap,
    pub trailers: HeaderMap,
}

impl Unary {
    /// The response header's index, for a caller that needs nothing else of it.
    pub fn index(&self) -> u64 {
        let e = self.response.as_deref().and_then(|r| decode(r).ok());
        e.and_then(|e| e.header).map_or(0, |h| h.index)
    }

    /// The response, decoded once: its header's index and the response in the
    /// client's terms (`response`), or why it cannot be had.
    pub fn for_client(&self, session_id: u64) -> Result<(u64, Bytes), Status> {
        let Some(message) = &self.response else {
            return Err(Status::new(
                Code::INTERNAL,
                "an upstream answer without a message",
            ));
        };
        let e = decode(message)?;
        let index = e.header.map_or(0, |h| h.index);
        Ok((index, restamp(&e, session_id, None)?))
    }
}

/// Sends `message` (framed) to partition `p` on `ctx`'s path and reads the answer.
/// `headers`, when given, go upstream instead of a copy of the client's.
pub async fn unary(
    ctx: &Ctx<'_>,
    p: usize,
    path: Option<&http::uri::PathAndQuery>,
    message: Bytes,
    headers: Option<HeaderMap>,
) -> Result<Unary, Status> {
    let forward = Forward {
        path: path.cloned().or_else(|| ctx.path.clone()),
        headers: headers.unwrap_or_else(|| ctx.headers.clone()),
        message,
        deadline: ctx.deadline,
        pass_timeout: ctx.pass_timeout,
    };
    let timer = call_timer(ctx.deadline);
    tokio::pin!(timer);
    let reached = exchange(ctx.proxy, None, p, &forward, timer.as_mut()).await?;
    let label = ctx.proxy.labels[p];
    let Some(mut body) = reached.body else {
        return Ok(Unary {
            code: Code::from_header(reached.headers.get(GRPC_STATUS)),
            message: grpc_message(&reached.headers),
            response: None,
            headers: reached.headers,
            trailers: HeaderMap::new(),
        });
    };
    let mut data = BytesMut::from(&reached.buffered[..]);
    let _ = body.flow_control().release_capacity(reached.buffered.len());
    let read = async {
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(|e| lost(label, &e))?;
            let _ = body.flow_control().release_capacity(chunk.len());
            data.extend_from_slice(&chunk);
            if data.len() > MAX_ANSWER {
                return Err(Status::new(
                    Code::RESOURCE_EXHAUSTED,
                    format!("partition {label}: an answer over {MAX_ANSWER} bytes"),
                ));
            }
        }
        body.trailers().await.map_err(|e| lost(label, &e))
    };
    let trailers = tokio::select! {
        t = read => t?,
        _ = &mut timer => return Err(Status::new(Code::DEADLINE_EXCEEDED, format!("partition {label} did not answer in time"))),
    }
    .unwrap_or_default();
    let response = match grpc::split(&data, MAX_ANSWER) {
        Ok(atomix_headers::Progress::Complete(frame)) => Some(data.freeze().slice(frame.body)),
        _ => None,
    };
    Ok(Unary {
        code: Code::from_header(trailers.get(GRPC_STATUS)),
        message: grpc_message(&trailers),
        response,
        headers: reached.headers,
        trailers,
    })
}

fn lost(label: &str, e: &h2::Error) -> Status {
    Status::new(
        Code::UNAVAILABLE,
        format!("partition {label}: lost mid-answer: {e}"),
    )
}

fn grpc_message(headers: &HeaderMap) -> String {
    headers
        .get(GRPC_MESSAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// An upstream response message, decoded.
pub fn decode(message: &[u8]) -> Result<ResponseEnvelope<'_>, Status> {
    ResponseEnvelope::decode(message)
        .map_err(|err| Status::new(Code::INTERNAL, format!("an upstream response: {err}")))
}

/// An upstream response with its header in the client's terms: the proxy's session
/// id, and for a merged stream its id, response id and type. Framed.
pub fn restamp(
    e: &ResponseEnvelope<'_>,
    session_id: u64,
    stream: Option<(u64, u64, ResponseType)>,
) -> Result<Bytes, Status> {
    let mut out = Vec::with_capacity(e.encoded_len() + grpc::PREFIX_LEN + 16);
    restamp_into(e, session_id, stream, &mut out)?;
    Ok(Bytes::from(out))
}

/// [`restamp`], appended to `out`.
pub fn restamp_into<B: bytes::BufMut>(
    e: &ResponseEnvelope<'_>,
    session_id: u64,
    stream: Option<(u64, u64, ResponseType)>,
    out: &mut B,
) -> Result<(), Status> {
    let mut e = *e;
    let header = e.header.get_or_insert_default();
    header.session_id = session_id;
    if let Some((stream_id, response_id, kind)) = stream {
        header.stream_id = stream_id;
        header.response_id = response_id;
        header.r#type = kind;
    }
    grpc::encode(&e, out)
        .map_err(|err| Status::new(Code::INTERNAL, format!("re-encoding a response: {err}")))
}

/// A response of the proxy's own: a header with `session_id`, then `operation` (the
/// operation's fields, encoded). Framed.
pub fn own_response(session_id: u64, operation: &[u8]) -> Bytes {
    let header = atomix_headers::ResponseHeader {
        session_id,
        ..Default::default()
    };
    let operation = atomix_headers::UnknownFields::from_bytes::<ResponseEnvelope>(operation)
        .expect("the proxy's own operation fields are not the header");
    let e = ResponseEnvelope {
        header: Some(header),
        operation,
    };
    framed(&e).expect("a small response encodes")
}

/// `e` in a gRPC frame.
fn framed(e: &ResponseEnvelope<'_>) -> Result<Bytes, Status> {
    let mut out = Vec::with_capacity(e.encoded_len() + grpc::PREFIX_LEN);
    grpc::encode(e, &mut out)
        .map_err(|err| Status::new(Code::INTERNAL, format!("encoding a response: {err}")))?;
    Ok(Bytes::from(out))
}

/// Appends `v` as a varint (the crate keeps its varint writer to itself).
pub fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Answers the call with the upstream's headers, `message` (framed) and the
/// upstream's trailers.
pub fn relay(
    respond: &mut SendResponse<Bytes>,
    headers: HeaderMap,
    message: Bytes,
    trailers: HeaderMap,
) -> crate::respond::Outcome {
    let Ok(mut out) = respond.send_response(crate::respond::response_with(headers), false) else {
        return crate::respond::Outcome::Proxy(crate::respond::cancelled());
    };
    let code = Code::from_header(trailers.get(GRPC_STATUS));
    let _ = out.send_data(message, false);
    let _ = out.send_trailers(trailers);
    crate::respond::Outcome::Upstream(code)
}

/// Answers the call with `messages` (framed) and OK.
pub fn reply(respond: &mut SendResponse<Bytes>, messages: &[Bytes]) -> crate::respond::Outcome {
    let mut head = http::Response::new(());
    head.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    let Ok(mut out) = respond.send_response(head, false) else {
        return crate::respond::Outcome::Proxy(crate::respond::cancelled());
    };
    for m in messages {
        let _ = out.send_data(m.clone(), false);
    }
    let _ = out.send_trailers(Status::new(Code::OK, "").trailers());
    crate::respond::Outcome::Upstream(Code::OK)
}
