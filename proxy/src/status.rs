//! gRPC statuses as the proxy answers them: codes by name, `grpc-timeout`, and the
//! trailers-only responses of calls that end before any message.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;

/// A gRPC status code (the numbers are the wire contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code(pub u32);

impl Code {
    pub const OK: Code = Code(0);
    pub const CANCELLED: Code = Code(1);
    pub const UNKNOWN: Code = Code(2);
    pub const INVALID_ARGUMENT: Code = Code(3);
    pub const DEADLINE_EXCEEDED: Code = Code(4);
    pub const NOT_FOUND: Code = Code(5);
    pub const PERMISSION_DENIED: Code = Code(7);
    pub const RESOURCE_EXHAUSTED: Code = Code(8);
    pub const FAILED_PRECONDITION: Code = Code(9);
    pub const UNIMPLEMENTED: Code = Code(12);
    pub const INTERNAL: Code = Code(13);
    pub const UNAVAILABLE: Code = Code(14);
    pub const UNAUTHENTICATED: Code = Code(16);

    /// The code's name, as gRPC spells it (`OK`, `NOT_FOUND`, ...): the metrics' label.
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 17] = [
            "OK",
            "CANCELLED",
            "UNKNOWN",
            "INVALID_ARGUMENT",
            "DEADLINE_EXCEEDED",
            "NOT_FOUND",
            "ALREADY_EXISTS",
            "PERMISSION_DENIED",
            "RESOURCE_EXHAUSTED",
            "FAILED_PRECONDITION",
            "ABORTED",
            "OUT_OF_RANGE",
            "UNIMPLEMENTED",
            "INTERNAL",
            "UNAVAILABLE",
            "DATA_LOSS",
            "UNAUTHENTICATED",
        ];
        NAMES.get(self.0 as usize).copied().unwrap_or("UNKNOWN")
    }

    /// The code in a `grpc-status` header; UNKNOWN for anything unreadable, as gRPC
    /// clients take it.
    pub fn from_header(value: Option<&HeaderValue>) -> Code {
        value
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u32>().ok())
            .map_or(Code::UNKNOWN, Code)
    }

    /// What a gRPC client makes of an HTTP status other than 200 (gRPC's
    /// http-grpc-status-mapping).
    pub fn from_http(status: http::StatusCode) -> Code {
        match status.as_u16() {
            400 => Code::INTERNAL,
            401 => Code::UNAUTHENTICATED,
            403 => Code::PERMISSION_DENIED,
            404 => Code::UNIMPLEMENTED,
            429 | 502..=504 => Code::UNAVAILABLE,
            _ => Code::UNKNOWN,
        }
    }
}

/// A status the proxy gives: its code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub message: String,
}

impl Status {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Status {
            code,
            message: message.into(),
        }
    }

    /// `grpc-status` and `grpc-message` (percent-encoded, as the spec asks).
    pub fn to_headers(&self, headers: &mut HeaderMap) {
        headers.insert(GRPC_STATUS, HeaderValue::from(self.code.0));
        if !self.message.is_empty() {
            let encoded = percent_encode(&self.message);
            if let Ok(value) = HeaderValue::from_str(&encoded) {
                headers.insert(GRPC_MESSAGE, value);
            }
        }
    }

    /// The whole answer of a call that ends with this status before any message: one
    /// HEADERS frame with the status in it.
    pub fn trailers_only(&self) -> http::Response<()> {
        let mut response = http::Response::new(());
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        self.to_headers(headers);
        response
    }

    /// The trailers of a call that ends with this status after its headers were sent.
    pub fn trailers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        self.to_headers(&mut headers);
        headers
    }
}

pub const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
pub const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
pub const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// Percent-encodes what gRPC's `grpc-message` may not carry as it is.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A `grpc-timeout` value: up to 8 digits and a unit (H, M, S, m, u, n). `None` for a
/// malformed one, which gRPC servers treat as absent.
pub fn parse_timeout(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?;
    if text.len() < 2 || text.len() > 9 {
        return None;
    }
    let (digits, unit) = text.split_at(text.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// `remaining` as a `grpc-timeout` value, rounded up to the unit that keeps it within
/// 8 digits, so the upstream never sees more time than the call has, nor zero.
pub fn format_timeout(remaining: Duration) -> HeaderValue {
    let micros = remaining.as_micros().max(1);
    let (value, unit) = if micros < 100_000_000 {
        (micros, 'u')
    } else {
        let millis = remaining.as_millis();
        if millis < 100_000_000 {
            (millis, 'm')
        } else {
            (remaining.as_secs().min(99_999_999) as u128, 'S')
        }
    };
    HeaderValue::from_str(&format!("{value}{unit}")).expect("digits and a letter")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_and_write() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(parse_timeout(&v("2S")), Some(Duration::from_secs(2)));
        assert_eq!(parse_timeout(&v("150m")), Some(Duration::from_millis(150)));
        assert_eq!(parse_timeout(&v("1H")), Some(Duration::from_secs(3600)));
        assert_eq!(
            parse_timeout(&v("99999999n")),
            Some(Duration::from_nanos(99_999_999))
        );
        for bad in ["", "S", "123456789S", "1x", "-1S", "1.5S", " 1S"] {
            assert_eq!(
                parse_timeout(&HeaderValue::from_str(bad).unwrap()),
                None,
                "{bad:?}"
            );
        }
        for d in [
            Duration::from_nanos(1),
            Duration::from_millis(1500),
            Duration::from_secs(200),
            Duration::from_secs(400_000),
            Duration::from_secs(u64::MAX / 2),
        ] {
            let back = parse_timeout(&format_timeout(d)).unwrap();
            assert!(
                back >= d.min(Duration::from_secs(99_999_999)),
                "{d:?} -> {back:?}"
            );
            assert!(!back.is_zero());
        }
    }

    #[test]
    fn statuses_are_headers() {
        let s = Status::new(Code::UNAVAILABLE, "upstream 10.0.0.1:5678 lost: 100%\n");
        let h = s.trailers();
        assert_eq!(h[GRPC_STATUS], "14");
        assert_eq!(h[GRPC_MESSAGE], "upstream 10.0.0.1:5678 lost: 100%25%0A");
        assert_eq!(Code::from_header(h.get(GRPC_STATUS)), Code::UNAVAILABLE);
        assert_eq!(Code::from_header(None), Code::UNKNOWN);
        assert_eq!(Code::UNAVAILABLE.name(), "UNAVAILABLE");
        assert_eq!(Code(99).name(), "UNKNOWN");
        assert_eq!(
            Code::from_http(http::StatusCode::SERVICE_UNAVAILABLE),
            Code::UNAVAILABLE
        );
    }
}
