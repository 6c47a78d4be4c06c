// Automatically generated mod.rs
pub mod counter;
pub mod map;
pub mod headers;
pub mod primitive;
