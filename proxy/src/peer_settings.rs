//! What a replica advertises in its HTTP/2 SETTINGS that h2 does not tell its user:
//! SETTINGS_MAX_HEADER_LIST_SIZE. h2 sends any header list whatever the peer said; a
//! replica that gets one over its limit may close the whole connection, failing every
//! other call on it. The proxy reads the setting off the bytes as they arrive and
//! refuses such a call itself (`attempt`).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// HTTP/2 frame header length, and SETTINGS' numbers (RFC 9113, 4.1 and 6.5).
const FRAME_HEAD: usize = 9;
const SETTINGS: u8 = 0x4;
const ACK: u8 = 0x1;
const MAX_HEADER_LIST_SIZE: u16 = 0x6;

/// The peer's SETTINGS_MAX_HEADER_LIST_SIZE; `u32::MAX` until it says one (RFC 9113:
/// the initial value is unlimited).
#[derive(Clone, Debug)]
pub struct PeerLimit(Arc<AtomicU32>);

impl PeerLimit {
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

/// An I/O stream that reads the frames passing through it as far as SETTINGS. It
/// keeps no frame: a frame header (9 bytes) and one setting (6 bytes) at most.
pub struct Watched<T> {
    inner: T,
    limit: PeerLimit,
    head: [u8; FRAME_HEAD],
    head_len: usize,
    /// Payload bytes of the current frame still to pass.
    left: usize,
    /// Whether the current frame is a SETTINGS frame (not an ACK).
    settings: bool,
    entry: [u8; 6],
    entry_len: usize,
}

impl<T> Watched<T> {
    pub fn new(inner: T) -> (Self, PeerLimit) {
        let limit = PeerLimit(Arc::new(AtomicU32::new(u32::MAX)));
        let watched = Watched {
            inner,
            limit: limit.clone(),
            head: [0; FRAME_HEAD],
            head_len: 0,
            left: 0,
            settings: false,
            entry: [0; 6],
            entry_len: 0,
        };
        (watched, limit)
    }

    /// Follows the frames in `data`, the next bytes the peer sent.
    fn scan(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.left == 0 && self.head_len == 0 && data.len() >= FRAME_HEAD {
                // A whole frame header in the buffer: read in place.
                let h = &data[..FRAME_HEAD];
                self.left = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
                self.settings = h[3] == SETTINGS && h[4] & ACK == 0;
                self.entry_len = 0;
                data = &data[FRAME_HEAD..];
                continue;
            }
            if self.left == 0 {
                let take = (FRAME_HEAD - self.head_len).min(data.len());
                self.head[self.head_len..self.head_len + take].copy_from_slice(&data[..take]);
                self.head_len += take;
                data = &data[take..];
                if self.head_len == FRAME_HEAD {
                    let h = self.head;
                    self.head_len = 0;
                    self.left = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
                    self.settings = h[3] == SETTINGS && h[4] & ACK == 0;
                    self.entry_len = 0;
                }
                continue;
            }
            let take = self.left.min(data.len());
            if self.settings {
                for &b in &data[..take] {
                    self.entry[self.entry_len] = b;
                    self.entry_len += 1;
                    if self.entry_len == self.entry.len() {
                        self.entry_len = 0;
                        let e = self.entry;
                        if u16::from_be_bytes([e[0], e[1]]) == MAX_HEADER_LIST_SIZE {
                            let value = u32::from_be_bytes([e[2], e[3], e[4], e[5]]);
                            self.limit.0.store(value, Ordering::Relaxed);
                        }
                    }
                }
            }
            self.left -= take;
            data = &data[take..];
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let filled = &buf.filled()[before..];
            // `scan` needs `&mut self` while `filled` borrows `buf`, not `self`.
            self.scan(filled);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The size of a header list as HTTP/2 counts it against SETTINGS_MAX_HEADER_LIST_SIZE:
/// each field's name and value, plus 32; pseudo-headers included. `each` sees every
/// regular field on the way, so that a caller reads what it needs in the same pass.
pub fn header_list_size<'r, B>(
    request: &'r http::Request<B>,
    mut each: impl FnMut(&'r http::HeaderName, &'r http::HeaderValue),
) -> usize {
    let field = |name: &str, value: &str| name.len() + value.len() + 32;
    let uri = request.uri();
    let pseudo = field(":method", request.method().as_str())
        + field(":scheme", uri.scheme_str().unwrap_or_default())
        + field(":authority", uri.authority().map_or("", |a| a.as_str()))
        + field(":path", uri.path_and_query().map_or("", |p| p.as_str()));
    let mut fields = 0;
    for (name, value) in request.headers() {
        each(name, value);
        fields += name.as_str().len() + value.len() + 32;
    }
    pseudo + fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut out = len.to_be_bytes()[1..].to_vec();
        out.extend_from_slice(&[kind, flags, 0, 0, 0, 0]);
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn reads_the_setting_at_any_split() {
        let mut bytes = frame(0x0, 0, &[7; 20]); // DATA that looks like nothing
        bytes.extend(frame(
            SETTINGS,
            0,
            &[0, 3, 0, 0, 0, 100, 0, 6, 0, 0, 0x10, 0],
        ));
        bytes.extend(frame(SETTINGS, ACK, &[]));
        bytes.extend(frame(0x0, 0, &[0, 6, 0, 0, 0, 1])); // a setting's shape in DATA
        for cut in 0..bytes.len() {
            let (mut w, limit) = Watched::new(());
            assert_eq!(limit.get(), u32::MAX);
            w.scan(&bytes[..cut]);
            w.scan(&bytes[cut..]);
            assert_eq!(limit.get(), 4096, "cut at {cut}");
        }
        let (mut w, limit) = Watched::new(());
        for b in &bytes {
            w.scan(std::slice::from_ref(b));
        }
        assert_eq!(limit.get(), 4096);
    }
}
