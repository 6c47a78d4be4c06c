// Automatically generated mod.rs
pub mod counter;
pub mod headers;
pub mod map;
pub mod primitive;
