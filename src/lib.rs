//! # larder
//!
//! A fast, concurrent, in-process cache for Rust with W-TinyLFU eviction.
//! Reads never take a lock; writes lock one stripe of the table briefly; the
//! eviction policy runs in amortised batches off the read path.
//!
//! ```
//! use larder::sync::Cache;
//!
//! let cache: Cache<u64, String> = Cache::new(10_000);
//! cache.insert(7, "seven".to_string());
//! assert_eq!(cache.get(&7).as_deref(), Some("seven"));
//! ```
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
