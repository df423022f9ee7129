//! The synchronous (blocking) cache.

mod cache;
mod entry;

pub use cache::{Cache, Iter};
pub use entry::{OwnedKeyEntrySelector, RefKeyEntrySelector};
