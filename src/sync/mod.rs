//! The synchronous (blocking) cache.

mod cache;
mod entry;
mod segmented;

pub use cache::{Cache, Iter};
pub use entry::{OwnedKeyEntrySelector, RefKeyEntrySelector};
pub use segmented::SegmentedCache;
