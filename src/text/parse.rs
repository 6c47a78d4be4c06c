//! Protobuf text format in, binary out, as `protoc --encode` reads and writes it: fields
//! in any order, `#` comments, `name { }` and `name < >` blocks (with or without a `:`
//! before them), `[a, b]` lists for repeated fields, enum names or numbers, decimal,
//! hex and octal integers, single- or double-quoted strings with C escapes (adjacent
//! strings are joined), and optional `,` or `;` after each field. A non-repeated field
//! given twice is an error, as it is for protoc, unless its first value was the default
//! (a proto3 scalar at its default does not count as set).
//!
//! Where protoc would write bytes that are not UTF-8 into a string field (escapes such as
//! `\xff`, octal escapes above 0x7f that do not form UTF-8, lone surrogates), this parser
//! refuses the text instead: such bytes are rejected by upb and by the crate's decoder.
//!
//! The parser knows no message: it walks the schema ([`crate::schema`]), which is
//! generated from the same declaration as the messages.

use super::lex::{parse_int, Lexer, TextError, Tok};
use crate::schema::{EnumType, Field, FieldType, MessageType};
use crate::wire::sink::{BufSink, Sink};

/// Reads `text` as a message of type `message` and returns its binary encoding, exactly
/// as `protoc --encode` writes it: the canonical encoding, fields in number order,
/// defaults left out.
///
/// ```
/// use atomix_headers::schema::MessageType;
/// use atomix_headers::{text, Message, RequestHeader};
///
/// let bytes = text::parse(MessageType::RequestHeader, "index: 9 name { name: \"m\" }")?;
/// assert_eq!(bytes, [0x0a, 0x03, 0x0a, 0x01, b'm', 0x20, 0x09]);
/// assert_eq!(RequestHeader::decode(&bytes)?.to_string(), "name {\n  name: \"m\"\n}\nindex: 9\n");
///
/// let err = text::parse(MessageType::RequestHeader, "index: 1\nindex: 2").unwrap_err();
/// assert_eq!(err.to_string(), "2:1: non-repeated field \"index\" is specified multiple times");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse(message: MessageType, text: &str) -> Result<Vec<u8>, TextError> {
    let mut parser = Parser {
        lex: Lexer::new(text)?,
    };
    let parsed = parser.body(message, None)?;
    let mut out = Vec::new();
    parsed.encode(&mut out);
    Ok(out)
}

/// A message read from text: a slot per field of its type, in the schema's order.
struct Parsed {
    ty: MessageType,
    slots: Vec<Slot>,
}

/// What a field holds once read.
enum Slot {
    /// Not given, or given only at its default.
    Empty,
    /// A uint64, or an enum as its int32 sign-extended: what the varint holds.
    Varint(u64),
    Str(String),
    Message(Box<Parsed>),
    /// The occurrences of a repeated field, already encoded with their tags: a text of
    /// millions of them does not keep a parsed message each.
    Repeated(Vec<u8>),
}

impl Parsed {
    fn new(ty: MessageType) -> Self {
        let slots = ty.fields().iter().map(|_| Slot::Empty).collect();
        Parsed { ty, slots }
    }

    /// The canonical encoding: the fields in number order (the schema's), defaults
    /// left out.
    fn encode(&self, out: &mut Vec<u8>) {
        for (field, slot) in self.ty.fields().iter().zip(&self.slots) {
            match slot {
                Slot::Empty => {}
                Slot::Varint(value) => BufSink(out).put_uint64_field(field.tag(), *value),
                Slot::Str(value) => BufSink(out).put_string_field(field.tag(), value),
                Slot::Message(message) => put_message(out, field, message),
                Slot::Repeated(encoded) => out.extend_from_slice(encoded),
            }
        }
    }
}

/// Writes `message` as field `field`: tag, length, body.
fn put_message(out: &mut Vec<u8>, field: &Field, message: &Parsed) {
    let mut body = Vec::new();
    message.encode(&mut body);
    let mut sink = BufSink(out);
    sink.put_tag(field.tag());
    sink.put_varint(body.len() as u64);
    sink.put(&body);
}

struct Parser<'s> {
    lex: Lexer<'s>,
}

impl Parser<'_> {
    /// Reads fields of `message` until `close` (or the end of input when `close` is None).
    fn body(&mut self, message: MessageType, close: Option<char>) -> Result<Parsed, TextError> {
        let mut parsed = Parsed::new(message);
        loop {
            match (&self.lex.tok, close) {
                (Tok::End, None) => return Ok(parsed),
                (Tok::End, Some(c)) => {
                    return self.lex.error(format!("expected '{c}' to close {message}"))
                }
                (Tok::Punct(p), Some(c)) if *p == c => {
                    self.lex.advance()?;
                    return Ok(parsed);
                }
                (Tok::Ident(_), _) => self.field(&mut parsed)?,
                _ => {
                    return self
                        .lex
                        .error(format!("expected a field name of {message}"))
                }
            }
            if self.lex.is(',') || self.lex.is(';') {
                self.lex.advance()?;
            }
        }
    }

    fn field(&mut self, parsed: &mut Parsed) -> Result<(), TextError> {
        let message = parsed.ty;
        let ident = match &self.lex.tok {
            Tok::Ident(ident) => ident.clone(),
            _ => {
                return self
                    .lex
                    .error(format!("expected a field name of {message}"))
            }
        };
        let found = message
            .fields()
            .iter()
            .position(|field| field.name() == ident);
        let Some(index) = found else {
            return self.lex.error(format!(
                "message type \"{message}\" has no field named \"{ident}\""
            ));
        };
        // A slot per field: `index` is one of both.
        let field = message.fields()[index];
        let at = self.lex.at;
        self.lex.advance()?;
        let is_message = matches!(field.ty(), FieldType::Message(_));
        if self.lex.is(':') {
            self.lex.advance()?;
        } else if !is_message {
            return self.lex.error(format!("expected ':' after \"{ident}\""));
        }
        let value = match field.ty() {
            FieldType::Message(inner) if field.is_repeated() => {
                let slot = &mut parsed.slots[index];
                if let Slot::Empty = slot {
                    *slot = Slot::Repeated(Vec::new());
                }
                if let Slot::Repeated(encoded) = slot {
                    self.repeated(&field, inner, encoded)?;
                }
                return Ok(());
            }
            FieldType::Message(inner) => Slot::Message(Box::new(self.block(inner)?)),
            FieldType::Uint64 => Slot::Varint(self.uint64()?),
            // An enum is written as its int32 sign-extended to 64 bits.
            FieldType::Enum(ty) => Slot::Varint(self.enumeration(ty)? as i64 as u64),
            FieldType::String => Slot::Str(self.string()?),
        };
        // A proto3 scalar still at its default does not count as set.
        let duplicate = match &parsed.slots[index] {
            Slot::Empty | Slot::Varint(0) => false,
            Slot::Str(value) => !value.is_empty(),
            _ => true,
        };
        if duplicate {
            return Err(TextError {
                line: at.0,
                column: at.1,
                message: format!("non-repeated field \"{ident}\" is specified multiple times"),
            });
        }
        parsed.slots[index] = value;
        Ok(())
    }

    /// One occurrence of a repeated message field, a block, or a `[a, b]` list of
    /// them, each appended to `encoded`.
    fn repeated(
        &mut self,
        field: &Field,
        inner: MessageType,
        encoded: &mut Vec<u8>,
    ) -> Result<(), TextError> {
        if !self.lex.is('[') {
            let message = self.block(inner)?;
            put_message(encoded, field, &message);
            return Ok(());
        }
        self.lex.advance()?;
        // `[]`, or blocks separated by commas: no comma before the `]`.
        if !self.lex.is(']') {
            loop {
                let message = self.block(inner)?;
                put_message(encoded, field, &message);
                if self.lex.is(']') {
                    break;
                }
                if !self.lex.is(',') {
                    return self.lex.error("expected ',' or ']'");
                }
                self.lex.advance()?;
            }
        }
        self.lex.advance()
    }

    fn block(&mut self, message: MessageType) -> Result<Parsed, TextError> {
        let close = if self.lex.is('{') {
            '}'
        } else if self.lex.is('<') {
            '>'
        } else {
            return self.lex.error("expected '{' or '<'");
        };
        self.lex.advance()?;
        self.body(message, Some(close))
    }

    fn uint64(&mut self) -> Result<u64, TextError> {
        let Tok::Int(text) = &self.lex.tok else {
            return self.lex.error("expected an integer");
        };
        // Any sign, even on zero, is an error for an unsigned field, as for protoc.
        match parse_int(text) {
            Some((false, value)) => {
                self.lex.advance()?;
                Ok(value)
            }
            _ => self.lex.error(format!(
                "expected an unsigned 64-bit integer, got \"{text}\""
            )),
        }
    }

    fn enumeration(&mut self, ty: EnumType) -> Result<i32, TextError> {
        let value = match &self.lex.tok {
            Tok::Ident(name) => {
                let Some(value) = ty.value_named(name) else {
                    return self
                        .lex
                        .error(format!("unknown enumeration value \"{name}\""));
                };
                value
            }
            // A minus sign may stand apart from its number, as protoc's tokenizer
            // reads it as a token of its own.
            Tok::Int(text) if text == "-" => {
                self.lex.advance()?;
                let value = match &self.lex.tok {
                    Tok::Int(digits) if !digits.starts_with(['-', '+']) => {
                        parse_int(digits).and_then(|(_, v)| i64::try_from(v).ok())
                    }
                    _ => None,
                };
                match value.and_then(|v| i32::try_from(-v).ok()) {
                    Some(value) => value,
                    None => return self.lex.error("expected an integer after '-'"),
                }
            }
            Tok::Int(text) => {
                let value = match parse_int(text) {
                    Some((false, v)) => i32::try_from(v).ok(),
                    Some((true, v)) => i64::try_from(v).ok().and_then(|v| i32::try_from(-v).ok()),
                    None => None,
                };
                let Some(value) = value else {
                    return self
                        .lex
                        .error(format!("expected a 32-bit integer, got \"{text}\""));
                };
                value
            }
            _ => return self.lex.error("expected an enumeration name or number"),
        };
        self.lex.advance()?;
        Ok(value)
    }

    fn string(&mut self) -> Result<String, TextError> {
        let at = self.lex.at;
        let mut bytes = Vec::new();
        let Tok::Str(first) = &self.lex.tok else {
            return self.lex.error("expected a string");
        };
        bytes.extend_from_slice(first);
        self.lex.advance()?;
        while let Tok::Str(more) = &self.lex.tok {
            bytes.extend_from_slice(more);
            self.lex.advance()?;
        }
        String::from_utf8(bytes).map_err(|_| TextError {
            line: at.0,
            column: at.1,
            message: "string field is not valid UTF-8".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, RequestHeader, ResponseHeader, ResponseStatus};

    #[test]
    fn syntax_protoc_accepts() {
        let text = "# a comment\nname < name: 'm' namespace: \"n\" \"s\" >; session_id: 0x10, index: 017\n\
                    streams: [{stream_id: 1}, <response_id: 2>] streams {}\n";
        let bytes = parse(MessageType::RequestHeader, text).unwrap();
        let request = RequestHeader::decode(&bytes).unwrap();
        assert_eq!(
            request.name.map(|n| (n.name, n.namespace)),
            Some(("m", "ns"))
        );
        assert_eq!((request.session_id, request.index), (16, 15));
        assert_eq!(request.streams.len(), 3);
    }

    #[test]
    fn escapes() {
        let text = r#"leader: "\101\x42\t\"\\\'\u00e9\U0001F980\n""#;
        let bytes = parse(MessageType::ResponseHeader, text).unwrap();
        assert_eq!(
            ResponseHeader::decode(&bytes).unwrap().leader,
            "AB\t\"\\'é🦀\n"
        );
    }

    #[test]
    fn enums_by_name_and_number() {
        let bytes = parse(MessageType::ResponseHeader, "status: NOT_LEADER type: -1").unwrap();
        let response = ResponseHeader::decode(&bytes).unwrap();
        assert_eq!(
            (response.status, response.r#type.value()),
            (ResponseStatus::NOT_LEADER, -1)
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases = [
            (
                "session_id: 1\nsession_id: 2",
                2,
                1,
                "specified multiple times",
            ),
            ("index: -1", 1, 8, "unsigned"),
            ("foo: 1", 1, 1, "no field named \"foo\""),
            ("name { name: \"x\" ", 1, 18, "expected '}'"),
            ("leader: \"\\xff\"", 1, 9, "UTF-8"),
            ("status: MAYBE", 1, 9, "unknown enumeration value"),
            ("session_id 1", 1, 12, "expected ':'"),
            ("type: 2147483648", 1, 7, "32-bit"),
        ];
        for (text, line, column, what) in cases {
            let message = if text.starts_with("name") || text.starts_with("foo") {
                MessageType::RequestHeader
            } else {
                MessageType::ResponseHeader
            };
            let message = if text.starts_with("session_id 1") || text.starts_with("index") {
                MessageType::ResponseHeader
            } else {
                message
            };
            let err = parse(message, text).unwrap_err();
            assert_eq!((err.line, err.column), (line, column), "{text}: {err}");
            assert!(err.message.contains(what), "{text}: {err}");
        }
    }
}
