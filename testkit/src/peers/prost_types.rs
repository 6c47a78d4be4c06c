//! The schema as prost types, written with prost's derive (no build script, no protoc):
//! the field numbers and types of ../shared/schema, nothing else.

#[derive(Clone, PartialEq, prost::Message)]
pub struct Name {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub namespace: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestHeader {
    #[prost(message, optional, tag = "1")]
    pub name: Option<Name>,
    #[prost(uint64, tag = "2")]
    pub session_id: u64,
    #[prost(uint64, tag = "3")]
    pub request_id: u64,
    #[prost(uint64, tag = "4")]
    pub index: u64,
    #[prost(message, repeated, tag = "5")]
    pub streams: Vec<StreamHeader>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ResponseHeader {
    #[prost(uint64, tag = "1")]
    pub session_id: u64,
    #[prost(uint64, tag = "2")]
    pub stream_id: u64,
    #[prost(uint64, tag = "3")]
    pub response_id: u64,
    #[prost(uint64, tag = "4")]
    pub index: u64,
    #[prost(string, tag = "5")]
    pub leader: String,
    #[prost(enumeration = "ResponseStatus", tag = "6")]
    pub status: i32,
    #[prost(enumeration = "ResponseType", tag = "7")]
    pub r#type: i32,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct StreamHeader {
    #[prost(uint64, tag = "1")]
    pub stream_id: u64,
    #[prost(uint64, tag = "2")]
    pub response_id: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ResponseStatus {
    Ok = 0,
    Error = 1,
    NotLeader = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ResponseType {
    Response = 0,
    OpenStream = 1,
    CloseStream = 2,
}

/// counter.IncrementRequest (testdata/schema/atomix/counter/counter.proto).
#[derive(Clone, PartialEq, prost::Message)]
pub struct IncrementRequest {
    #[prost(message, optional, tag = "1")]
    pub header: Option<RequestHeader>,
    #[prost(int64, tag = "2")]
    pub delta: i64,
}

/// map.PutRequest (testdata/schema/atomix/map/map.proto).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PutRequest {
    #[prost(message, optional, tag = "1")]
    pub header: Option<RequestHeader>,
    #[prost(string, tag = "2")]
    pub key: String,
    #[prost(bytes = "vec", tag = "3")]
    pub value: Vec<u8>,
    #[prost(int64, tag = "4")]
    pub version: i64,
}

/// atomix.envelope.RequestEnvelope (testdata/schema/atomix/envelope/envelope.proto): any
/// primitive request read through its header, as a prost user who routes reads it.
/// Every other field is skipped, and so lost.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestEnvelope {
    #[prost(message, optional, tag = "1")]
    pub header: Option<RequestHeader>,
}

/// atomix.envelope.ResponseEnvelope: any primitive response read through its header.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResponseEnvelope {
    #[prost(message, optional, tag = "1")]
    pub header: Option<ResponseHeader>,
}

/// A request on one entry of a map (`GetRequest`, `PutRequest`, `RemoveRequest`...):
/// the header and the key, field 2, every other field skipped; map.GetRequest's shape.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyedRequest {
    #[prost(message, optional, tag = "1")]
    pub header: Option<RequestHeader>,
    #[prost(string, tag = "2")]
    pub key: String,
}
