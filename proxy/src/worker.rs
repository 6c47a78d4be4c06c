//! Which worker thread runs the code at hand. Each worker is a current-thread runtime
//! with its own listening sockets and its own replica connections; everything else
//! (partitions and their leaders, sessions, metrics) is the process's.

use std::cell::Cell;

thread_local! {
    static WORKER: Cell<usize> = const { Cell::new(0) };
}

/// This thread's worker number, from 0; 0 on a thread that is not a worker.
pub fn current() -> usize {
    WORKER.with(Cell::get)
}

/// Makes this thread worker `n`.
pub fn enter(n: usize) {
    WORKER.with(|w| w.set(n));
}
