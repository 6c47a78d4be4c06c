//! Headers that own their bytes: a `bytes::Bytes` (typically a frame split off the
//! receive buffer, so nothing is copied) and the header decoded from it.
//!
//! Borrowed headers cannot cross an `.await` or move to another task; these can: they are
//! `'static + Send + Sync`, clone in O(1), and [`OwnedRequestHeader::message`] (and its
//! twins) hands out the borrowed form for free, without decoding again.
//!
//! Uses `unsafe` code:
//! storing a header that borrows from a buffer next to that buffer needs a lifetime the
//! compiler cannot name. The benchmark `owned/*` in benches/headers.rs shows what it
//! saves: reading a field through the stored header against decoding the bytes again on
//! every access.
#![allow(unsafe_code)]

use crate::envelope::{RequestEnvelope, ResponseEnvelope};
use crate::error::DecodeError;
use crate::error::EncodeError;
use crate::message::request::RequestHeader;
use crate::message::response::ResponseHeader;
use crate::message::stream::StreamHeader;
use crate::message::Message;
use bytes::{BufMut, Bytes};
use core::fmt;

macro_rules! owned_header {
    ($(#[$meta:meta])* $owned:ident, $borrowed:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $owned {
            /// Borrows from `bytes`. Never handed out with its `'static` lifetime: only as
            /// a reborrow bounded by `&self`.
            header: $borrowed<'static>,
            bytes: Bytes,
        }

        impl $owned {
            /// Decodes `bytes` (one whole message) and keeps both, copying nothing.
            pub fn decode(bytes: Bytes) -> Result<Self, DecodeError> {
                // SAFETY: `data` points into the buffer `bytes` owns (or shares). A
                // `Bytes` never moves or frees its data while a handle to it lives, however
                // the handle itself is moved, and this struct keeps the handle for as long
                // as the header that borrows from it. The 'static lifetime never escapes:
                // `message()` returns the header reborrowed for the life of `&self`, and
                // no other method hands out anything borrowed from it.
                let data: &'static [u8] = unsafe { core::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) };
                let header = $borrowed::decode(data)?;
                Ok(Self { header, bytes })
            }

            /// Encodes `message` into a new buffer and keeps it with its decoded form: how
            /// a rewritten message becomes owned again. Allocates the buffer. Fails as
            /// encoding does, on unknown fields that cannot be encoded where they were put.
            #[cfg(feature = "std")]
            pub fn from_message(message: &$borrowed<'_>) -> Result<Self, EncodeError> {
                let bytes = crate::message::Message::encode_to_vec(message)?;
                // What encodes decodes (the encoders' contract, checked by the tests and
                // the fuzz targets); were it ever broken, the error says where.
                Self::decode(Bytes::from(bytes)).map_err(|_| EncodeError::invalid_unknown_fields())
            }

            /// The decoded message, borrowing from the owned bytes. Free: nothing is
            /// decoded.
            #[inline]
            pub fn message(&self) -> &$borrowed<'_> {
                &self.header
            }

            /// The message bytes this header was decoded from.
            pub fn bytes(&self) -> &Bytes {
                &self.bytes
            }

            /// Gives the bytes back.
            pub fn into_bytes(self) -> Bytes {
                self.bytes
            }
        }

        impl fmt::Debug for $owned {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.message(), f)
            }
        }

        impl fmt::Display for $owned {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self.message(), f)
            }
        }

        impl PartialEq for $owned {
            fn eq(&self, other: &Self) -> bool {
                self.message() == other.message()
            }
        }

        impl Eq for $owned {}
    };
}

owned_header! {
    /// A [`RequestHeader`] that owns its bytes: `'static + Send + Sync`, zero-copy.
    ///
    /// ```
    /// use atomix_headers::{Message, OwnedRequestHeader, RequestHeader};
    /// use bytes::{BufMut, Bytes};
    ///
    /// let wire = Bytes::from(RequestHeader { session_id: 3, ..Default::default() }.encode_to_vec()?);
    /// let owned = OwnedRequestHeader::decode(wire.clone())?;
    /// let handle = std::thread::spawn(move || owned.message().session_id);
    /// assert_eq!(handle.join().unwrap(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    OwnedRequestHeader, RequestHeader
}

owned_header! {
    /// A [`ResponseHeader`] that owns its bytes: `'static + Send + Sync`, zero-copy.
    ///
    /// ```
    /// use atomix_headers::{Message, OwnedResponseHeader, ResponseHeader};
    /// use bytes::{BufMut, Bytes};
    ///
    /// let wire = Bytes::from(ResponseHeader { leader: "node-2:5678", ..Default::default() }.encode_to_vec()?);
    /// let owned = OwnedResponseHeader::decode(wire.clone())?;
    /// // The leader string lies inside the shared buffer: nothing was copied.
    /// assert!(wire.as_ptr_range().contains(&owned.message().leader.as_ptr()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    OwnedResponseHeader, ResponseHeader
}

owned_header! {
    /// A [`StreamHeader`] that owns its bytes: `'static + Send + Sync`, zero-copy.
    OwnedStreamHeader, StreamHeader
}

owned_header! {
    /// A [`RequestEnvelope`] that owns its bytes: `'static + Send + Sync`, zero-copy.
    /// What [`crate::grpc::GrpcDecoder::decode_owned`] yields for a request; the bytes are the
    /// primitive request as it arrived, to forward when nothing changed.
    ///
    /// ```
    /// use atomix_headers::OwnedRequestEnvelope;
    /// use bytes::{BufMut, Bytes};
    ///
    /// let wire = Bytes::from_static(&[0x0a, 0x02, 0x10, 0x07, 0x10, 0x05]);
    /// let owned = OwnedRequestEnvelope::decode(wire.clone())?;
    /// assert_eq!(owned.message().header.unwrap().session_id, 7);
    /// assert_eq!(owned.bytes(), &wire);
    /// # Ok::<(), atomix_headers::DecodeError>(())
    /// ```
    OwnedRequestEnvelope, RequestEnvelope
}

owned_header! {
    /// A [`ResponseEnvelope`] that owns its bytes: `'static + Send + Sync`, zero-copy.
    OwnedResponseEnvelope, ResponseEnvelope
}

/// A message that owns its bytes: what the framings' `decode_owned` and the codecs
/// produce. Its methods are those of [`Message`], with the same names and signatures.
pub trait OwnedMessage: Sized {
    /// Decodes `bytes`, one whole message, keeping them.
    fn decode(bytes: Bytes) -> Result<Self, DecodeError>;
    /// The canonical encoded length of the message.
    fn encoded_len(&self) -> usize;
    /// Writes a varint length prefix followed by the encoding, all or nothing: as
    /// [`Message::encode_length_delimited`].
    fn encode_length_delimited<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError>;
}

macro_rules! owned_message {
    ($owned:ident) => {
        impl OwnedMessage for $owned {
            fn decode(body: Bytes) -> Result<Self, DecodeError> {
                $owned::decode(body)
            }
            fn encoded_len(&self) -> usize {
                self.message().encoded_len()
            }
            fn encode_length_delimited<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
                self.message().encode_length_delimited(buf)
            }
        }
    };
}

owned_message!(OwnedRequestHeader);
owned_message!(OwnedResponseHeader);
owned_message!(OwnedStreamHeader);
owned_message!(OwnedRequestEnvelope);
owned_message!(OwnedResponseEnvelope);

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_static_send_sync<T: 'static + Send + Sync>() {}

    #[test]
    fn owned_headers_are_static_send_sync() {
        assert_static_send_sync::<OwnedRequestHeader>();
        assert_static_send_sync::<OwnedResponseHeader>();
        assert_static_send_sync::<OwnedStreamHeader>();
        assert_static_send_sync::<OwnedRequestEnvelope>();
        assert_static_send_sync::<OwnedResponseEnvelope>();
    }

    #[test]
    fn strings_point_into_the_shared_buffer_after_moves_and_clones() {
        let name = crate::Name {
            name: "my-map",
            namespace: "default",
            ..Default::default()
        };
        let request = RequestHeader {
            name: Some(name),
            index: 4,
            ..Default::default()
        };
        let bytes = Bytes::from(request.encode_to_vec().unwrap());
        let range = bytes.as_ptr_range();
        let owned = OwnedRequestHeader::decode(bytes.clone()).unwrap();
        let moved = Box::new(owned);
        let cloned = (*moved).clone();
        drop(moved);
        let header = cloned.message();
        assert_eq!(header.index, 4);
        let name = header.name.unwrap();
        assert_eq!((name.name, name.namespace), ("my-map", "default"));
        assert!(range.contains(&name.name.as_ptr()) && range.contains(&name.namespace.as_ptr()));
        drop(bytes);
        // The clone keeps the buffer alive on its own.
        assert_eq!(cloned.message().name.unwrap().namespace, "default");
        assert_eq!(cloned.into_bytes().len(), request.encoded_len());
    }

    #[test]
    fn invalid_bytes_are_an_error() {
        assert!(OwnedResponseHeader::decode(Bytes::from_static(&[0x2a, 0x05])).is_err());
    }
}
