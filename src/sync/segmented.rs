//! `SegmentedCache`, for code ported from moka.
//!
//! moka's `SegmentedCache` splits the cache into independently locked
//! segments to reduce contention. larder's table is already lock-striped and
//! its reads take no lock, so a `SegmentedCache` is a plain
//! [`Cache`](crate::sync::Cache) that remembers how many segments were asked
//! for (`policy().num_segments()`). It dereferences to `Cache`, so every
//! method of `Cache` is available.

use crate::builder::CacheBuilder;
use crate::sync::Cache;
use std::hash::{BuildHasher, Hash};
use std::ops::Deref;

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
        assert!(num_segments > 0, "num_segments must be at least 1");
        let mut b = CacheBuilder::default();
        b.num_segments = Some(num_segments);
        b
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
        let num_segments = self.num_segments;
        let plain: CacheBuilder<K, V, Cache<K, V, ahash::RandomState>> =
            CacheBuilder::from_parts(self.config, num_segments);
        SegmentedCache {
            inner: plain.build_with_hasher(hasher),
        }
    }
}
