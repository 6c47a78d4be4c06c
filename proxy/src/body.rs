//! Reading bodies: the client's one request message, and the upstream response up to
//! its first message, gathered from the chunks they arrive in.

use crate::status::{Code, Status};
use crate::upstream::STREAM_WINDOW;
use atomix_headers::grpc::{self, PREFIX_LEN};
use atomix_headers::{Message, Progress, ResponseEnvelope, ResponseStatus};
use bytes::{Bytes, BytesMut};
use h2::RecvStream;

/// The first message of an upstream response, and everything read with it.
pub struct First {
    /// The bytes read so far, the whole first message among them (or fewer, when the
    /// stream ended before one).
    pub buffered: Bytes,
    /// NOT_LEADER's `leader`, when the first message says so.
    pub not_leader: Option<String>,
}

/// Chunks of a body gathered until a whole message is in: the first chunk kept as it
/// came (no copy in the common case, a message in one chunk), later ones appended to a
/// copy.
#[derive(Default)]
struct Gathered {
    first: Option<Bytes>,
    more: BytesMut,
}

impl Gathered {
    fn push(&mut self, chunk: Bytes) {
        match &self.first {
            None => self.first = Some(chunk),
            Some(first) => {
                if self.more.is_empty() {
                    self.more.extend_from_slice(first);
                }
                self.more.extend_from_slice(&chunk);
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        if self.more.is_empty() {
            self.first.as_deref().unwrap_or_default()
        } else {
            &self.more
        }
    }

    fn freeze(self) -> Bytes {
        if self.more.is_empty() {
            self.first.unwrap_or_default()
        } else {
            self.more.freeze()
        }
    }
}

/// Every Atomix method takes one request message. A second one is INTERNAL, as
/// grpc-go and grpc-java answer it on a unary method.
const ONE_MESSAGE: &str = "more than one request message: every Atomix method takes one";

/// The request's one gRPC message, prefix included, exactly as it arrived.
pub async fn read_request(body: &mut RecvStream, max: usize) -> Result<Bytes, Status> {
    let mut gathered = Gathered::default();
    while let Some(chunk) = body.data().await {
        let chunk = chunk
            .map_err(|e| Status::new(Code::CANCELLED, format!("the request stream failed: {e}")))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        gathered.push(chunk);
        let seen = gathered.bytes();
        // Refuse an oversized message from its prefix, before its body arrives.
        if let Err(e) = grpc::split(seen, max) {
            return Err(frame_error(e));
        }
        if seen.len() > max + PREFIX_LEN {
            return Err(Status::new(Code::INTERNAL, ONE_MESSAGE));
        }
    }
    let whole = gathered.freeze();
    match grpc::split(&whole, max) {
        Ok(Progress::Complete(frame)) if frame.compressed => Err(Status::new(
            Code::UNIMPLEMENTED,
            "compressed messages are not supported (send grpc-encoding identity)",
        )),
        Ok(Progress::Complete(frame)) if frame.body.end == whole.len() => Ok(whole),
        Ok(Progress::Complete(_)) => Err(Status::new(Code::INTERNAL, ONE_MESSAGE)),
        Ok(Progress::Partial(_)) if whole.is_empty() => Err(Status::new(
            Code::INVALID_ARGUMENT,
            "the call carried no request message",
        )),
        Ok(Progress::Partial(_)) => Err(Status::new(
            Code::INVALID_ARGUMENT,
            "the request ended inside a message",
        )),
        Err(e) => Err(frame_error(e)),
    }
}

fn frame_error(e: atomix_headers::DecodeError) -> Status {
    match e.kind() {
        atomix_headers::DecodeErrorKind::FrameTooLarge => Status::new(
            // As gRPC servers refuse an oversized message.
            Code::RESOURCE_EXHAUSTED,
            "the request message is larger than --max-message-size",
        ),
        _ => Status::new(
            Code::INVALID_ARGUMENT,
            format!("the request's gRPC frame: {e}"),
        ),
    }
}

pub enum ReadError {
    Lost(h2::Error),
    Malformed(String),
}

/// The largest first message whose header is read before the relay. A follower's
/// NOT_LEADER is a bare header, far smaller; a larger message is relayed as it comes.
/// Holding no more than this, which is less than the stream's window, the proxy never
/// waits for bytes that the upstream waits to send until the proxy returns window.
pub const FIRST_MESSAGE_HOLD: usize = 64 * 1024;
const _: () = assert!(FIRST_MESSAGE_HOLD + PREFIX_LEN < STREAM_WINDOW as usize);

/// Reads the upstream response up to the end of its first message (or of the stream)
/// and reads that message's header; or, when the message is longer than
/// `FIRST_MESSAGE_HOLD`, only up to its prefix, and no header.
pub async fn read_first(body: &mut RecvStream) -> Result<First, ReadError> {
    let mut gathered = Gathered::default();
    loop {
        let seen = gathered.bytes();
        if let Some(prefix) = seen.get(..PREFIX_LEN) {
            let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]);
            if len as usize > FIRST_MESSAGE_HOLD {
                return Ok(First {
                    buffered: gathered.freeze(),
                    not_leader: None,
                });
            }
        }
        match grpc::split(seen, FIRST_MESSAGE_HOLD) {
            Ok(Progress::Complete(frame)) => {
                if frame.compressed {
                    return Err(ReadError::Malformed(
                        "a compressed message (the proxy asks for none)".into(),
                    ));
                }
                let not_leader = match ResponseEnvelope::decode(&seen[frame.body.clone()]) {
                    Ok(envelope) => envelope
                        .header
                        .filter(|h| h.status == ResponseStatus::NOT_LEADER)
                        .map(|h| h.leader.to_owned()),
                    Err(e) => return Err(ReadError::Malformed(e.to_string())),
                };
                return Ok(First {
                    buffered: gathered.freeze(),
                    not_leader,
                });
            }
            Ok(Progress::Partial(_)) => {}
            Err(e) => return Err(ReadError::Malformed(e.to_string())),
        }
        let ended_inside = !seen.is_empty();
        match body.data().await {
            Some(Ok(chunk)) => gathered.push(chunk),
            Some(Err(e)) => return Err(ReadError::Lost(e)),
            None if ended_inside => {
                return Err(ReadError::Malformed(
                    "the stream ended inside a message".into(),
                ));
            }
            None => {
                return Ok(First {
                    buffered: Bytes::new(),
                    not_leader: None,
                })
            }
        }
    }
}
