//! The built-in providers.

pub mod memory;
pub mod none;

pub use memory::{MemoryLimits, MemoryProvider};
pub use none::NoneProvider;
