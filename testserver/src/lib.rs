//! A stand-in for the 2020 Atomix server (go-framework 5b8d5f5), for tests on
//! 127.0.0.1: each [`Group`] is one partition's Raft group, whose leader applies
//! calls to one shared state and whose followers answer NOT_LEADER naming it. It keeps
//! the session rules of shared/ATOMIX-SESSIONS.md for maps, sets and counters:
//! - commands apply in `request_id` order, a command ahead of a gap waits (forever,
//!   as the server does: the caller's deadline ends the wait);
//! - a command sent again gets its saved response until a KeepAlive acknowledges it,
//!   then UNKNOWN "sequence number N has already been acknowledged";
//! - an unknown session (or 0) is UNKNOWN "unknown session N"; a session expires only
//!   inside a KeepAlive on its primitive;
//! - a query waits for the session's `request_id` and the client's `index`;
//! - Events streams are cached until acknowledged and replayed when sent again;
//!   Entries and Iterate stream the state once.
//!
//! The counter has no sessions: Create answers session 0, and calls apply as they
//! come.

mod apply;
pub mod client;
mod serve;
mod state;
mod wire;

pub use serve::Group;
pub use state::Service;
pub use wire::{bytes_field, frame, message_field, varint, varint_field, Fields};
