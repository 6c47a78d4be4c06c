//! `atomix-headers`: decode and encode Atomix headers from the shell, byte for byte as
//! `protoc --decode` and `protoc --encode` do, without protoc or the .proto files.

use atomix_headers::schema::MessageType;
use atomix_headers::{
    DecodeError, Message, Progress, RequestEnvelope, RequestHeader, ResponseEnvelope,
    ResponseHeader, StreamHeader,
};
use std::io::{Read, Write};
use std::process::ExitCode;

mod args;
use args::{parse_args, Command, Framing, Options, USAGE};

/// `body`, an encoded message, framed as `framing` says.
fn framed(body: Vec<u8>, framing: Framing) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    let written = match framing {
        Framing::None => return Ok(body),
        Framing::Delimited => atomix_headers::framing::encode_frame(&body, &mut out),
        Framing::Grpc => {
            let frame = atomix_headers::framing::Frame {
                compressed: false,
                body: bytes::Bytes::from(body),
            };
            atomix_headers::grpc::encode_frame(&frame, &mut out)
        }
    };
    // Into a Vec, only a message too long for gRPC's 4-byte length fails.
    written.map_err(|e| Failure::Data(format!("cannot frame the message: {e}")))?;
    Ok(out)
}

/// Why the program stops.
enum Failure {
    /// The command line is wrong: exit 2.
    Usage(String),
    /// The input is not what was asked for, or cannot be read: exit 1.
    Data(String),
    /// The output cannot be written.
    Output(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Output(e)
    }
}

/// The input's name in messages: the file, or `<stdin>`.
fn input_name(file: &Option<String>) -> &str {
    match file.as_deref() {
        None | Some("-") => "<stdin>",
        Some(path) => path,
    }
}

fn open_input(file: &Option<String>) -> Result<Box<dyn Read>, Failure> {
    match file.as_deref() {
        None | Some("-") => Ok(Box::new(std::io::stdin().lock())),
        Some(path) => std::fs::File::open(path)
            .map(|f| Box::new(f) as Box<dyn Read>)
            .map_err(|e| Failure::Data(format!("cannot read {path}: {e}"))),
    }
}

fn read_all(file: &Option<String>) -> Result<Vec<u8>, Failure> {
    let mut data = Vec::new();
    open_input(file)?
        .read_to_end(&mut data)
        .map_err(|e| Failure::Data(format!("cannot read {}: {e}", input_name(file))))?;
    Ok(data)
}

/// Hex text to bytes, whitespace ignored, in one pass: the output is half the digits
/// and nothing else is held.
fn unhex(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high = None;
    for (at, &b) in text.iter().enumerate() {
        if b.is_ascii_whitespace() {
            continue;
        }
        let digit = (b as char).to_digit(16).ok_or_else(|| {
            format!(
                "byte {at} of the hex input is not a hex digit: {:?}",
                b as char
            )
        })? as u8;
        match high.take() {
            None => high = Some(digit),
            Some(high) => out.push(high << 4 | digit),
        }
    }
    if high.is_some() {
        return Err("hex input has an odd number of digits".into());
    }
    Ok(out)
}

/// Decodes one message and prints it straight into `out`, after `before` (the blank line
/// between frames, written only once the message has decoded): the text is never held
/// whole, so memory stays at the input's size.
fn write_text(
    kind: MessageType,
    data: &[u8],
    before: &[u8],
    out: &mut dyn Write,
) -> Result<std::io::Result<()>, DecodeError> {
    fn print(out: &mut dyn Write, before: &[u8], m: impl std::fmt::Display) -> std::io::Result<()> {
        out.write_all(before)?;
        write!(out, "{m}")
    }
    Ok(match kind {
        MessageType::RequestHeader => print(out, before, RequestHeader::decode(data)?),
        MessageType::ResponseHeader => print(out, before, ResponseHeader::decode(data)?),
        MessageType::RequestEnvelope => print(out, before, RequestEnvelope::decode(data)?),
        MessageType::ResponseEnvelope => print(out, before, ResponseEnvelope::decode(data)?),
        _ => print(out, before, StreamHeader::decode(data)?),
    })
}

/// Reads one byte; `None` at the end of the input.
fn read_byte(input: &mut dyn Read) -> std::io::Result<Option<u8>> {
    let mut byte = [0u8];
    match input.read_exact(&mut byte) {
        Ok(()) => Ok(Some(byte[0])),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

fn decode(options: &Options, out: &mut dyn Write) -> Result<(), Failure> {
    let name = input_name(&options.file);
    let invalid = |e: DecodeError, base: usize| {
        let at = base + e.offset();
        let what = e.message().map_or("frame", |m| m.full_name());
        let path = e.path();
        let path = if path.is_empty() {
            String::new()
        } else {
            format!(" ({path})")
        };
        Failure::Data(format!(
            "{name}: invalid {what} at byte {at}{path}: {}",
            e.kind()
        ))
    };
    let mut input: Box<dyn Read> = if options.framing == Framing::None || options.hex {
        let mut data = read_all(&options.file)?;
        if options.hex {
            data = unhex(&data).map_err(|e| Failure::Data(format!("{name}: {e}")))?;
        }
        if options.framing == Framing::None {
            return write_text(options.kind, &data, b"", out)
                .map_err(|e| invalid(e, 0))?
                .map_err(Failure::Output);
        }
        Box::new(std::io::Cursor::new(data))
    } else {
        Box::new(std::io::BufReader::new(open_input(&options.file)?))
    };
    let max = options.max_frame_len.unwrap_or(match options.framing {
        Framing::Grpc => atomix_headers::grpc::DEFAULT_MAX_MESSAGE_LEN,
        _ => atomix_headers::framing::DEFAULT_MAX_FRAME_LEN,
    });
    let cannot_read = |e: std::io::Error| Failure::Data(format!("cannot read {name}: {e}"));
    let truncated = |pos: usize| {
        Failure::Data(format!(
            "{name}: the input ends inside the frame at byte {pos}"
        ))
    };
    let mut pos = 0usize;
    loop {
        // The prefix, a byte at a time (it is 5 bytes, or a varint of at most 10), so
        // that its length is checked against the limit before any body is read.
        let mut prefix = Vec::with_capacity(10);
        let body_len = loop {
            let split = match options.framing {
                Framing::Grpc => atomix_headers::grpc::split(&prefix, max).map(|p| match p {
                    Progress::Complete(frame) => Progress::Complete((frame.compressed, 0)),
                    Progress::Partial(n) if prefix.len() >= atomix_headers::grpc::PREFIX_LEN => {
                        Progress::Complete((prefix[0] == 1, n))
                    }
                    Progress::Partial(n) => Progress::Partial(n),
                }),
                _ => atomix_headers::framing::split(&prefix, max).map(|p| match p {
                    Progress::Complete(_) => Progress::Complete((false, 0)),
                    Progress::Partial(n) if prefix.last().is_some_and(|b| b & 0x80 == 0) => {
                        Progress::Complete((false, n))
                    }
                    Progress::Partial(n) => Progress::Partial(n),
                }),
            };
            match split.map_err(|e| invalid(e, pos))? {
                Progress::Complete((true, _)) => {
                    return Err(Failure::Data(format!(
                        "{name}: the gRPC message at byte {pos} is compressed and cannot be read"
                    )))
                }
                Progress::Complete((false, n)) => break n,
                Progress::Partial(_) => match read_byte(&mut input).map_err(cannot_read)? {
                    Some(b) => prefix.push(b),
                    None if prefix.is_empty() => return Ok(()),
                    None => return Err(truncated(pos)),
                },
            }
        };
        let mut body = vec![0u8; body_len];
        input.read_exact(&mut body).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => truncated(pos),
            _ => cannot_read(e),
        })?;
        let before: &[u8] = if pos > 0 { b"\n" } else { b"" };
        write_text(options.kind, &body, before, out)
            .map_err(|e| invalid(e, pos + prefix.len()))??;
        pos += prefix.len() + body_len;
    }
}

fn encode(options: &Options, out: &mut dyn Write) -> Result<(), Failure> {
    let name = input_name(&options.file);
    let data = read_all(&options.file)?;
    let text = String::from_utf8(data).map_err(|e| {
        Failure::Data(format!(
            "{name}: input is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let bytes = atomix_headers::text::parse(options.kind, &text)
        .map_err(|e| Failure::Data(format!("{name}:{e}")))?;
    let bytes = framed(bytes, options.framing)?;
    if options.hex {
        let mut hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        hex.push('\n');
        out.write_all(hex.as_bytes())?;
    } else {
        out.write_all(&bytes)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match parse_args(&args) {
        Ok(Command::Help(text)) => out.write_all(text.as_bytes()).map_err(Failure::Output),
        Ok(Command::Version) => {
            writeln!(out, "atomix-headers {}", env!("CARGO_PKG_VERSION")).map_err(Failure::Output)
        }
        Ok(Command::Decode(options)) => decode(&options, &mut out),
        Ok(Command::Encode(options)) => encode(&options, &mut out),
        Err(usage) => Err(Failure::Usage(usage)),
    };
    // What was printed goes out before any error is reported.
    let flushed = out.flush();
    match (result, flushed) {
        (Err(Failure::Usage(message)), _) => {
            eprintln!("atomix-headers: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        (Err(Failure::Output(e)), _) | (Ok(()), Err(e)) => {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                // The reader has gone (`| head`): what it wanted, it has.
                return ExitCode::SUCCESS;
            }
            eprintln!("atomix-headers: cannot write the output: {e}");
            ExitCode::FAILURE
        }
        (Err(Failure::Data(message)), _) => {
            eprintln!("atomix-headers: {message}");
            ExitCode::FAILURE
        }
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
    }
}
