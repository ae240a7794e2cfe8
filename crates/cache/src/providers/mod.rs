//! The built-in providers.

pub mod memory;
pub mod none;
#[cfg(feature = "redis")]
pub mod redis;

pub use memory::{MemoryLimits, MemoryProvider};
pub use none::NoneProvider;
#[cfg(feature = "redis")]
pub use redis::RedisProvider;
