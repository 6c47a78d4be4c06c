// Automatically generated rust module for 'headers.proto' file

#![allow(non_snake_case)]
#![allow(non_upper_case_globals)]
#![allow(non_camel_case_types)]
#![allow(unused_imports)]
#![allow(unknown_lints)]
#![allow(clippy::all)]
#![cfg_attr(rustfmt, rustfmt_skip)]


use std::borrow::Cow;
use quick_protobuf::{MessageInfo, MessageRead, MessageWrite, BytesReader, Writer, WriterBackend, Result};
use quick_protobuf::sizeofs::*;
use super::super::*;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum ResponseStatus {
    OK = 0,
    ERROR = 1,
    NOT_LEADER = 2,
}

impl Default for ResponseStatus {
    fn default() -> Self {
        ResponseStatus::OK
    }
}

impl From<i32> for ResponseStatus {
    fn from(i: i32) -> Self {
        match i {
            0 => ResponseStatus::OK,
            1 => ResponseStatus::ERROR,
            2 => ResponseStatus::NOT_LEADER,
            _ => Self::default(),
        }
    }
}

impl<'a> From<&'a str> for ResponseStatus {
    fn from(s: &'a str) -> Self {
        match s {
            "OK" => ResponseStatus::OK,
            "ERROR" => ResponseStatus::ERROR,
            "NOT_LEADER" => ResponseStatus::NOT_LEADER,
            _ => Self::default(),
        }
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum ResponseType {
    RESPONSE = 0,
    OPEN_STREAM = 1,
    CLOSE_STREAM = 2,
}

impl Default for ResponseType {
    fn default() -> Self {
        ResponseType::RESPONSE
    }
}

impl From<i32> for ResponseType {
    fn from(i: i32) -> Self {
        match i {
            0 => ResponseType::RESPONSE,
            1 => ResponseType::OPEN_STREAM,
            2 => ResponseType::CLOSE_STREAM,
            _ => Self::default(),
        }
    }
}

impl<'a> From<&'a str> for ResponseType {
    fn from(s: &'a str) -> Self {
        match s {
            "RESPONSE" => ResponseType::RESPONSE,
            "OPEN_STREAM" => ResponseType::OPEN_STREAM,
            "CLOSE_STREAM" => ResponseType::CLOSE_STREAM,
            _ => Self::default(),
        }
    }
}

#[allow(clippy::derive_partial_eq_without_eq)]
#[derive(Debug, Default, PartialEq, Clone)]
pub struct RequestHeader<'a> {
    pub name: Option<atomix::primitive::Name<'a>>,
    pub session_id: u64,
    pub request_id: u64,
    pub index: u64,
    pub streams: Vec<atomix::headers::StreamHeader>,
}

impl<'a> MessageRead<'a> for RequestHeader<'a> {
    fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
        let mut msg = Self::default();
        while !r.is_eof() {
            match r.next_tag(bytes) {
                Ok(10) => msg.name = Some(r.read_message::<atomix::primitive::Name>(bytes)?),
                Ok(16) => msg.session_id = r.read_uint64(bytes)?,
                Ok(24) => msg.request_id = r.read_uint64(bytes)?,
                Ok(32) => msg.index = r.read_uint64(bytes)?,
                Ok(42) => msg.streams.push(r.read_message::<atomix::headers::StreamHeader>(bytes)?),
                Ok(t) => { r.read_unknown(bytes, t)?; }
                Err(e) => return Err(e),
            }
        }
        Ok(msg)
    }
}

impl<'a> MessageWrite for RequestHeader<'a> {
    fn get_size(&self) -> usize {
        0
        + self.name.as_ref().map_or(0, |m| 1 + sizeof_len((m).get_size()))
        + if self.session_id == 0u64 { 0 } else { 1 + sizeof_varint(*(&self.session_id) as u64) }
        + if self.request_id == 0u64 { 0 } else { 1 + sizeof_varint(*(&self.request_id) as u64) }
        + if self.index == 0u64 { 0 } else { 1 + sizeof_varint(*(&self.index) as u64) }
        + self.streams.iter().map(|s| 1 + sizeof_len((s).get_size())).sum::<usize>()
    }

    fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
        if let Some(ref s) = self.name { w.write_with_tag(10, |w| w.write_message(s))?; }
        if self.session_id != 0u64 { w.write_with_tag(16, |w| w.write_uint64(*&self.session_id))?; }
        if self.request_id != 0u64 { w.write_with_tag(24, |w| w.write_uint64(*&self.request_id))?; }
        if self.index != 0u64 { w.write_with_tag(32, |w| w.write_uint64(*&self.index))?; }
        for s in &self.streams { w.write_with_tag(42, |w| w.write_message(s))?; }
        Ok(())
    }
}

#[allow(clippy::derive_partial_eq_without_eq)]
#[derive(Debug, Default, PartialEq, Clone)]
pub struct ResponseHeader<'a> {
    pub session_id: u64,
    pub stream_id: u64,
    pub response_id: u64,
    pub index: u64,
    pub leader: Cow<'a, str>,
    pub status: atomix::headers::ResponseStatus,
    pub type_pb: atomix::headers::ResponseType,
}

impl<'a> MessageRead<'a> for ResponseHeader<'a> {
    fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
        let mut msg = Self::default();
        while !r.is_eof() {
            match r.next_tag(bytes) {
                Ok(8) => msg.session_id = r.read_uint64(bytes)?,
                Ok(16) => msg.stream_id = r.read_uint64(bytes)?,
                Ok(24) => msg.response_id = r.read_uint64(bytes)?,
                Ok(32) => msg.index = r.read_uint64(bytes)?,
                Ok(42) => msg.leader = r.read_string(bytes).map(Cow::Borrowed)?,
                Ok(48) => msg.status = r.read_enum(bytes)?,
                Ok(56) => msg.type_pb = r.read_enum(bytes)?,
                Ok(t) => { r.read_unknown(bytes, t)?; }
                Err(e) => return Err(e),
            }
        }
        Ok(msg)
    }
}

impl<'a> MessageWrite for ResponseHeader<'a> {
    fn get_size(&self) -> usize {
        0
        + if self.session_id == 0u64 { 0 } else { 1 + sizeof_varint(*(&self.session_id) as u64) }
        + if self.stream_id == 0u64 { 0 } else { 1 + sizeof_varint(*(&self.stream_id) as u64) }
        + if self.response_id == 0u64 { 0 } else { 1 + sizeof_varint(*(&self.response_id) as u64) }
        + if self.index == 0u64 { 0 } else { 1 + sizeof_varint(*(&self.index) as u64) }
        + if self.leader == "" { 0 } else { 1 + sizeof_len((&self.leader).len()) }
        + if self.status == atomix::headers::ResponseStatus::OK { 0 } else { 1 + sizeof_varint(*(&self.status) as u64) }
        + if self.type_pb == atomix::headers::ResponseType::RESPONSE { 0 } else { 1 + sizeof_varint(*(&self.type_pb) as u64) }
    }

    fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
        if self.session_id != 0u64 { w.write_with_tag(8, |w| w.write_uint64(*&self.session_id))?; }
        if self.stream_id != 0u64 { w.write_with_tag(16, |w| w.write_uint64(*&self.stream_id))?; }
        if self.response_id != 0u64 { w.write_with_tag(24, |w| w.write_uint64(*&self.response_id))?; }
        if self.index != 0u64 { w.write_with_tag(32, |w| w.write_uint64(*&self.index))?; }
        if self.leader != "" { w.write_with_tag(42, |w| w.write_string(&**&self.leader))?; }
        if self.status != atomix::headers::ResponseStatus::OK { w.write_with_tag(48, |w| w.write_enum(*&self.status as i32))?; }
        if self.type_pb != atomix::headers::ResponseType::RESPONSE { w.write_with_tag(56, |w| w.write_enum(*&self.type_pb as i32))?; }
        Ok(())
    }
}

#[allow(clippy::derive_partial_eq_without_eq)]
#[derive(Debug, Default, PartialEq, Clone)]
pub struct StreamHeader {
    pub stream_id: u64,
    pub response_id: u64,
}

impl<'a> MessageRead<'a> for StreamHeader {
    fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
        let mut msg = Self::default();
        while !r.is_eof() {
            match r.next_tag(bytes) {
                Ok(8) => msg.stream_id = r.read_uint64(bytes)?,
                Ok(16) => msg.response_id = r.read_uint64(bytes)?,
                Ok(t) => { r.read_unknown(bytes, t)?; }
                Err(e) => return Err(e),
            }
        }
        Ok(msg)
    }
}

impl MessageWrite for StreamHeader {
    fn get_size(&self) -> usize {
        0
        + if self.stream_id == 0u64 { 0 } else { 1 + sizeof_varint(*(&self.stream_id) as u64) }
        + if self.response_id == 0u64 { 0 } else { 1 + sizeof_varint(*(&self.response_id) as u64) }
    }

    fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
        if self.stream_id != 0u64 { w.write_with_tag(8, |w| w.write_uint64(*&self.stream_id))?; }
        if self.response_id != 0u64 { w.write_with_tag(16, |w| w.write_uint64(*&self.response_id))?; }
        Ok(())
    }
}

