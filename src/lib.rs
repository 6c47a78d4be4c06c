//! A zero-copy, allocation-free codec for the headers of the Atomix protocol
//! (`atomix.headers`: [`RequestHeader`], [`ResponseHeader`], [`StreamHeader`], the nested
//! [`Name`], and the open enums [`ResponseStatus`] and [`ResponseType`]).
//!
//! Decoding borrows: strings are `&str` into the input, `streams` and unknown fields are
//! read from the input when asked for, and no input, however hostile, makes it allocate.
//! Encoding writes canonical bytes into any [`bytes::BufMut`] or slice without allocating.
//! Both agree with Google's reference runtime (upb) on every input: what it rejects is
//! rejected, unknown fields and unknown enum values survive byte for byte, and
//! decode-then-encode gives exactly its re-serialization.
//!
//! ```
//! use atomix_headers::{Message, RequestHeader};
//!
//! // A proxy stamps the index of every request that passes.
//! let wire = [0x10, 0x07, 0x18, 0x2a, 0x2a, 0x02, 0x08, 0x01];
//! let mut request = RequestHeader::decode(&wire)?;
//! assert_eq!((request.session_id, request.request_id), (7, 42));
//! request.index = 1_000_000;
//!
//! let mut out = Vec::with_capacity(request.encoded_len());
//! request.encode(&mut out)?;
//! assert_eq!(RequestHeader::decode(&out)?.index, 1_000_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! On the wire, a header travels as field 1 of an Atomix primitive request or response,
//! inside a gRPC frame. [`RequestEnvelope`] and [`ResponseEnvelope`] read and rewrite it
//! there, keeping the operation's own fields byte for byte; [`grpc`] reads and writes the
//! frames; [`partition`] routes as the Atomix Go client does:
//!
//! ```
//! use atomix_headers::{grpc, partition, Message, Progress, RequestEnvelope};
//!
//! // A gRPC frame of map.PutRequest { header { name { name: "my-map" } session_id: 7 }
//! // key: "k1" value: "v" }, as a client sends it to /atomix.map.MapService/Put.
//! let frame = b"\x00\x00\x00\x00\x15\x0a\x0c\x0a\x08\x0a\x06my-map\x10\x07\x12\x02k1\x1a\x01v";
//! let Progress::Complete((mut put, _)) = grpc::GrpcDecoder::new().decode::<RequestEnvelope>(frame)?
//! else {
//!     unreachable!("the frame is whole")
//! };
//! let method = partition::method("/atomix.map.MapService/Put").unwrap();
//! assert_eq!(partition::route(method, &put, 3)?, 0); // by the key, as the Go client
//!
//! // Stamp the header; the key and value are copied as they came.
//! put.header.as_mut().unwrap().index = 9;
//! let mut out = Vec::new();
//! grpc::encode(&put, &mut out)?;
//! assert!(out.ends_with(b"\x12\x02k1\x1a\x01v"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! More of the crate: [`framing`] reads varint
//! length-delimited frames, the `Owned*` types keep a header with its `Bytes` across
//! `.await`s, and `tokio_codec` (feature `tokio-util`) plugs both framings into
//! `tokio_util::codec`; `tonic_codec` (feature `tonic`) is a tonic `Codec` of envelopes.
//! `Display` prints text format as `protoc --decode` does, and the `atomix-headers`
//! binary is a `protoc --decode/--encode` for these messages. [`schema`] lists every
//! message type and field, by number and by name. The wire rules are in the
//! repository's `docs/wire-semantics.md`.
// `tokio_codec` and `tonic_codec` above are not links: a link to a module that a feature
// leaves out breaks the docs built without that feature (CI builds them both ways).
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
// Each `unsafe` block states its invariant where it stands; these lints hold that.
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![warn(missing_docs)]

mod enums;
mod envelope;
mod error;
pub mod framing;
pub mod grpc;
mod message;
mod owned;
pub mod partition;
mod progress;
pub mod schema;
pub mod text;
#[cfg(feature = "tokio-util")]
pub mod tokio_codec;
#[cfg(feature = "tonic")]
pub mod tonic_codec;
mod unknown;
mod wire;

pub use enums::{ResponseStatus, ResponseType};
pub use envelope::{
    Envelope, RequestEnvelope, RequestStamp, ResponseEnvelope, ResponseStamp, Stampable,
};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind, FieldPath};
pub use message::request::RequestHeader;
pub use message::response::ResponseHeader;
pub use message::streams::StreamsIter;
pub use message::Message;
pub use message::{Name, StreamHeader, Streams};
pub use owned::{
    OwnedRequestEnvelope, OwnedRequestHeader, OwnedResponseEnvelope, OwnedResponseHeader,
    OwnedStreamHeader,
};
pub use progress::Progress;
pub use unknown::{
    KnownFields, UnknownField, UnknownFields, UnknownFieldsError, UnknownFieldsIter,
};

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
