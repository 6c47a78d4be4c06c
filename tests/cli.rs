//! The `atomix-headers` command against protoc's own output: every golden fixture decodes
//! to exactly what `protoc --decode` printed, every text source and syntax case encodes to
//! exactly what `protoc --encode` wrote, and text round-trips over the conformance corpus.

mod common;
use atomix_headers::schema::MessageType;
use common::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atomix-headers"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn path(rel: &str) -> String {
    testdata(rel).to_string_lossy().into_owned()
}

#[test]
fn decode_prints_what_protoc_printed_for_every_fixture() {
    for row in rows("fixtures/cases.tsv") {
        let (name, kind) = (&row[0], &row[1]);
        let out = run(
            &["decode", kind, &path(&format!("fixtures/{name}.bin"))],
            b"",
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.stdout,
            read(&format!("fixtures/{name}.decoded.txt")),
            "{name}"
        );
    }
}

#[test]
fn encode_writes_what_protoc_wrote() {
    let fixtures = rows("fixtures/cases.tsv")
        .into_iter()
        .filter(|r| r[2] == "headers")
        .map(|r| ("fixtures", r));
    let syntax = rows("encode/cases.tsv").into_iter().map(|r| ("encode", r));
    let mut count = 0;
    for (dir, row) in fixtures.chain(syntax) {
        let (name, kind) = (&row[0], &row[1]);
        let out = run(&["encode", kind, &path(&format!("{dir}/{name}.txt"))], b"");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.stdout,
            read(&format!("{dir}/{name}.bin")),
            "{dir}/{name}"
        );
        count += 1;
    }
    assert!(count >= 30, "{count} cases");
}

#[test]
fn stdin_hex_and_delimited() {
    let typical = read("fixtures/request_typical.bin");
    let text = read("fixtures/request_typical.decoded.txt");
    let hex: String = typical.iter().map(|b| format!("{b:02x} ")).collect();
    let out = run(&["decode", "request", "--hex"], hex.as_bytes());
    assert_eq!(out.stdout, text);

    let mut frames = vec![typical.len() as u8];
    frames.extend_from_slice(typical);
    frames.push(0);
    frames.push(typical.len() as u8);
    frames.extend_from_slice(typical);
    let out = run(&["decode", "request", "--delimited"], &frames);
    let expected = [text, b"\n", b"\n", text].concat();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&expected)
    );

    let out = run(
        &["encode", "request", "--delimited", "--hex"],
        read("fixtures/request_typical.txt"),
    );
    let want: String = [&[typical.len() as u8][..], typical]
        .concat()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want + "\n");
}

/// Where protoc logs an error and still writes a string that is not UTF-8 (bytes upb
/// would then reject), the command refuses, names the place, and writes nothing.
#[test]
fn a_string_that_is_not_utf8_is_refused() {
    let out = run(
        &["encode", "response"],
        b"session_id: 1\nleader: \"ok\\xff\"\n",
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("<stdin>:2:9: string field is not valid UTF-8"),
        "{err}"
    );
    // Escapes that make valid UTF-8 are fine: \303\251 is é.
    let out = run(
        &["encode", "response", "--hex"],
        b"leader: \"\\303\\251\"\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "2a02c3a9");
}

#[test]
fn errors_go_to_stderr_with_a_location_and_nothing_to_stdout() {
    let out = run(&["decode", "response"], &[0x08, 0x01, 0x2a, 0x05, b'a']);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("ResponseHeader at byte 3 (leader)"), "{err}");

    // A bad second frame: the first frame is printed, then the error.
    let out = run(
        &["decode", "stream", "--delimited"],
        &[0x02, 0x08, 0x01, 0x02, 0x08, 0x80],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"stream_id: 1\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("<stdin>: invalid"), "{err}");
    assert!(err.contains("at byte 5 (stream_id)"), "{err}");

    let out = run(&["encode", "response"], b"session_id: 1\nleader: 5\n");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("<stdin>:2:9: expected a string"), "{err}");

    let out = run(&["decode", "resp"], b"");
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("Usage:"), "{err}");
    assert!(
        err.contains("\"resp\" (expected request, response or stream)"),
        "{err}"
    );
}

#[test]
fn exit_codes_version_and_top_level_help() {
    for (args, code) in [
        (&["decode"][..], 2),
        (&["nonsense"], 2),
        (&["decode", "stream", "--bogus"], 2),
        (&["decode", "stream", "--max-frame-len", "x", "--grpc"], 2),
        (&["decode", "stream", "--max-frame-len", "9"], 2),
        (&["decode", "stream", "/no/such/file"], 1),
        (&["decode", "stream"], 0),
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
    let out = run(&["decode", "stream"], b"\x08");
    assert_eq!(out.status.code(), Some(1), "bad data");
    let out = run(&["--version"], b"");
    assert_eq!(out.status.code(), Some(0));
    let version = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        version,
        format!("atomix-headers {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = run(&["--help"], b"");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("Examples:") && help.contains("--max-frame-len"),
        "{help}"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // 200,000 frames print far more than a pipe holds; the reader takes one line.
    let mut input = Vec::new();
    for _ in 0..200_000 {
        input.extend_from_slice(&[0x02, 0x08, 0x01]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_atomix-headers"))
        .args(["decode", "stream", "--delimited"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 12];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"stream_id: 1");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "");
}

#[test]
fn frame_limits_are_checked_from_the_prefix() {
    // A gRPC prefix announcing 4 GiB - 1, and an input that stays open: refused at once,
    // without waiting for the body.
    let mut child = Command::new(env!("CARGO_BIN_EXE_atomix-headers"))
        .args(["decode", "stream", "--grpc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&[0, 0xff, 0xff, 0xff, 0xff]).unwrap();
    stdin.flush().unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "waited for the body"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    drop(stdin);
    assert_eq!(status.code(), Some(1));
    // --max-frame-len: a 2-byte body passes at 2 and fails at 1, in both framings.
    for (framing, frame) in [
        ("--grpc", &[0, 0, 0, 0, 2, 8, 1][..]),
        ("--delimited", &[2, 8, 1]),
    ] {
        let out = run(
            &["decode", "stream", framing, "--max-frame-len", "2"],
            frame,
        );
        assert_eq!(out.status.code(), Some(0), "{framing}");
        assert_eq!(out.stdout, b"stream_id: 1\n");
        let out = run(
            &["decode", "stream", framing, "--max-frame-len", "1"],
            frame,
        );
        assert_eq!(out.status.code(), Some(1), "{framing}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("at byte"), "{err}");
    }
    // Truncated frames say where.
    let out = run(&["decode", "stream", "--grpc"], &[0, 0, 0, 0, 2, 8]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("ends inside the frame at byte 0"));
}

#[test]
fn help_shows_an_example() {
    for command in ["decode", "encode"] {
        let out = run(&[command, "--help"], b"");
        assert!(out.status.success());
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(
            help.contains("Example:") && help.contains(command),
            "{help}"
        );
    }
}

#[test]
fn text_round_trips_over_the_conformance_corpus() {
    let mut checked = 0;
    for kind in KINDS {
        let message = match kind {
            "request" => MessageType::RequestHeader,
            "response" => MessageType::ResponseHeader,
            "request_envelope" => MessageType::RequestEnvelope,
            "response_envelope" => MessageType::ResponseEnvelope,
            _ => MessageType::StreamHeader,
        };
        for row in rows(&format!("conformance/{kind}.tsv")) {
            if row[1] != "OK" {
                continue;
            }
            let input = unhex(&row[0]);
            let decoded = decode(kind, &input).unwrap();
            // Unknown fields print as numbers, which text format cannot take back.
            if decoded
                .text
                .lines()
                .any(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            {
                continue;
            }
            let bytes = atomix_headers::text::parse(message, &decoded.text)
                .unwrap_or_else(|e| panic!("{kind} {}: {e}\n{}", row[0], decoded.text));
            assert_eq!(bytes, unhex(&row[2]), "{kind} {}", row[0]);
            checked += 1;
        }
    }
    assert!(
        checked > 2_000,
        "only {checked} inputs without unknown fields"
    );
}

#[test]
fn envelopes_in_grpc_frames_decode_and_encode_as_protoc_would() {
    // Two IncrementRequests: header { session_id: 7 } delta: 5, and one with the header
    // after the operation's field.
    let frames = "00 00000006 0a021007 1005\n00 00000006 1005 0a021007\n";
    let out = run(
        &["decode", "request", "--envelope", "--grpc", "--hex"],
        frames.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let one = "header {\n  session_id: 7\n}\n2: 5\n";
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{one}\n{one}")
    );

    let out = run(
        &["encode", "response", "--envelope", "--grpc", "--hex"],
        b"header { status: NOT_LEADER leader: \"n2:5678\" }",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "000000000d0a0b2a076e323a353637383002\n"
    );

    // A compressed message is refused by name; an envelope of a stream is not a thing.
    let out = run(
        &["decode", "request", "--envelope", "--grpc", "--hex"],
        b"01 00000000",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("compressed"));
    let out = run(&["decode", "stream", "--envelope"], b"");
    assert!(!out.status.success());
    let out = run(&["decode", "request", "--grpc", "--delimited"], b"");
    assert!(!out.status.success());
}

#[test]
fn a_failed_write_is_reported_with_the_os_message() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux: nothing to check here
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_atomix-headers"))
        .args(["decode", "stream", "--hex"])
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"0801").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("cannot write the output") && stderr.contains("No space left"),
        "{stderr}"
    );
}

#[test]
fn hex_input_errors_name_the_byte() {
    let out = run(&["decode", "stream", "--hex"], b"08 0x");
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("byte 4 of the hex input is not a hex digit"),
        "{stderr}"
    );
    let out = run(&["decode", "stream", "--hex"], b"080");
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("odd number of digits"));
}

#[test]
fn output_is_streamed_not_held() {
    // 4 MB of nested unknown groups print as 208 MB of text. Read the start of it and
    // stop reading: the program blocks on the full pipe, and its memory then is the
    // input's, not the text's (building the text first would hold all 208 MB).
    let input: Vec<u8> = [[0x4bu8; 50], [0x4c; 50]].concat().repeat(40_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_atomix-headers"))
        .args(["decode", "response"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut stdout = child.stdout.take().unwrap();
    let mut start = vec![0u8; 64 * 1024];
    std::io::Read::read_exact(&mut stdout, &mut start).unwrap();
    assert!(start.starts_with(b"9 {\n  9 {\n"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        rss_kib < 48 * 1024,
        "{rss_kib} KiB while printing a 4 MB input"
    );
    drop(stdout);
    writer.join().unwrap().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "a closed pipe ends quietly");
}
