//! `sync::Cache`: a thin handle over the shared core.

use crate::builder::CacheBuilder;
use crate::core::Core;
use crate::info::{Policy, PredicateError, PredicateId};
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// A concurrent cache with W-TinyLFU eviction, for synchronous code.
///
/// `Cache` is a cheap handle: clones share the same cache. All methods take
/// `&self`; reads never lock.
///
/// ```
/// use larder::sync::Cache;
///
/// let cache = Cache::new(10_000);
/// cache.insert("apple".to_string(), 3);
/// assert_eq!(cache.get("apple"), Some(3));
/// assert_eq!(cache.remove("apple"), Some(3));
/// assert!(!cache.contains_key("apple"));
/// ```
pub struct Cache<K, V, S = ahash::RandomState> {
    pub(crate) core: Arc<Core<K, V, S>>,
    pub(crate) num_segments: usize,
}

impl<K, V, S> Clone for Cache<K, V, S> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
            num_segments: self.num_segments,
        }
    }
}

impl<K, V, S> std::fmt::Debug for Cache<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("name", &self.name())
            .field("entry_count", &self.entry_count())
            .field("weighted_size", &self.weighted_size())
            .field("policy", &self.policy())
            .finish()
    }
}

impl<K, V> Cache<K, V, ahash::RandomState>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache holding at most `max_capacity` entries.
    pub fn new(max_capacity: u64) -> Self {
        Self::builder().max_capacity(max_capacity).build()
    }

    /// A builder with every option.
    pub fn builder() -> CacheBuilder<K, V, Cache<K, V, ahash::RandomState>> {
        CacheBuilder::default()
    }
}

impl<K, V> CacheBuilder<K, V, Cache<K, V, ahash::RandomState>>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Builds the cache with the default (randomly keyed) hasher.
    pub fn build(self) -> Cache<K, V, ahash::RandomState> {
        self.build_with_hasher(ahash::RandomState::new())
    }

    /// Builds the cache with `hasher`.
    pub fn build_with_hasher<S>(self, hasher: S) -> Cache<K, V, S>
    where
        S: BuildHasher + Clone + Send + Sync + 'static,
    {
        Cache {
            core: Arc::new(Core::new(self.config, hasher)),
            num_segments: self.num_segments.unwrap_or(1),
        }
    }
}

impl<K, V, S> Cache<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    /// The cache's name, if the builder gave one.
    pub fn name(&self) -> Option<&str> {
        self.core.config.name.as_deref()
    }

    /// The value for `key`, if present and not expired. Lock-free.
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(10);
    /// cache.insert(1, "a");
    /// assert_eq!(cache.get(&1), Some("a"));
    /// assert_eq!(cache.get(&2), None);
    /// ```
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.core.get(key)
    }

    /// Whether `key` is present and not expired. Not counted as an access.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.core.contains_key(key)
    }

    /// Inserts `value` for `key`, replacing (and reporting as `Replaced`)
    /// any previous value.
    ///
    /// Locking behaviour: holds the key's stripe lock for the probe and a few
    /// stores; may run maintenance afterwards (no lock held by the caller).
    pub fn insert(&self, key: K, value: V) {
        self.core.insert(key, value);
    }

    /// Removes `key`, returning its value (reported as `Explicit`).
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(10);
    /// cache.insert("k", 1);
    /// assert_eq!(cache.remove("k"), Some(1));
    /// assert_eq!(cache.remove("k"), None);
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.core.remove(key)
    }

    /// Removes `key` (reported as `Explicit`).
    pub fn invalidate<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.core.remove(key);
    }

    /// Removes every entry (each reported as `Explicit`).
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(10);
    /// cache.insert(1, 1);
    /// cache.invalidate_all();
    /// assert_eq!(cache.get(&1), None);
    /// ```
    pub fn invalidate_all(&self) {
        self.core.invalidate_all();
    }

    /// Removes every entry for which `predicate` returns true (reported as
    /// `Explicit`). Applied at once, stripe by stripe; the predicate runs
    /// with no lock held. Always `Ok` (the `Result` is for moka
    /// compatibility).
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(10);
    /// for i in 0..6 { cache.insert(i, i); }
    /// cache.invalidate_entries_if(|_k, v| v % 2 == 0).unwrap();
    /// assert_eq!(cache.get(&2), None);
    /// assert_eq!(cache.get(&3), Some(3));
    /// ```
    pub fn invalidate_entries_if<F>(&self, predicate: F) -> Result<PredicateId, PredicateError>
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
    {
        self.core.invalidate_if(&predicate);
        Ok(String::new())
    }

    /// Iterates over the entries: weakly consistent (sees some state of each
    /// stripe between the call and the end of the iteration), skips expired
    /// entries, holds no lock.
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(10);
    /// cache.insert(1, "a");
    /// let all: Vec<_> = cache.iter().map(|(k, v)| (*k, v)).collect();
    /// assert_eq!(all, vec![(1, "a")]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V, S> {
        Iter {
            core: &self.core,
            stripe: 0,
            buf: Vec::new(),
        }
    }

    /// Number of entries, as of the last maintenance run (exact after
    /// [`run_pending_tasks`](Self::run_pending_tasks)).
    pub fn entry_count(&self) -> u64 {
        self.core.entry_count()
    }

    /// Total weight, as of the last maintenance run (exact after
    /// [`run_pending_tasks`](Self::run_pending_tasks)).
    pub fn weighted_size(&self) -> u64 {
        self.core.weighted_size()
    }

    /// The configuration.
    pub fn policy(&self) -> Policy {
        Policy {
            max_capacity: self.core.config.max_capacity,
            num_segments: self.num_segments,
            time_to_live: self.core.config.time_to_live,
            time_to_idle: self.core.config.time_to_idle,
        }
    }

    /// Applies pending reads and writes, evictions and expirations now. When
    /// it returns, the eviction listener has been called for every removal
    /// applied by it or before it (unless called from inside the listener).
    pub fn run_pending_tasks(&self) {
        self.core.run_pending_tasks();
    }
}

/// Iterator over a cache's entries (see [`Cache::iter`]).
pub struct Iter<'a, K, V, S> {
    core: &'a Core<K, V, S>,
    stripe: usize,
    buf: Vec<(Arc<K>, V)>,
}

impl<K, V, S> Iterator for Iter<'_, K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher,
{
    type Item = (Arc<K>, V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buf.pop() {
                return Some(item);
            }
            if self.stripe >= self.core.stripe_count() {
                return None;
            }
            self.core.snapshot_stripe(self.stripe, &mut self.buf);
            self.stripe += 1;
        }
    }
}

impl<'a, K, V, S> IntoIterator for &'a Cache<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    type Item = (Arc<K>, V);
    type IntoIter = Iter<'a, K, V, S>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
