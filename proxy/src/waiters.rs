//! Tasks that wait for a condition another task makes true: a stream freed on a replica
//! connection, a session's command given out. Waking costs an atomic load when no one
//! waits, which is almost always.

use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;

/// A [`Notify`] with a count of its waiters.
#[derive(Debug, Default)]
pub struct Waiters {
    waiting: AtomicUsize,
    notify: Notify,
}

impl Waiters {
    /// Wakes one waiter, if any: one more of something they wait for.
    pub fn wake_one(&self) {
        if self.waiting.load(Ordering::Relaxed) > 0 {
            self.notify.notify_one();
        }
    }

    /// Wakes every waiter, if any: each checks its own condition again.
    pub fn wake_all(&self) {
        if self.waiting.load(Ordering::Relaxed) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// `ready()`'s first `Some`: asked at once, then again after each wake-up.
    pub async fn until<T>(&self, mut ready: impl FnMut() -> Option<T>) -> T {
        if let Some(t) = ready() {
            return t;
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        // Counted out however the wait ends (the waiting future may be dropped).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let _waiting = Waiting(&self.waiting);
        loop {
            // Registered before `ready` is asked: a wake-up in between is not missed.
            let woken = self.notify.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Some(t) = ready() {
                return t;
            }
            woken.await;
        }
    }
}
