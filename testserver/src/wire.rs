//! Protobuf by hand: the few field shapes the Atomix messages here use.

/// Appends `v` as a varint.
pub fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a varint field, unless it is 0 (proto3 leaves defaults out).
pub fn varint_field(number: u64, value: u64, out: &mut Vec<u8>) {
    if value != 0 {
        varint(number << 3, out);
        varint(value, out);
    }
}

/// Appends a length-delimited field, unless it is empty.
pub fn bytes_field(number: u64, value: &[u8], out: &mut Vec<u8>) {
    if !value.is_empty() {
        message_field(number, value, out);
    }
}

/// Appends a length-delimited field, even empty (an embedded message that is set).
pub fn message_field(number: u64, value: &[u8], out: &mut Vec<u8>) {
    varint(number << 3 | 2, out);
    varint(value.len() as u64, out);
    out.extend_from_slice(value);
}

/// One gRPC frame: flag 0, length, message.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + message.len());
    out.push(0);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The operation's fields after the header, read as the reference runtime reads a
/// singular field: the last occurrence wins. Unknown shapes are skipped.
#[derive(Debug, Default)]
pub struct Fields<'a> {
    varints: Vec<(u32, u64)>,
    bytes: Vec<(u32, &'a [u8])>,
}

impl<'a> Fields<'a> {
    /// Reads `buf`'s fields; `None` if it is not protobuf.
    pub fn read(mut buf: &'a [u8]) -> Option<Self> {
        let mut f = Fields::default();
        while !buf.is_empty() {
            let (tag, rest) = read_varint(buf)?;
            buf = rest;
            let number = (tag >> 3) as u32;
            match tag & 7 {
                0 => {
                    let (v, rest) = read_varint(buf)?;
                    f.varints.push((number, v));
                    buf = rest;
                }
                2 => {
                    let (len, rest) = read_varint(buf)?;
                    let len = usize::try_from(len).ok()?;
                    if rest.len() < len {
                        return None;
                    }
                    f.bytes.push((number, &rest[..len]));
                    buf = &rest[len..];
                }
                1 => buf = buf.get(8..)?,
                5 => buf = buf.get(4..)?,
                _ => return None,
            }
        }
        Some(f)
    }

    /// The last varint field `number`, or 0.
    pub fn varint(&self, number: u32) -> u64 {
        self.varints
            .iter()
            .rev()
            .find(|(n, _)| *n == number)
            .map_or(0, |(_, v)| *v)
    }

    /// The last length-delimited field `number`, or empty.
    pub fn bytes(&self, number: u32) -> &'a [u8] {
        self.bytes
            .iter()
            .rev()
            .find(|(n, _)| *n == number)
            .map_or(&[][..], |(_, v)| *v)
    }

    /// Field `number` as a string (lossy: the proxy checks UTF-8 before it forwards).
    pub fn string(&self, number: u32) -> String {
        String::from_utf8_lossy(self.bytes(number)).into_owned()
    }
}

fn read_varint(buf: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some((v, &buf[i + 1..]));
        }
    }
    None
}

/// A `google.protobuf.Duration` message's seconds and nanos as a duration.
pub fn duration(message: &[u8]) -> Option<std::time::Duration> {
    let f = Fields::read(message)?;
    let (secs, nanos) = (f.varint(1), f.varint(2) as u32);
    (secs != 0 || nanos != 0).then(|| std::time::Duration::new(secs, nanos))
}
