//! `atomix-headers`: decode and encode Atomix headers from the shell, byte for byte as
//! `protoc --decode` and `protoc --encode` do, without protoc or the .proto files.

mod text_parse;

use atomix_headers::schema::MessageType;
use atomix_headers::{
    DecodeError, Message, Progress, RequestEnvelope, RequestHeader, ResponseEnvelope,
    ResponseHeader, StreamHeader,
};
use std::io::{Read, Write};
use std::process::ExitCode;
use text_parse::Framing;

const USAGE: &str = "\
atomix-headers: decode and encode Atomix protocol headers (atomix.headers)

Usage:
  atomix-headers decode <request|response|stream> [--envelope] [--hex] [--delimited|--grpc] [FILE]
  atomix-headers encode <request|response|stream> [--envelope] [--hex] [--delimited|--grpc] [FILE]
  atomix-headers <decode|encode> --help

Reads FILE, or standard input when there is none. Output is identical to
`protoc --decode=atomix.headers.<Type>` and `protoc --encode=atomix.headers.<Type>`
(with --envelope, `atomix.envelope.<Request|Response>Envelope` of
testdata/schema/atomix/envelope/envelope.proto: an Atomix primitive message seen
through its header, field 1).
";

const DECODE_HELP: &str = "\
atomix-headers decode <request|response|stream> [--envelope] [--hex] [--delimited|--grpc] [FILE]

Reads one binary message and prints it in protobuf text format, exactly as
`protoc --decode=atomix.headers.<Type>` prints it, unknown fields included.

  --envelope   the input is an Atomix primitive request or response (IncrementRequest,
               PutResponse, ...): its header is field 1, its other fields print by
               number, as `protoc --decode=atomix.envelope.RequestEnvelope` prints them
  --hex        the input is hex text (whitespace ignored) instead of binary
  --delimited  the input is a stream of varint-length-prefixed messages; each is
               printed, separated by a blank line
  --grpc       the input is a stream of gRPC-framed messages (flag byte, 4-byte
               big-endian length); each is printed, separated by a blank line

Example:
  printf '0801' | xxd -r -p | atomix-headers decode stream
  echo '2a 02 08 05' | atomix-headers decode request --hex
  echo '00 00000006 0a021007 1005' | atomix-headers decode request --envelope --grpc --hex
";

const ENCODE_HELP: &str = "\
atomix-headers encode <request|response|stream> [--envelope] [--hex] [--delimited|--grpc] [FILE]

Reads protobuf text format and writes the binary message, exactly as
`protoc --encode=atomix.headers.<Type>` writes it.

  --envelope   read `header { ... }`, an atomix.envelope.RequestEnvelope (or
               ResponseEnvelope): a primitive message holding only its header
  --hex        write hex text instead of binary
  --delimited  prefix the message with its varint length
  --grpc       prefix the message with a gRPC prefix (flag 0, 4-byte length)

Example:
  echo 'session_id: 7 status: NOT_LEADER leader: \"node-2:5678\"' | atomix-headers encode response --hex
";

struct Options {
    kind: MessageType,
    hex: bool,
    framing: Framing,
    file: Option<String>,
}

enum Command {
    Decode(Options),
    Encode(Options),
    Help(&'static str),
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    let (command, rest) = args
        .split_first()
        .ok_or("missing command (decode or encode)")?;
    let help = match command.as_str() {
        "decode" => DECODE_HELP,
        "encode" => ENCODE_HELP,
        "-h" | "--help" | "help" => return Ok(Command::Help(USAGE)),
        other => {
            return Err(format!(
                "unknown command {other:?} (expected decode or encode)"
            ))
        }
    };
    let mut kind = None;
    let mut envelope = false;
    let mut options = Options {
        kind: MessageType::StreamHeader,
        hex: false,
        framing: Framing::None,
        file: None,
    };
    let frame = |options: &mut Options, framing| {
        if options.framing != Framing::None && options.framing != framing {
            return Err("--delimited and --grpc cannot be combined".to_owned());
        }
        options.framing = framing;
        Ok(())
    };
    for arg in rest {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help(help)),
            "--hex" => options.hex = true,
            "--delimited" => frame(&mut options, Framing::Delimited)?,
            "--grpc" => frame(&mut options, Framing::Grpc)?,
            "--envelope" => envelope = true,
            "request" | "response" | "stream" if kind.is_none() => {
                kind = Some(match arg.as_str() {
                    "request" => MessageType::RequestHeader,
                    "response" => MessageType::ResponseHeader,
                    _ => MessageType::StreamHeader,
                })
            }
            flag if flag.starts_with('-') && flag != "-" => {
                return Err(format!("unknown option {flag}"))
            }
            file if kind.is_some() && options.file.is_none() => {
                options.file = Some(file.to_owned())
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    options.kind = match (
        kind.ok_or("missing message type (request, response or stream)")?,
        envelope,
    ) {
        (kind, false) => kind,
        (MessageType::RequestHeader, true) => MessageType::RequestEnvelope,
        (MessageType::ResponseHeader, true) => MessageType::ResponseEnvelope,
        _ => return Err("--envelope takes request or response".to_owned()),
    };
    Ok(if command == "decode" {
        Command::Decode(options)
    } else {
        Command::Encode(options)
    })
}

fn read_input(file: &Option<String>) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    match file.as_deref() {
        None | Some("-") => std::io::stdin().read_to_end(&mut data).map(drop),
        Some(path) => std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut data))
            .map(drop),
    }
    .map_err(|e| {
        format!(
            "cannot read {}: {e}",
            file.as_deref().unwrap_or("standard input")
        )
    })?;
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

fn to_text(kind: MessageType, data: &[u8]) -> Result<String, DecodeError> {
    Ok(match kind {
        MessageType::RequestHeader => RequestHeader::decode(data)?.to_string(),
        MessageType::ResponseHeader => ResponseHeader::decode(data)?.to_string(),
        MessageType::RequestEnvelope => RequestEnvelope::decode(data)?.to_string(),
        MessageType::ResponseEnvelope => ResponseEnvelope::decode(data)?.to_string(),
        _ => StreamHeader::decode(data)?.to_string(),
    })
}

fn decode(options: &Options) -> Result<Vec<u8>, String> {
    let mut data = read_input(&options.file)?;
    if options.hex {
        data = unhex(&data)?;
    }
    let fail = |e: DecodeError, base: usize| {
        let at = base + e.offset();
        let field = e
            .field()
            .map(|f| format!(" (field {f})"))
            .unwrap_or_default();
        format!("invalid {} at byte {at}{field}: {}", options.kind, e.kind())
    };
    if options.framing == Framing::None {
        return to_text(options.kind, &data)
            .map(String::into_bytes)
            .map_err(|e| fail(e, 0));
    }
    let mut out = String::new();
    let mut pos = 0;
    while pos < data.len() {
        let rest = &data[pos..];
        let split = match options.framing {
            Framing::Grpc => atomix_headers::grpc::split(rest, usize::MAX).map(|s| match s {
                Progress::Complete(frame) if frame.compressed => Err(format!(
                    "the gRPC message at byte {pos} is compressed and cannot be read"
                )),
                Progress::Complete(frame) => Ok(Progress::Complete(frame.body)),
                Progress::Partial(needed) => Ok(Progress::Partial(needed)),
            }),
            _ => atomix_headers::framing::split_frame(rest, usize::MAX).map(|s| match s {
                Progress::Complete(frame) => Ok(Progress::Complete(frame.body)),
                Progress::Partial(needed) => Ok(Progress::Partial(needed)),
            }),
        };
        let body = match split.map_err(|e| fail(e, pos))?? {
            Progress::Complete(body) => body,
            Progress::Partial(needed) => {
                return Err(format!(
                    "input ends inside the frame at byte {pos}: {needed} more bytes needed"
                ))
            }
        };
        let text =
            to_text(options.kind, &rest[body.clone()]).map_err(|e| fail(e, pos + body.start))?;
        if pos > 0 {
            out.push('\n');
        }
        out.push_str(&text);
        pos += body.end;
    }
    Ok(out.into_bytes())
}

fn encode(options: &Options) -> Result<Vec<u8>, String> {
    let data = read_input(&options.file)?;
    let text = String::from_utf8(data).map_err(|e| {
        format!(
            "input is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let name = options.file.as_deref().unwrap_or("input");
    let out = text_parse::encode_text(options.kind, &text, options.framing)
        .map_err(|e| format!("{name}:{e}"))?;
    if options.hex {
        let mut hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        hex.push('\n');
        return Ok(hex.into_bytes());
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse_args(&args) {
        Ok(Command::Help(text)) => Ok(text.as_bytes().to_vec()),
        Ok(Command::Decode(options)) => decode(&options),
        Ok(Command::Encode(options)) => encode(&options),
        Err(usage) => Err(format!("{usage}\n\n{USAGE}")),
    };
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout.write_all(&out).and_then(|()| stdout.flush()) {
                eprintln!("atomix-headers: cannot write the output: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("atomix-headers: {message}");
            ExitCode::FAILURE
        }
    }
}
