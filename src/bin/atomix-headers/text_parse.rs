//! Protobuf text format in, the three header messages out, as `protoc --encode` reads it:
//! fields in any order, `#` comments, `name { }` and `name < >` blocks (with or without a
//! `:` before them), `[a, b]` lists for the repeated `streams`, enum names or numbers,
//! decimal, hex and octal integers, single- or double-quoted strings with C escapes
//! (adjacent strings are joined), and optional `,` or `;` after each field. A
//! non-repeated field given twice is an error, as it is for protoc, unless its first value
//! was the default (a proto3 scalar at its default does not count as set).
//!
//! Where protoc would write bytes that are not UTF-8 into a string field (escapes such as
//! `\xff`, octal escapes above 0x7f that do not form UTF-8, lone surrogates), this parser
//! refuses the text instead: such bytes are rejected by upb and by the crate's decoder.

use atomix_headers::schema::{EnumType, FieldType, MessageType};
use atomix_headers::{
    Message, Name, RequestEnvelope, RequestHeader, ResponseEnvelope, ResponseHeader,
    ResponseStatus, ResponseType, StreamHeader,
};
use std::fmt;

/// Where and why the text could not be read. Lines and columns count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// An integer literal as written, sign included.
    Int(String),
    Str(Vec<u8>),
    Punct(char),
    End,
}

struct Lexer<'s> {
    src: &'s [u8],
    pos: usize,
    line: usize,
    col: usize,
    /// The current token and where it starts.
    tok: Tok,
    at: (usize, usize),
}

impl<'s> Lexer<'s> {
    fn new(src: &'s str) -> Result<Self, TextError> {
        let mut lexer = Lexer {
            src: src.as_bytes(),
            pos: 0,
            line: 1,
            col: 1,
            tok: Tok::End,
            at: (1, 1),
        };
        lexer.advance()?;
        Ok(lexer)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, TextError> {
        Err(TextError {
            line: self.at.0,
            column: self.at.1,
            message: message.into(),
        })
    }

    fn peek_byte(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek_byte()?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if b & 0xc0 != 0x80 {
            self.col += 1;
        }
        Some(b)
    }

    /// Skips whitespace (protoc's: space, tab, newline, carriage return, vertical tab and
    /// form feed) and `#` comments. A NUL inside a comment is an error, as for protoc.
    fn skip_space(&mut self) -> Result<(), TextError> {
        while let Some(b) = self.peek_byte() {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                self.bump();
            } else if b == b'#' {
                while let Some(b) = self.peek_byte() {
                    if b == 0 {
                        return self.control_character();
                    }
                    self.bump();
                    if b == b'\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    /// protoc's error for a NUL in a comment or a string, at the NUL.
    fn control_character<T>(&self) -> Result<T, TextError> {
        Err(TextError {
            line: self.line,
            column: self.col,
            message: "invalid control characters encountered in text".into(),
        })
    }

    /// Moves to the next token.
    fn advance(&mut self) -> Result<(), TextError> {
        self.skip_space()?;
        self.at = (self.line, self.col);
        let Some(b) = self.peek_byte() else {
            self.tok = Tok::End;
            return Ok(());
        };
        self.tok = match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut s = String::new();
                while let Some(c) = self
                    .peek_byte()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    s.push(c as char);
                    self.bump();
                }
                Tok::Ident(s)
            }
            b'0'..=b'9' | b'-' | b'+' => {
                let mut s = String::new();
                s.push(self.bump().unwrap_or_default() as char);
                while let Some(c) = self
                    .peek_byte()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == b'.')
                {
                    s.push(c as char);
                    self.bump();
                }
                Tok::Int(s)
            }
            b'"' | b'\'' => Tok::Str(self.string(b)?),
            b'{' | b'}' | b'<' | b'>' | b':' | b',' | b';' | b'[' | b']' => {
                self.bump();
                Tok::Punct(b as char)
            }
            other => return self.error(format!("unexpected character {:?}", other as char)),
        };
        Ok(())
    }

    fn string(&mut self, quote: u8) -> Result<Vec<u8>, TextError> {
        self.bump();
        let mut out = Vec::new();
        loop {
            if self.peek_byte() == Some(0) {
                return self.control_character();
            }
            let Some(b) = self.bump() else {
                return self.error("string is not closed");
            };
            match b {
                b'\n' => return self.error("string is not closed before the end of the line"),
                b if b == quote => return Ok(out),
                b'\\' => self.escape(&mut out)?,
                b => out.push(b),
            }
        }
    }

    fn digits(&mut self, radix: u32, max: usize) -> u32 {
        let mut value = 0;
        for _ in 0..max {
            match self.peek_byte().and_then(|c| (c as char).to_digit(radix)) {
                Some(d) => {
                    value = value * radix + d;
                    self.bump();
                }
                None => break,
            }
        }
        value
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), TextError> {
        let Some(c) = self.bump() else {
            return self.error("string is not closed");
        };
        match c {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'v' => out.push(0x0b),
            b'\\' | b'\'' | b'"' | b'?' => out.push(c),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match self.peek_byte() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.bump();
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                if !self.peek_byte().is_some_and(|d| d.is_ascii_hexdigit()) {
                    return self.error("\\x must be followed by a hex digit");
                }
                out.push(self.digits(16, 2) as u8);
            }
            b'u' => {
                let code = self.hex_digits(4)?;
                let code = match code {
                    // A lead surrogate followed by a `\u` trail surrogate is one code
                    // point, as protoc joins them.
                    0xd800..=0xdbff if self.src[self.pos..].starts_with(b"\\u") => {
                        let after = self.src.get(self.pos + 2..self.pos + 6);
                        let trail = after
                            .and_then(|d| std::str::from_utf8(d).ok())
                            .and_then(|d| u32::from_str_radix(d, 16).ok())
                            .filter(|t| (0xdc00..=0xdfff).contains(t));
                        match trail {
                            Some(trail) => {
                                self.bump();
                                self.bump();
                                self.hex_digits(4)?;
                                0x10000 + ((code - 0xd800) << 10) + (trail - 0xdc00)
                            }
                            None => code,
                        }
                    }
                    code => code,
                };
                let Some(ch) = char::from_u32(code) else {
                    // protoc writes a lone surrogate as three bytes that are not UTF-8:
                    // the documented difference, refused here.
                    return self.error("escape is a lone surrogate, not valid UTF-8");
                };
                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
            }
            b'U' => {
                // protoc takes `00`, `0` or `1`, and five hex digits: up to 0x1fffff.
                let digits = self.src.get(self.pos..self.pos + 8).unwrap_or_default();
                let well_formed = digits.len() == 8
                    && digits.starts_with(b"00")
                    && matches!(digits[2], b'0' | b'1')
                    && digits[3..].iter().all(u8::is_ascii_hexdigit);
                if !well_formed {
                    return self.error("expected eight hex digits up to 10ffff for \\U escape");
                }
                let code = self.hex_digits(8)?;
                match char::from_u32(code) {
                    Some(ch) => out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes()),
                    // Beyond Unicode, protoc keeps the escape as it is written.
                    None if code > 0x10ffff => {
                        out.extend_from_slice(b"\\U");
                        out.extend_from_slice(digits);
                    }
                    None => return self.error("escape is a surrogate, not valid UTF-8"),
                }
            }
            other => return self.error(format!("unknown escape \\{}", other as char)),
        }
        Ok(())
    }

    /// Exactly `len` hex digits.
    fn hex_digits(&mut self, len: usize) -> Result<u32, TextError> {
        let start = self.pos;
        let code = self.digits(16, len);
        if self.pos - start != len {
            return self.error(format!("expected {len} hex digits in a \\u or \\U escape"));
        }
        Ok(code)
    }

    fn is(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }
}

fn parse_int(text: &str) -> Option<(bool, u64)> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => return None,
        _ => (false, text),
    };
    let value = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    Some((negative, value))
}

/// A message being read: its known fields, and each value once read.
#[derive(Default)]
struct Fields {
    uint64: [Option<u64>; 8],
    strings: [Option<String>; 8],
    enums: [Option<i32>; 8],
    name: Option<Box<Fields>>,
    /// Kept as values, not as parsed fields: a text of millions of `streams {}` must not
    /// take a parsed-field record each.
    streams: Vec<StreamHeader<'static>>,
}

struct Parser<'s> {
    lex: Lexer<'s>,
}

impl Parser<'_> {
    /// Reads fields of `message` until `close` (or the end of input when `close` is None).
    fn body(&mut self, message: MessageType, close: Option<char>) -> Result<Fields, TextError> {
        let mut fields = Fields::default();
        loop {
            match (&self.lex.tok, close) {
                (Tok::End, None) => return Ok(fields),
                (Tok::End, Some(c)) => {
                    return self.lex.error(format!("expected '{c}' to close {message}"))
                }
                (Tok::Punct(p), Some(c)) if *p == c => {
                    self.lex.advance()?;
                    return Ok(fields);
                }
                (Tok::Ident(_), _) => self.field(message, &mut fields)?,
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

    fn field(&mut self, message: MessageType, fields: &mut Fields) -> Result<(), TextError> {
        let Tok::Ident(ident) = self.lex.tok.clone() else {
            unreachable!("checked by the caller")
        };
        let Some(field) = message.field_named(&ident) else {
            return self.lex.error(format!(
                "message type \"{message}\" has no field named \"{ident}\""
            ));
        };
        let number = field.number() as usize;
        let at = self.lex.at;
        self.lex.advance()?;
        let is_message = matches!(field.ty(), FieldType::Message(_));
        if self.lex.is(':') {
            self.lex.advance()?;
        } else if !is_message {
            return self.lex.error(format!("expected ':' after \"{ident}\""));
        }
        let duplicate = match field.ty() {
            FieldType::Message(MessageType::StreamHeader) => {
                if self.lex.is('[') {
                    self.lex.advance()?;
                    // `[]`, or blocks separated by commas: no comma before the `]`.
                    if !self.lex.is(']') {
                        loop {
                            fields
                                .streams
                                .push(stream_of(&self.block(MessageType::StreamHeader)?));
                            if self.lex.is(']') {
                                break;
                            }
                            if !self.lex.is(',') {
                                return self.lex.error("expected ',' or ']'");
                            }
                            self.lex.advance()?;
                        }
                    }
                    self.lex.advance()?;
                } else {
                    fields
                        .streams
                        .push(stream_of(&self.block(MessageType::StreamHeader)?));
                }
                false
            }
            // `name`, or an envelope's `header`: the one embedded message field.
            FieldType::Message(inner) => {
                fields.name.replace(Box::new(self.block(inner)?)).is_some()
            }
            FieldType::Uint64 => {
                let value = self.uint64()?;
                // A proto3 scalar still at its default does not count as set.
                fields.uint64[number].replace(value).is_some_and(|v| v != 0)
            }
            FieldType::String => {
                let value = self.string()?;
                fields.strings[number]
                    .replace(value)
                    .is_some_and(|v| !v.is_empty())
            }
            FieldType::Enum(ty) => {
                let value = self.enumeration(ty)?;
                fields.enums[number].replace(value).is_some_and(|v| v != 0)
            }
            // The schema is non-exhaustive; this tool knows every type it has today.
            _ => {
                return self
                    .lex
                    .error(format!("field \"{ident}\" has an unknown type"))
            }
        };
        if duplicate {
            return Err(TextError {
                line: at.0,
                column: at.1,
                message: format!("non-repeated field \"{ident}\" is specified multiple times"),
            });
        }
        Ok(())
    }

    fn block(&mut self, message: MessageType) -> Result<Fields, TextError> {
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

fn parse(message: MessageType, text: &str) -> Result<Fields, TextError> {
    let mut parser = Parser {
        lex: Lexer::new(text)?,
    };
    parser.body(message, None)
}

fn name_of(fields: &Fields) -> Name<'_> {
    Name {
        name: fields.strings[1].as_deref().unwrap_or_default(),
        namespace: fields.strings[2].as_deref().unwrap_or_default(),
        ..Default::default()
    }
}

fn stream_of(fields: &Fields) -> StreamHeader<'static> {
    StreamHeader {
        stream_id: fields.uint64[1].unwrap_or_default(),
        response_id: fields.uint64[2].unwrap_or_default(),
        ..Default::default()
    }
}

/// How a message is framed on output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// The message alone.
    None,
    /// A varint length prefix.
    Delimited,
    /// A gRPC prefix: flag 0 and a 4-byte big-endian length.
    Grpc,
}

/// The encoding of `message`, framed.
fn bytes_of<'a, M: Message<'a>>(message: M, framing: Framing) -> Vec<u8> {
    let len = message.encoded_len();
    // Room for the longest prefix, a gRPC one or a 10-byte varint.
    let mut out = Vec::with_capacity(len + 10);
    // A Vec grows to any header's size, and parsed text has no unknown fields to refuse.
    match framing {
        Framing::None => message.encode(&mut out),
        Framing::Delimited => message.encode_length_delimited(&mut out),
        Framing::Grpc => atomix_headers::grpc::encode(&message, &mut out),
    }
    .expect("a Vec has room for any header");
    out
}

fn request_of(f: &Fields) -> RequestHeader<'_> {
    RequestHeader {
        name: f.name.as_deref().map(name_of),
        session_id: f.uint64[2].unwrap_or_default(),
        request_id: f.uint64[3].unwrap_or_default(),
        index: f.uint64[4].unwrap_or_default(),
        streams: f.streams[..].into(),
        ..Default::default()
    }
}

fn response_of(f: &Fields) -> ResponseHeader<'_> {
    ResponseHeader {
        session_id: f.uint64[1].unwrap_or_default(),
        stream_id: f.uint64[2].unwrap_or_default(),
        response_id: f.uint64[3].unwrap_or_default(),
        index: f.uint64[4].unwrap_or_default(),
        leader: f.strings[5].as_deref().unwrap_or_default(),
        status: ResponseStatus::from_value(f.enums[6].unwrap_or_default()),
        r#type: ResponseType::from_value(f.enums[7].unwrap_or_default()),
        ..Default::default()
    }
}

/// Reads `text` as the message type `message` (RequestHeader, ResponseHeader,
/// StreamHeader, RequestEnvelope or ResponseEnvelope) and returns its binary encoding,
/// as `protoc --encode` writes it, framed as asked.
pub fn encode_text(
    message: MessageType,
    text: &str,
    framing: Framing,
) -> Result<Vec<u8>, TextError> {
    let f = parse(message, text)?;
    let header = f.name.as_deref();
    let bytes = match message {
        MessageType::RequestHeader => bytes_of(request_of(&f), framing),
        MessageType::ResponseHeader => bytes_of(response_of(&f), framing),
        MessageType::RequestEnvelope => {
            let envelope = RequestEnvelope {
                header: header.map(request_of),
                ..Default::default()
            };
            bytes_of(envelope, framing)
        }
        MessageType::ResponseEnvelope => {
            let envelope = ResponseEnvelope {
                header: header.map(response_of),
                ..Default::default()
            };
            bytes_of(envelope, framing)
        }
        _ => bytes_of(stream_of(&f), framing),
    };
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_protoc_accepts() {
        let text = "# a comment\nname < name: 'm' namespace: \"n\" \"s\" >; session_id: 0x10, index: 017\n\
                    streams: [{stream_id: 1}, <response_id: 2>] streams {}\n";
        let bytes = encode_text(MessageType::RequestHeader, text, Framing::None).unwrap();
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
        let bytes = encode_text(MessageType::ResponseHeader, text, Framing::None).unwrap();
        assert_eq!(
            ResponseHeader::decode(&bytes).unwrap().leader,
            "AB\t\"\\'é🦀\n"
        );
    }

    #[test]
    fn enums_by_name_and_number() {
        let bytes = encode_text(
            MessageType::ResponseHeader,
            "status: NOT_LEADER type: -1",
            Framing::None,
        )
        .unwrap();
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
            let err = encode_text(message, text, Framing::None).unwrap_err();
            assert_eq!((err.line, err.column), (line, column), "{text}: {err}");
            assert!(err.message.contains(what), "{text}: {err}");
        }
    }
}
