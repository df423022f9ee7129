//! `SegmentedCache`, for code ported from moka.
//!
//! moka's `SegmentedCache` splits the cache into independently locked
//! segments to reduce contention. larder's table is already lock-striped and
//! its reads take no lock, so a `SegmentedCache` is a plain
//! [`Cache`](crate::sync::Cache) that remembers how many segments were asked
//! for (`policy().num_segments()`). It dereferences to `Cache`, so every
//! method of `Cache` is available.

use crate::builder::CacheBuilder;
use crate::info::PredicateError;
use crate::sync::{Cache, ConcurrentCacheExt, Iter};
use std::hash::{BuildHasher, Hash};
use std::ops::Deref;
use std::sync::Arc;

/// A [`Cache`] built through moka's segmented-cache API.
///
/// ```
/// use larder::sync::SegmentedCache;
///
/// let cache = SegmentedCache::new(1_000, 8);
/// cache.insert(1, "one");
/// assert_eq!(cache.get(&1), Some("one"));
/// assert_eq!(cache.policy().num_segments(), 8);
/// ```
pub struct SegmentedCache<K, V, S = ahash::RandomState> {
    inner: Cache<K, V, S>,
}

impl<K, V, S> Clone for SegmentedCache<K, V, S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V, S> std::fmt::Debug for SegmentedCache<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SegmentedCache").field(&self.inner).finish()
    }
}

impl<K, V, S> Deref for SegmentedCache<K, V, S> {
    type Target = Cache<K, V, S>;

    fn deref(&self) -> &Cache<K, V, S> {
        &self.inner
    }
}

impl<K, V> SegmentedCache<K, V, ahash::RandomState>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache of at most `max_capacity` entries; `num_segments` is a hint
    /// (reported by `policy().num_segments()`).
    ///
    /// # Panics
    /// If `num_segments` is 0 (as moka does).
    pub fn new(max_capacity: u64, num_segments: usize) -> Self {
        Self::builder(num_segments)
            .max_capacity(max_capacity)
            .build()
    }

    /// A builder; `num_segments` as in [`new`](Self::new).
    pub fn builder(
        num_segments: usize,
    ) -> CacheBuilder<K, V, SegmentedCache<K, V, ahash::RandomState>> {
        Cache::builder().segments(num_segments)
    }
}

impl<K, V> CacheBuilder<K, V, Cache<K, V, ahash::RandomState>>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Turns this builder into one for a [`SegmentedCache`] of
    /// `num_segments` segments (a hint: larder's table is striped anyway),
    /// keeping the settings made so far, as moka's `CacheBuilder::segments`.
    ///
    /// # Panics
    /// If `num_segments` is 0 (as moka does).
    ///
    /// ```
    /// use larder::sync::{Cache, SegmentedCache};
    ///
    /// let cache: SegmentedCache<u32, u32> = Cache::builder()
    ///     .max_capacity(100)
    ///     .segments(4)
    ///     .build();
    /// assert_eq!(cache.policy().num_segments(), 4);
    /// assert_eq!(cache.policy().max_capacity(), Some(100));
    /// ```
    pub fn segments(
        self,
        num_segments: usize,
    ) -> CacheBuilder<K, V, SegmentedCache<K, V, ahash::RandomState>> {
        assert!(num_segments > 0, "num_segments must be at least 1");
        let mut b = self.retarget();
        b.num_segments = Some(num_segments);
        b
    }
}

impl<K, V, S> SegmentedCache<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    /// Removes every entry for which `predicate` returns true (see
    /// [`Cache::invalidate_entries_if`]). Returns `Result<(), _>` as moka's
    /// `SegmentedCache` does (a plain `Cache` returns a `PredicateId`); always
    /// `Ok`.
    ///
    /// ```
    /// let cache = larder::sync::SegmentedCache::new(10, 2);
    /// for i in 0..4 { cache.insert(i, i); }
    /// assert_eq!(cache.invalidate_entries_if(|_k, v| v % 2 == 0), Ok(()));
    /// assert_eq!(cache.get(&0), None);
    /// assert_eq!(cache.get(&1), Some(1));
    /// ```
    pub fn invalidate_entries_if<F>(&self, predicate: F) -> Result<(), PredicateError>
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
    {
        self.inner.invalidate_entries_if(predicate).map(|_| ())
    }

    /// Deprecated in moka since 0.8: use
    /// [`get_with`](Cache::get_with) (which this calls).
    #[deprecated(since = "0.8.0", note = "Replaced with `get_with`")]
    pub fn get_or_insert_with(&self, key: K, init: impl FnOnce() -> V) -> V {
        self.inner.get_with(key, init)
    }

    /// Deprecated in moka since 0.8: use
    /// [`try_get_with`](Cache::try_get_with) (which this calls).
    #[deprecated(since = "0.8.0", note = "Replaced with `try_get_with`")]
    pub fn get_or_try_insert_with<F, E>(&self, key: K, init: F) -> Result<V, Arc<E>>
    where
        F: FnOnce() -> Result<V, E>,
        E: Send + Sync + 'static,
    {
        self.inner.try_get_with(key, init)
    }
}

impl<'a, K, V, S> IntoIterator for &'a SegmentedCache<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    type Item = (Arc<K>, V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.inner.iter()
    }
}

/// moka 0.11's `sync()`: [`run_pending_tasks`](Cache::run_pending_tasks).
impl<K, V, S> ConcurrentCacheExt<K, V> for SegmentedCache<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    fn sync(&self) {
        self.inner.run_pending_tasks();
    }
}

impl<K, V> CacheBuilder<K, V, SegmentedCache<K, V, ahash::RandomState>>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Builds the cache with the default hasher.
    pub fn build(self) -> SegmentedCache<K, V, ahash::RandomState> {
        self.build_with_hasher(ahash::RandomState::new())
    }

    /// Builds the cache with `hasher`.
    pub fn build_with_hasher<S>(self, hasher: S) -> SegmentedCache<K, V, S>
    where
        S: BuildHasher + Clone + Send + Sync + 'static,
    {
        let plain: CacheBuilder<K, V, Cache<K, V, ahash::RandomState>> = self.retarget();
        SegmentedCache {
            inner: plain.build_with_hasher(hasher),
        }
    }
}
