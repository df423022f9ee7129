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
mod shim;
#[cfg(feature = "sim")]
pub mod sim;
mod stats;
pub mod sync;
mod table;
// The eviction policy's implementation. It is declared under another name so
// that `larder::policy` can be the public, moka-compatible module below; the
// module below re-exports it for the crate, so `crate::policy::..` paths keep
// working.
#[path = "policy/mod.rs"]
mod tinylfu;

// Fuzzing hooks (see `fuzz/`): crate-internal types behind thin wrappers,
// compiled only under `--cfg fuzzing`.
#[cfg(fuzzing)]
#[doc(hidden)]
#[path = "fuzz_api.rs"]
pub mod __fuzz;

// Concurrency models (see `scripts/hardening.sh`).
#[cfg(all(test, larder_loom))]
mod loom_models;

/// moka's `moka::policy` names: [`EvictionPolicy`] and [`Expiry`]. (moka's
/// `policy::Policy` is [`larder::Policy`](crate::Policy).)
pub mod policy {
    pub use crate::expiry::Expiry;
    pub use crate::info::EvictionPolicy;
    pub(crate) use crate::tinylfu::*;
}

pub use builder::CacheBuilder;
pub use clock::{Clock, MockHandle};
pub use expiry::Expiry;
pub use info::{EvictionPolicy, Policy, PredicateError, PredicateId};
pub use notification::RemovalCause;
pub use ops::Entry;
pub use stats::CacheStats;

/// `std::time::Instant`, the type `Expiry` methods receive (as in moka).
pub use std::time::Instant;
