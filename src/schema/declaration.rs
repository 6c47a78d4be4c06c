//! The declaration of every message the crate reads: one table, from which the message
//! types, their decoders, encoders and sizes, the text printer and parser, and the
//! schema's field tables are all generated. Adding a field is one line here.
//!
//! `declaration!(consumer)` hands the table to the macro `consumer`, which generates
//! what it needs from it (the "X-macro" pattern): [`super`] builds the field tables,
//! `crate::message` the types and their codecs, `crate::text` the printer. Each
//! message is written
//!
//! ```text
//! /// docs
//! message Type in module, shape {
//!     /// docs
//!     number field: kind,
//! }
//! ```
//!
//! - `Type` is both the struct and the [`MessageType`](super::MessageType) variant;
//!   `module` is the module of `crate::message` it lives in.
//! - `shape` is the shape of the fast path: `short` for small messages of scalars
//!   read in one expression, each field's value returned (`Name`, `StreamHeader`);
//!   `long` for the others, each field read into place.
//! - `kind` is `uint64`, `string`, `enumeration(Enum)` (an open enum of `crate::enums`),
//!   `message(Type)` (a singular embedded message whose own fields are scalars: it
//!   merges when repeated) or `repeated(StreamHeader)` (held as `crate::Streams`).
//!   Fields are listed in number order.
//!
//! The envelopes are declared apart: their one known field is the header, and the
//! operation's own fields are kept as they come.

macro_rules! declaration {
    ($consumer:ident) => {
        $consumer! {
            /// `atomix.primitive.Name`.
            ///
            /// ```
            /// use atomix_headers::{Message, Name};
            ///
            /// let name = Name { name: "my-map", namespace: "default", ..Default::default() };
            /// assert_eq!(name.encode_to_vec()?, b"\x0a\x06my-map\x12\x07default");
            /// assert_eq!(Name::decode(b"\x0a\x06my-map\x12\x07default")?, name);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            message Name in name, short {
                /// Field 1: the primitive's name.
                1 name: string,
                /// Field 2: the namespace it lives in.
                2 namespace: string,
            }

            /// `atomix.headers.StreamHeader`.
            ///
            /// ```
            /// use atomix_headers::{Message, StreamHeader};
            ///
            /// let stream = StreamHeader::decode(&[0x08, 0x96, 0x01, 0x10, 0x02])?;
            /// assert_eq!((stream.stream_id, stream.response_id), (150, 2));
            /// # Ok::<(), atomix_headers::DecodeError>(())
            /// ```
            message StreamHeader in stream, short {
                /// Field 1: the stream's id, which the cluster gave it when it opened.
                1 stream_id: uint64,
                /// Field 2: the last response the client received on the stream.
                2 response_id: uint64,
            }

            /// `atomix.headers.RequestHeader`.
            ///
            /// Decode, rewrite a field, encode; everything not touched, unknown fields
            /// included, comes out as it went in (in canonical order):
            ///
            /// ```
            /// use atomix_headers::{Message, RequestHeader};
            ///
            /// // name {name: "m"}, session_id 1, streams {stream_id: 2}, and an unknown field 6.
            /// let wire = [0x0a, 0x03, 0x0a, 0x01, b'm', 0x10, 0x01, 0x2a, 0x02, 0x08, 0x02, 0x30, 0x07];
            /// let mut request = RequestHeader::decode(&wire)?;
            /// assert_eq!(request.name.unwrap().name, "m");
            /// request.index = 42;
            /// let mut out = Vec::new();
            /// request.encode(&mut out)?;
            /// assert_eq!(out, [0x0a, 0x03, 0x0a, 0x01, b'm', 0x10, 0x01, 0x20, 42, 0x2a, 0x02, 0x08, 0x02, 0x30, 0x07]);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            message RequestHeader in request, long {
                /// Field 1: the primitive the request addresses (the Go client routes on
                /// it). `Some` whenever the field was present, even empty; several
                /// occurrences merge, as protobuf merges a message field.
                1 name: message(Name),
                /// Field 2: the client's session, numbered by the log index of the entry
                /// that opened it.
                2 session_id: uint64,
                /// Field 3: the client's command sequence number within the session, by
                /// which the cluster recognizes a retried command and does not apply it
                /// twice.
                3 request_id: uint64,
                /// Field 4: the last log index the client has seen; a query waits until
                /// the state machine has applied it, so that the client never reads older
                /// state.
                4 index: uint64,
                /// Field 5, repeated: the client's open streams, each with the last
                /// response it received, acknowledged on keep-alive so that the cluster
                /// can drop what was delivered.
                5 streams: repeated(StreamHeader),
            }

            /// `atomix.headers.ResponseHeader`.
            ///
            /// ```
            /// use atomix_headers::{Message, ResponseHeader, ResponseStatus};
            ///
            /// let response = ResponseHeader {
            ///     session_id: 1,
            ///     leader: "raft-node-2:5678",
            ///     status: ResponseStatus::NOT_LEADER,
            ///     ..Default::default()
            /// };
            /// let bytes = response.encode_to_vec()?;
            /// let decoded = ResponseHeader::decode(&bytes)?;
            /// assert_eq!(decoded.status, ResponseStatus::NOT_LEADER);
            /// assert_eq!(decoded.leader, "raft-node-2:5678");
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            message ResponseHeader in response, long {
                /// Field 1: the session the response belongs to.
                1 session_id: uint64,
                /// Field 2: the stream a streamed response belongs to.
                2 stream_id: uint64,
                /// Field 3: the response's sequence number within its stream, which the
                /// client acknowledges in its next keep-alive.
                3 response_id: uint64,
                /// Field 4: the log index at which the response was produced; the client
                /// sends the highest it has seen as
                /// [`RequestHeader::index`](crate::RequestHeader::index).
                4 index: uint64,
                /// Field 5: with status `NOT_LEADER`, the leader's `host:port`, where the
                /// client retries.
                5 leader: string,
                /// Field 6: whether the request succeeded (`OK`, `ERROR`, `NOT_LEADER`).
                /// An open enum: any int32 is kept, newer status codes included.
                6 status: enumeration(ResponseStatus),
                /// Field 7: a plain `RESPONSE`, or a stream's `OPEN_STREAM` and
                /// `CLOSE_STREAM` events. An open enum: any int32 is kept.
                7 r#type: enumeration(ResponseType),
            }

            envelope RequestEnvelope {
                1 header: message(RequestHeader),
            }

            envelope ResponseEnvelope {
                1 header: message(ResponseHeader),
            }
        }
    };
}

pub(crate) use declaration;
