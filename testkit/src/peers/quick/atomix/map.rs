// Automatically generated rust module for 'map.proto' file

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

#[allow(clippy::derive_partial_eq_without_eq)]
#[derive(Debug, Default, PartialEq, Clone)]
pub struct PutRequest<'a> {
    pub header: Option<atomix::headers::RequestHeader<'a>>,
    pub key: Cow<'a, str>,
    pub value: Cow<'a, [u8]>,
    pub version: i64,
}

impl<'a> MessageRead<'a> for PutRequest<'a> {
    fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
        let mut msg = Self::default();
        while !r.is_eof() {
            match r.next_tag(bytes) {
                Ok(10) => msg.header = Some(r.read_message::<atomix::headers::RequestHeader>(bytes)?),
                Ok(18) => msg.key = r.read_string(bytes).map(Cow::Borrowed)?,
                Ok(26) => msg.value = r.read_bytes(bytes).map(Cow::Borrowed)?,
                Ok(32) => msg.version = r.read_int64(bytes)?,
                Ok(t) => { r.read_unknown(bytes, t)?; }
                Err(e) => return Err(e),
            }
        }
        Ok(msg)
    }
}

impl<'a> MessageWrite for PutRequest<'a> {
    fn get_size(&self) -> usize {
        0
        + self.header.as_ref().map_or(0, |m| 1 + sizeof_len((m).get_size()))
        + if self.key == "" { 0 } else { 1 + sizeof_len((&self.key).len()) }
        + if self.value == Cow::Borrowed(b"") { 0 } else { 1 + sizeof_len((&self.value).len()) }
        + if self.version == 0i64 { 0 } else { 1 + sizeof_varint(*(&self.version) as u64) }
    }

    fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
        if let Some(ref s) = self.header { w.write_with_tag(10, |w| w.write_message(s))?; }
        if self.key != "" { w.write_with_tag(18, |w| w.write_string(&**&self.key))?; }
        if self.value != Cow::Borrowed(b"") { w.write_with_tag(26, |w| w.write_bytes(&**&self.value))?; }
        if self.version != 0i64 { w.write_with_tag(32, |w| w.write_int64(*&self.version))?; }
        Ok(())
    }
}

#[allow(clippy::derive_partial_eq_without_eq)]
#[derive(Debug, Default, PartialEq, Clone)]
pub struct PutResponse<'a> {
    pub header: Option<atomix::headers::ResponseHeader<'a>>,
    pub status: i32,
    pub previous_value: Cow<'a, [u8]>,
    pub previous_version: i64,
}

impl<'a> MessageRead<'a> for PutResponse<'a> {
    fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
        let mut msg = Self::default();
        while !r.is_eof() {
            match r.next_tag(bytes) {
                Ok(10) => msg.header = Some(r.read_message::<atomix::headers::ResponseHeader>(bytes)?),
                Ok(16) => msg.status = r.read_int32(bytes)?,
                Ok(42) => msg.previous_value = r.read_bytes(bytes).map(Cow::Borrowed)?,
                Ok(48) => msg.previous_version = r.read_int64(bytes)?,
                Ok(t) => { r.read_unknown(bytes, t)?; }
                Err(e) => return Err(e),
            }
        }
        Ok(msg)
    }
}

impl<'a> MessageWrite for PutResponse<'a> {
    fn get_size(&self) -> usize {
        0
        + self.header.as_ref().map_or(0, |m| 1 + sizeof_len((m).get_size()))
        + if self.status == 0i32 { 0 } else { 1 + sizeof_varint(*(&self.status) as u64) }
        + if self.previous_value == Cow::Borrowed(b"") { 0 } else { 1 + sizeof_len((&self.previous_value).len()) }
        + if self.previous_version == 0i64 { 0 } else { 1 + sizeof_varint(*(&self.previous_version) as u64) }
    }

    fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
        if let Some(ref s) = self.header { w.write_with_tag(10, |w| w.write_message(s))?; }
        if self.status != 0i32 { w.write_with_tag(16, |w| w.write_int32(*&self.status))?; }
        if self.previous_value != Cow::Borrowed(b"") { w.write_with_tag(42, |w| w.write_bytes(&**&self.previous_value))?; }
        if self.previous_version != 0i64 { w.write_with_tag(48, |w| w.write_int64(*&self.previous_version))?; }
        Ok(())
    }
}

#[allow(clippy::derive_partial_eq_without_eq)]
#[derive(Debug, Default, PartialEq, Clone)]
pub struct GetRequest<'a> {
    pub header: Option<atomix::headers::RequestHeader<'a>>,
    pub key: Cow<'a, str>,
}

impl<'a> MessageRead<'a> for GetRequest<'a> {
    fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
        let mut msg = Self::default();
        while !r.is_eof() {
            match r.next_tag(bytes) {
                Ok(10) => msg.header = Some(r.read_message::<atomix::headers::RequestHeader>(bytes)?),
                Ok(18) => msg.key = r.read_string(bytes).map(Cow::Borrowed)?,
                Ok(t) => { r.read_unknown(bytes, t)?; }
                Err(e) => return Err(e),
            }
        }
        Ok(msg)
    }
}

impl<'a> MessageWrite for GetRequest<'a> {
    fn get_size(&self) -> usize {
        0
        + self.header.as_ref().map_or(0, |m| 1 + sizeof_len((m).get_size()))
        + if self.key == "" { 0 } else { 1 + sizeof_len((&self.key).len()) }
    }

    fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
        if let Some(ref s) = self.header { w.write_with_tag(10, |w| w.write_message(s))?; }
        if self.key != "" { w.write_with_tag(18, |w| w.write_string(&**&self.key))?; }
        Ok(())
    }
}

#[allow(clippy::derive_partial_eq_without_eq)]
#[derive(Debug, Default, PartialEq, Clone)]
pub struct GetResponse<'a> {
    pub header: Option<atomix::headers::ResponseHeader<'a>>,
    pub value: Cow<'a, [u8]>,
    pub version: i64,
}

impl<'a> MessageRead<'a> for GetResponse<'a> {
    fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
        let mut msg = Self::default();
        while !r.is_eof() {
            match r.next_tag(bytes) {
                Ok(10) => msg.header = Some(r.read_message::<atomix::headers::ResponseHeader>(bytes)?),
                Ok(18) => msg.value = r.read_bytes(bytes).map(Cow::Borrowed)?,
                Ok(24) => msg.version = r.read_int64(bytes)?,
                Ok(t) => { r.read_unknown(bytes, t)?; }
                Err(e) => return Err(e),
            }
        }
        Ok(msg)
    }
}

impl<'a> MessageWrite for GetResponse<'a> {
    fn get_size(&self) -> usize {
        0
        + self.header.as_ref().map_or(0, |m| 1 + sizeof_len((m).get_size()))
        + if self.value == Cow::Borrowed(b"") { 0 } else { 1 + sizeof_len((&self.value).len()) }
        + if self.version == 0i64 { 0 } else { 1 + sizeof_varint(*(&self.version) as u64) }
    }

    fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
        if let Some(ref s) = self.header { w.write_with_tag(10, |w| w.write_message(s))?; }
        if self.value != Cow::Borrowed(b"") { w.write_with_tag(18, |w| w.write_bytes(&**&self.value))?; }
        if self.version != 0i64 { w.write_with_tag(24, |w| w.write_int64(*&self.version))?; }
        Ok(())
    }
}

#[allow(clippy::derive_partial_eq_without_eq)]
#[derive(Debug, Default, PartialEq, Clone)]
pub struct EventRequest<'a> {
    pub header: Option<atomix::headers::RequestHeader<'a>>,
    pub replay: bool,
    pub key: Cow<'a, str>,
}

impl<'a> MessageRead<'a> for EventRequest<'a> {
    fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
        let mut msg = Self::default();
        while !r.is_eof() {
            match r.next_tag(bytes) {
                Ok(10) => msg.header = Some(r.read_message::<atomix::headers::RequestHeader>(bytes)?),
                Ok(16) => msg.replay = r.read_bool(bytes)?,
                Ok(26) => msg.key = r.read_string(bytes).map(Cow::Borrowed)?,
                Ok(t) => { r.read_unknown(bytes, t)?; }
                Err(e) => return Err(e),
            }
        }
        Ok(msg)
    }
}

impl<'a> MessageWrite for EventRequest<'a> {
    fn get_size(&self) -> usize {
        0
        + self.header.as_ref().map_or(0, |m| 1 + sizeof_len((m).get_size()))
        + if self.replay == false { 0 } else { 1 + sizeof_varint(*(&self.replay) as u64) }
        + if self.key == "" { 0 } else { 1 + sizeof_len((&self.key).len()) }
    }

    fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
        if let Some(ref s) = self.header { w.write_with_tag(10, |w| w.write_message(s))?; }
        if self.replay != false { w.write_with_tag(16, |w| w.write_bool(*&self.replay))?; }
        if self.key != "" { w.write_with_tag(26, |w| w.write_string(&**&self.key))?; }
        Ok(())
    }
}

#[allow(clippy::derive_partial_eq_without_eq)]
#[derive(Debug, Default, PartialEq, Clone)]
pub struct EventResponse<'a> {
    pub header: Option<atomix::headers::ResponseHeader<'a>>,
    pub type_pb: i32,
    pub key: Cow<'a, str>,
    pub value: Cow<'a, [u8]>,
    pub version: i64,
}

impl<'a> MessageRead<'a> for EventResponse<'a> {
    fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
        let mut msg = Self::default();
        while !r.is_eof() {
            match r.next_tag(bytes) {
                Ok(10) => msg.header = Some(r.read_message::<atomix::headers::ResponseHeader>(bytes)?),
                Ok(16) => msg.type_pb = r.read_int32(bytes)?,
                Ok(26) => msg.key = r.read_string(bytes).map(Cow::Borrowed)?,
                Ok(34) => msg.value = r.read_bytes(bytes).map(Cow::Borrowed)?,
                Ok(40) => msg.version = r.read_int64(bytes)?,
                Ok(t) => { r.read_unknown(bytes, t)?; }
                Err(e) => return Err(e),
            }
        }
        Ok(msg)
    }
}

impl<'a> MessageWrite for EventResponse<'a> {
    fn get_size(&self) -> usize {
        0
        + self.header.as_ref().map_or(0, |m| 1 + sizeof_len((m).get_size()))
        + if self.type_pb == 0i32 { 0 } else { 1 + sizeof_varint(*(&self.type_pb) as u64) }
        + if self.key == "" { 0 } else { 1 + sizeof_len((&self.key).len()) }
        + if self.value == Cow::Borrowed(b"") { 0 } else { 1 + sizeof_len((&self.value).len()) }
        + if self.version == 0i64 { 0 } else { 1 + sizeof_varint(*(&self.version) as u64) }
    }

    fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
        if let Some(ref s) = self.header { w.write_with_tag(10, |w| w.write_message(s))?; }
        if self.type_pb != 0i32 { w.write_with_tag(16, |w| w.write_int32(*&self.type_pb))?; }
        if self.key != "" { w.write_with_tag(26, |w| w.write_string(&**&self.key))?; }
        if self.value != Cow::Borrowed(b"") { w.write_with_tag(34, |w| w.write_bytes(&**&self.value))?; }
        if self.version != 0i64 { w.write_with_tag(40, |w| w.write_int64(*&self.version))?; }
        Ok(())
    }
}

