//! The tokens of protobuf text format, as protoc's tokenizer reads them: identifiers,
//! integers as written, strings with C escapes (adjacent ones are joined by the parser),
//! punctuation, whitespace and `#` comments.

use std::fmt;

/// Where and why a text could not be read, as `line:column: message`. Lines and columns
/// count from 1; columns count characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub(super) line: usize,
    pub(super) column: usize,
    pub(super) message: String,
}

impl TextError {
    /// The line of the error, from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column of the error, from 1, in characters.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for TextError {}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    /// An integer literal as written, sign included.
    Int(String),
    Str(Vec<u8>),
    Punct(char),
    End,
}

pub(super) struct Lexer<'s> {
    src: &'s [u8],
    pos: usize,
    line: usize,
    col: usize,
    /// The current token and where it starts.
    pub(super) tok: Tok,
    pub(super) at: (usize, usize),
}

impl<'s> Lexer<'s> {
    pub(super) fn new(src: &'s str) -> Result<Self, TextError> {
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

    pub(super) fn error<T>(&self, message: impl Into<String>) -> Result<T, TextError> {
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
    pub(super) fn advance(&mut self) -> Result<(), TextError> {
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

    pub(super) fn is(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }
}

pub(super) fn parse_int(text: &str) -> Option<(bool, u64)> {
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
