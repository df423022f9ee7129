//! The synchronous (blocking) cache.

mod cache;

pub use cache::{Cache, Iter};
