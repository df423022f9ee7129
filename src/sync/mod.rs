//! The synchronous (blocking) cache.

mod cache;
mod entry;
mod segmented;

pub use cache::{Cache, Iter};
pub use entry::{OwnedKeyEntrySelector, RefKeyEntrySelector};
pub use segmented::SegmentedCache;

/// The builder of [`Cache`] and [`SegmentedCache`] (the crate's
/// [`CacheBuilder`](crate::CacheBuilder); moka's `sync::CacheBuilder`).
pub use crate::builder::CacheBuilder;

/// The id `invalidate_entries_if` returns (moka's `sync::PredicateId`).
pub use crate::info::PredicateId;

/// moka 0.11's way to run pending maintenance, kept in moka 0.12 as a
/// public trait. larder implements it for [`Cache`] and [`SegmentedCache`]:
/// `sync()` is [`Cache::run_pending_tasks`].
///
/// ```
/// use larder::sync::{Cache, ConcurrentCacheExt};
///
/// let cache = Cache::new(10);
/// cache.insert(1, 1);
/// cache.sync();
/// assert_eq!(cache.entry_count(), 1);
/// ```
pub trait ConcurrentCacheExt<K, V> {
    /// Performs any pending maintenance (see [`Cache::run_pending_tasks`]).
    fn sync(&self);
}
