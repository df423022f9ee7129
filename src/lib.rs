#![doc = include_str!("guide.md")]
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod buffer;
mod builder;
mod clock;
mod core;
mod expiry;
pub mod future;
mod info;
mod loader;
mod node;
pub mod notification;
pub mod ops;
mod policy;
mod shim;
#[cfg(feature = "sim")]
pub mod sim;
mod stats;
pub mod sync;
mod table;

pub use builder::CacheBuilder;
pub use clock::{Clock, MockHandle};
pub use expiry::Expiry;
pub use info::{Policy, PredicateError, PredicateId};
pub use notification::RemovalCause;
pub use ops::Entry;
pub use stats::CacheStats;

/// `std::time::Instant`, the type `Expiry` methods receive (as in moka).
pub use std::time::Instant;
