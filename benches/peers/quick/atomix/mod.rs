// Automatically generated mod.rs
pub mod headers;
pub mod primitive;
pub mod primitives;
