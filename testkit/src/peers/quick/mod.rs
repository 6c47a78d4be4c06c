// Automatically generated mod.rs
pub mod atomix;
