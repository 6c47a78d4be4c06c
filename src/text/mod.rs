//! Protobuf text format: printed exactly as `protoc --decode` (libprotoc 3.21) prints
//! it, by every message's `Display`, and read as `protoc --encode` reads it, by
//! `parse` (feature `std`).
//!
//! Printing: known fields come in field-number order and only when set; nested messages are
//! `name {` blocks indented by two spaces; strings are C-escaped byte by byte (non-ASCII
//! bytes as three-digit octal); unknown fields follow the known ones as `N: value`. An
//! unknown length-delimited field that parses as a message is printed as a block, as
//! protoc guesses it to be one, up to 10 levels deep.

use crate::envelope::{Envelope, RequestEnvelope, ResponseEnvelope};
use crate::message::request::RequestHeader;
use crate::message::response::ResponseHeader;
use crate::message::sealed::Merge;
use crate::message::{Name, StreamHeader, Streams};
use crate::schema::{FieldType, MessageType};
use crate::unknown::UnknownFields;
use crate::wire::varint;
use core::fmt::{self, Display, Formatter, Write};

#[cfg(feature = "std")]
mod lex;
#[cfg(feature = "std")]
mod parse;
#[cfg(feature = "std")]
pub use lex::TextError;
#[cfg(feature = "std")]
pub use parse::parse;

/// How deep protoc looks into unknown length-delimited fields for embedded messages.
const UNKNOWN_RECURSION_BUDGET: u32 = 10;

struct Text<'f, 'g> {
    f: &'f mut Formatter<'g>,
    indent: usize,
}

impl<'f, 'g> Text<'f, 'g> {
    fn new(f: &'f mut Formatter<'g>) -> Self {
        Self { f, indent: 0 }
    }

    fn start(&mut self, name: impl Display) -> fmt::Result {
        for _ in 0..self.indent {
            self.f.write_str("  ")?;
        }
        write!(self.f, "{name}")
    }

    fn value(&mut self, name: impl Display, value: impl Display) -> fmt::Result {
        self.start(name)?;
        writeln!(self.f, ": {value}")
    }

    fn uint64(&mut self, name: &str, value: u64) -> fmt::Result {
        if value == 0 {
            return Ok(());
        }
        self.value(name, value)
    }

    fn string(&mut self, name: &str, value: &str) -> fmt::Result {
        if value.is_empty() {
            return Ok(());
        }
        self.quoted(name, value.as_bytes())
    }

    fn quoted(&mut self, name: impl Display, bytes: &[u8]) -> fmt::Result {
        self.start(name)?;
        self.f.write_str(": \"")?;
        c_escape(self.f, bytes)?;
        self.f.write_str("\"\n")
    }

    fn enumeration(&mut self, name: &str, value: impl Display, number: i32) -> fmt::Result {
        if number == 0 {
            return Ok(());
        }
        self.value(name, value)
    }

    fn open(&mut self, name: impl Display) -> fmt::Result {
        self.start(name)?;
        self.f.write_str(" {\n")?;
        self.indent += 1;
        Ok(())
    }

    fn close(&mut self) -> fmt::Result {
        self.indent -= 1;
        self.start("}")?;
        self.f.write_char('\n')
    }

    fn unknown(&mut self, fields: &UnknownFields<'_>) -> fmt::Result {
        for field in fields {
            let mut cursor = field.as_bytes();
            let Some(tag) = cxx::tag(&mut cursor) else {
                continue;
            };
            self.unknown_field(tag, &mut cursor, UNKNOWN_RECURSION_BUDGET)?;
        }
        Ok(())
    }

    /// Prints fields from `cursor` until it is empty or an end-group tag is read. The
    /// bytes were checked when they were decoded, so a malformed field cannot occur; one
    /// that did would end the listing.
    fn run(&mut self, cursor: &mut &[u8], budget: u32) -> fmt::Result {
        while let Some(tag) = cxx::tag(cursor) {
            if tag & 7 == 4 {
                break;
            }
            self.unknown_field(tag, cursor, budget)?;
        }
        Ok(())
    }

    fn unknown_field(&mut self, tag: u32, cursor: &mut &[u8], budget: u32) -> fmt::Result {
        let number = tag >> 3;
        match tag & 7 {
            0 => {
                if let Some(value) = cxx::varint64(cursor) {
                    self.value(number, value)?;
                }
            }
            1 => {
                if let Some(bytes) = cxx::take(cursor, 8) {
                    let value = u64::from_le_bytes(bytes.try_into().unwrap_or_default());
                    self.value(number, format_args!("0x{value:016x}"))?;
                }
            }
            5 => {
                if let Some(bytes) = cxx::take(cursor, 4) {
                    let value = u32::from_le_bytes(bytes.try_into().unwrap_or_default());
                    self.value(number, format_args!("0x{value:08x}"))?;
                }
            }
            2 => {
                if let Some(body) = cxx::length_delimited(cursor) {
                    if !body.is_empty() && budget > 0 && cxx::parses_as_message(body, budget) {
                        self.open(number)?;
                        self.run(&mut &body[..], budget - 1)?;
                        self.close()?;
                    } else {
                        self.quoted(number, body)?;
                    }
                }
            }
            3 => {
                self.open(number)?;
                self.run(cursor, budget.saturating_sub(1))?;
                self.close()?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Writes bytes as protobuf's CEscape does: the usual C escapes, printable ASCII as is,
/// every other byte as three octal digits.
pub(crate) fn c_escape(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    for &b in bytes {
        match b {
            b'\n' => out.write_str("\\n")?,
            b'\r' => out.write_str("\\r")?,
            b'\t' => out.write_str("\\t")?,
            b'"' => out.write_str("\\\"")?,
            b'\'' => out.write_str("\\'")?,
            b'\\' => out.write_str("\\\\")?,
            0x20..=0x7e => out.write_char(b as char)?,
            _ => write!(out, "\\{b:03o}")?,
        }
    }
    Ok(())
}

/// The wire reading of libprotobuf's `UnknownFieldSet` parser, which protoc uses to guess
/// whether an unknown length-delimited field is a message. It is laxer than the decoder
/// in places (tags of up to 10 bytes) and stricter in others (a literal
/// zero tag ends the parse), so it is its own small reader.
mod cxx {
    use super::varint;

    pub(super) fn take<'a>(cursor: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if cursor.len() < n {
            return None;
        }
        let (head, tail) = cursor.split_at(n);
        *cursor = tail;
        Some(head)
    }

    pub(super) fn varint64(cursor: &mut &[u8]) -> Option<u64> {
        let (value, n) = varint::decode(cursor, varint::MAX_VARINT_LEN).ok()?;
        *cursor = &cursor[n..];
        Some(value)
    }

    /// A tag: the low 32 bits of a varint of up to 10 bytes. `None` at the end of the
    /// input, on a malformed varint, or on a zero tag: all three end a parse.
    pub(super) fn tag(cursor: &mut &[u8]) -> Option<u32> {
        let tag = varint64(cursor)? as u32;
        (tag != 0).then_some(tag)
    }

    pub(super) fn length_delimited<'a>(cursor: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = varint64(cursor)? as u32 as i32;
        take(cursor, usize::try_from(len).ok()?)
    }

    /// Whether `bytes` parse as a whole message of unknown fields with at most `limit`
    /// levels of groups.
    pub(super) fn parses_as_message(bytes: &[u8], limit: u32) -> bool {
        let mut cursor = bytes;
        matches!(skip_message(&mut cursor, limit), Some(None)) && cursor.is_empty()
    }

    /// Skips fields until the input ends (`Some(None)`) or an end-group tag is read
    /// (`Some(Some(field))`); `None` when a field is malformed or a zero tag is read
    /// before the end.
    fn skip_message(cursor: &mut &[u8], depth_left: u32) -> Option<Option<u32>> {
        loop {
            if cursor.is_empty() {
                return Some(None);
            }
            let tag = tag(cursor)?;
            let field = tag >> 3;
            if tag & 7 == 4 {
                return Some(Some(field));
            }
            if field == 0 {
                return None;
            }
            match tag & 7 {
                0 => drop(varint64(cursor)?),
                1 => drop(take(cursor, 8)?),
                2 => drop(length_delimited(cursor)?),
                3 => {
                    let depth_left = depth_left.checked_sub(1)?;
                    if skip_message(cursor, depth_left)? != Some(field) {
                        return None;
                    }
                }
                5 => drop(take(cursor, 4)?),
                _ => return None,
            }
        }
    }
}

/// A field's value, as the printer walks a message's fields in schema order.
enum Value<'m, 'a> {
    Uint64(u64),
    Str(&'a str),
    Enum(i32),
    /// An embedded message, when present.
    Message(Option<&'m dyn Fields<'a>>),
    /// RequestHeader's repeated `streams`.
    Streams(&'m Streams<'a>),
    /// No field of the message has this number. The printer asks only for the numbers
    /// of `message_type().fields()`, which the declaration generates the values of, so
    /// this is never printed.
    Absent,
}

/// A message seen through its schema: the printer asks it for each field's value.
trait Fields<'a> {
    fn message_type(&self) -> MessageType;
    /// The value of the field numbered `number`, one of `message_type().fields()`;
    /// generated from the declaration, as the field tables are.
    fn value(&self, number: u32) -> Value<'_, 'a>;
    fn unknown_fields(&self) -> &UnknownFields<'a>;
}

/// Prints `message`'s set fields in field-number order, then its unknown fields.
fn write_message(t: &mut Text<'_, '_>, message: &dyn Fields<'_>) -> fmt::Result {
    for field in message.message_type().fields() {
        let name = field.name();
        match message.value(field.number()) {
            Value::Uint64(value) => t.uint64(name, value)?,
            Value::Str(value) => t.string(name, value)?,
            Value::Enum(value) => {
                // The schema's name for the value, else its number, as protoc prints.
                let known = match field.ty() {
                    FieldType::Enum(ty) => ty.value_name(value),
                    _ => None,
                };
                match known {
                    Some(known) => t.enumeration(name, known, value)?,
                    None => t.enumeration(name, value, value)?,
                }
            }
            Value::Message(Some(inner)) => {
                t.open(name)?;
                write_message(t, inner)?;
                t.close()?;
            }
            Value::Message(None) | Value::Absent => {}
            Value::Streams(streams) => {
                for stream in streams {
                    t.open(name)?;
                    write_message(t, &stream)?;
                    t.close()?;
                }
            }
        }
    }
    t.unknown(message.unknown_fields())
}

/// Implements [`Fields`] for every declared message, from the schema's declaration.
macro_rules! text_fields {
    (
        $(
            $(#[$doc:meta])*
            message $ty:ident in $module:ident, $shape:ident {
                $( $(#[$fdoc:meta])* $num:literal $field:ident : $kind:ident $(($arg:ident))? , )*
            }
        )*
        $( envelope $envelope:ident { $($envelope_fields:tt)* } )*
    ) => { $(
        impl<'a> Fields<'a> for $ty<'a> {
            fn message_type(&self) -> MessageType {
                MessageType::$ty
            }
            fn value(&self, number: u32) -> Value<'_, 'a> {
                match number {
                    $( $num => text_fields!(@value $kind $($arg)?; self.$field), )*
                    _ => Value::Absent,
                }
            }
            fn unknown_fields(&self) -> &UnknownFields<'a> {
                &self.unknown_fields
            }
        }
    )* };
    (@value uint64; $v:expr) => { Value::Uint64($v) };
    (@value string; $v:expr) => { Value::Str($v) };
    (@value enumeration $e:ident; $v:expr) => { Value::Enum($v.value()) };
    (@value message $m:ident; $v:expr) => {
        Value::Message($v.as_ref().map(|value| value as &dyn Fields<'a>))
    };
    (@value repeated $m:ident; $v:expr) => { Value::Streams(&$v) };
}

crate::schema::declaration!(text_fields);

impl<'a, H: Merge<'a> + Fields<'a>> Fields<'a> for Envelope<'a, H> {
    fn message_type(&self) -> MessageType {
        H::ENVELOPE
    }
    fn value(&self, _header: u32) -> Value<'_, 'a> {
        Value::Message(self.header.as_ref().map(|h| h as &dyn Fields<'a>))
    }
    fn unknown_fields(&self) -> &UnknownFields<'a> {
        &self.operation
    }
}

impl Display for Name<'_> {
    /// Text format, as `protoc --decode=atomix.primitive.Name` prints it.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_message(&mut Text::new(f), self)
    }
}

impl Display for StreamHeader<'_> {
    /// Text format, as `protoc --decode=atomix.headers.StreamHeader` prints it.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_message(&mut Text::new(f), self)
    }
}

impl Display for RequestHeader<'_> {
    /// Text format, as `protoc --decode=atomix.headers.RequestHeader` prints it.
    ///
    /// ```
    /// use atomix_headers::{Message, Name, RequestHeader};
    ///
    /// let request = RequestHeader {
    ///     name: Some(Name { name: "café", ..Default::default() }),
    ///     index: 9,
    ///     ..Default::default()
    /// };
    /// assert_eq!(request.to_string(), "name {\n  name: \"caf\\303\\251\"\n}\nindex: 9\n");
    /// ```
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_message(&mut Text::new(f), self)
    }
}

impl Display for ResponseHeader<'_> {
    /// Text format, as `protoc --decode=atomix.headers.ResponseHeader` prints it.
    ///
    /// ```
    /// use atomix_headers::{Message, ResponseHeader};
    ///
    /// let response = ResponseHeader::decode(&[0x08, 0x05, 0x30, 0x02, 0x38, 0x09, 0x45, 1, 0, 0, 0])?;
    /// assert_eq!(
    ///     response.to_string(),
    ///     "session_id: 5\nstatus: NOT_LEADER\ntype: 9\n8: 0x00000001\n"
    /// );
    /// # Ok::<(), atomix_headers::DecodeError>(())
    /// ```
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_message(&mut Text::new(f), self)
    }
}

impl Display for RequestEnvelope<'_> {
    /// Text format, as `protoc --decode=atomix.envelope.RequestEnvelope` prints it (the
    /// message of testdata/schema/atomix/envelope/envelope.proto): the operation's own
    /// fields print by number.
    ///
    /// ```
    /// use atomix_headers::{Message, RequestEnvelope};
    ///
    /// let request = RequestEnvelope::decode(&[0x0a, 0x02, 0x10, 0x07, 0x10, 0x05])?;
    /// assert_eq!(request.to_string(), "header {\n  session_id: 7\n}\n2: 5\n");
    /// # Ok::<(), atomix_headers::DecodeError>(())
    /// ```
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_message(&mut Text::new(f), self)
    }
}

impl Display for ResponseEnvelope<'_> {
    /// Text format, as `protoc --decode=atomix.envelope.ResponseEnvelope` prints it.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_message(&mut Text::new(f), self)
    }
}
