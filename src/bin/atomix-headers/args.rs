//! The command line: its usage and help texts, and what it asks for.

use atomix_headers::schema::MessageType;

/// How a message is framed, on input and output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// The message alone.
    None,
    /// A varint length prefix.
    Delimited,
    /// A gRPC prefix: flag 0 and a 4-byte big-endian length.
    Grpc,
}

pub const USAGE: &str = "\
atomix-headers: decode and encode Atomix protocol headers (atomix.headers)

Usage:
  atomix-headers decode <request|response|stream> [--envelope] [--hex] [--delimited|--grpc] [--max-frame-len N] [FILE]
  atomix-headers encode <request|response|stream> [--envelope] [--hex] [--delimited|--grpc] [FILE]
  atomix-headers <decode|encode> --help
  atomix-headers --version

Reads FILE, or standard input when there is none. Output is identical to
`protoc --decode=atomix.headers.<Type>` and `protoc --encode=atomix.headers.<Type>`
(with --envelope, `atomix.envelope.<Request|Response>Envelope` of
testdata/schema/atomix/envelope/envelope.proto: an Atomix primitive message seen
through its header, field 1).

Exit status: 0 on success, 1 when the input cannot be read as asked, 2 for a usage
error. A closed output (`| head`) ends the program quietly.

Examples:
  printf '0801' | xxd -r -p | atomix-headers decode stream
  echo '00 00000006 0a021007 1005' | atomix-headers decode request --envelope --grpc --hex
  echo 'session_id: 7 status: NOT_LEADER' | atomix-headers encode response --hex
";

/// The message types, as a usage error lists them.
const KINDS: &str = "request, response or stream";

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
  --max-frame-len N
               the largest frame body accepted, checked from its prefix before the
               body is read (default: 65536 with --delimited, 4194304 with --grpc,
               the library's defaults)

Frames are read and printed one at a time: the frames before a bad one are printed,
then the error.

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

/// What `decode` and `encode` are asked for.
pub struct Options {
    /// The message type.
    pub kind: MessageType,
    /// Binary in or out as hex text.
    pub hex: bool,
    pub framing: Framing,
    /// The largest frame accepted, with a framing.
    pub max_frame_len: Option<usize>,
    /// The input file; standard input when `None`.
    pub file: Option<String>,
}

/// What the command line asks for.
pub enum Command {
    Decode(Options),
    Encode(Options),
    Help(&'static str),
    Version,
}

pub fn parse_args(args: &[String]) -> Result<Command, String> {
    let (command, rest) = args
        .split_first()
        .ok_or("missing command (decode or encode)")?;
    let help = match command.as_str() {
        "decode" => DECODE_HELP,
        "encode" => ENCODE_HELP,
        "-h" | "--help" | "help" => return Ok(Command::Help(USAGE)),
        "-V" | "--version" => return Ok(Command::Version),
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
        max_frame_len: None,
        file: None,
    };
    let frame = |options: &mut Options, framing| {
        if options.framing != Framing::None && options.framing != framing {
            return Err("--delimited and --grpc cannot be combined".to_owned());
        }
        options.framing = framing;
        Ok(())
    };
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help(help)),
            "--hex" => options.hex = true,
            "--delimited" => frame(&mut options, Framing::Delimited)?,
            "--grpc" => frame(&mut options, Framing::Grpc)?,
            "--envelope" => envelope = true,
            "--max-frame-len" if command == "decode" => {
                let n = rest
                    .next()
                    .ok_or("--max-frame-len needs a number of bytes")?;
                options.max_frame_len = Some(
                    n.parse()
                        .map_err(|_| format!("--max-frame-len {n:?} is not a number of bytes"))?,
                );
            }
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
            other if kind.is_none() => {
                return Err(format!("unknown message type {other:?} (expected {KINDS})"))
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    if options.max_frame_len.is_some() && options.framing == Framing::None {
        return Err("--max-frame-len goes with --delimited or --grpc".to_owned());
    }
    options.kind = match (
        kind.ok_or_else(|| format!("missing message type ({KINDS})"))?,
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
