//! `sync::Cache`: a thin handle over the shared core.

use crate::builder::CacheBuilder;
use crate::core::Core;
use crate::info::{Policy, PredicateError, PredicateId};
use crate::loader::{fallible, optional, value_only, value_or_error, value_or_nothing, Outcome};
use crate::stats::CacheStats;
use crate::sync::{ConcurrentCacheExt, OwnedKeyEntrySelector, RefKeyEntrySelector};
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
    /// A builder for a [`sync::Cache`](Cache) bounded to `max_capacity`
    /// (entries, or weight units with a weigher), as moka's
    /// `sync::CacheBuilder::new`.
    ///
    /// ```
    /// use larder::sync::{Cache, CacheBuilder};
    ///
    /// let cache = CacheBuilder::new(100).name("small").build();
    /// cache.insert("k", 1);
    /// assert_eq!(cache.get("k"), Some(1));
    /// assert_eq!(cache.policy().max_capacity(), Some(100));
    /// let _typed: Cache<&str, i32> = cache;
    /// ```
    pub fn new(max_capacity: u64) -> Self {
        Self::default().max_capacity(max_capacity)
    }

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

    /// The value for `key`, or the value of `init` inserted. Concurrent
    /// calls for one key run one `init`; the others wait (parked, not
    /// spinning) and get its value. Loads of different keys run in parallel;
    /// no internal lock is held while `init` runs.
    ///
    /// If `init` panics, the panic propagates to this caller only; a waiting
    /// caller becomes the next loader. A loader that calls a loading method
    /// for its own key panics instead of deadlocking.
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(100);
    /// let v = cache.get_with(1, || "loaded");
    /// assert_eq!(v, "loaded");
    /// assert_eq!(cache.get_with(1, || unreachable!()), "loaded");
    /// ```
    pub fn get_with(&self, key: K, init: impl FnOnce() -> V) -> V {
        self.core
            .load_owned(key, || Outcome::Value(init()), value_only)
            .0
    }

    /// [`get_with`](Self::get_with) with a borrowed key, cloned only if
    /// the value is inserted.
    ///
    /// ```
    /// let cache: larder::sync::Cache<String, usize> = larder::sync::Cache::new(100);
    /// assert_eq!(cache.get_with_by_ref("abc", || 3), 3);
    /// ```
    pub fn get_with_by_ref<Q>(&self, key: &Q, init: impl FnOnce() -> V) -> V
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.core
            .load_by_ref(key, || Outcome::Value(init()), value_only)
            .0
    }

    /// Like [`get_with`](Self::get_with), but also replaces a cached value
    /// for which `replace_if` returns `true` with the value of `init` (moka's
    /// `get_with_if`, which moka deprecates in favour of
    /// `entry(key).or_insert_with_if(..)`; this is the same call).
    ///
    /// The check and the replacement are atomic with respect to other loads
    /// and computes of the key: concurrent callers run one at a time, and each
    /// sees the value the previous one left.
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(10);
    /// assert_eq!(cache.get_with_if(1, || "new", |_| unreachable!()), "new");
    /// // Kept: `replace_if` says no.
    /// assert_eq!(cache.get_with_if(1, || "newer", |v| *v != "new"), "new");
    /// // Replaced.
    /// assert_eq!(cache.get_with_if(1, || "newer", |v| *v == "new"), "newer");
    /// assert_eq!(cache.get(&1), Some("newer"));
    /// ```
    pub fn get_with_if(
        &self,
        key: K,
        init: impl FnOnce() -> V,
        replace_if: impl FnMut(&V) -> bool,
    ) -> V {
        self.entry(key)
            .or_insert_with_if(init, replace_if)
            .into_value()
    }

    /// Like [`get_with`](Self::get_with), but `init` may fail: the error is
    /// returned to this caller and every caller waiting on the same load
    /// (shared as `Arc<E>`), and nothing is cached.
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(100);
    /// let r: Result<u32, _> = cache.try_get_with(1, || Err("db down"));
    /// assert_eq!(*r.unwrap_err(), "db down");
    /// assert_eq!(cache.try_get_with(1, || Ok::<_, &str>(7)), Ok(7));
    /// ```
    pub fn try_get_with<F, E>(&self, key: K, init: F) -> Result<V, Arc<E>>
    where
        F: FnOnce() -> Result<V, E>,
        E: Send + Sync + 'static,
    {
        self.core
            .load_owned(key, || fallible(init()), value_or_error::<V, E>)
            .0
    }

    /// [`try_get_with`](Self::try_get_with) with a borrowed key.
    pub fn try_get_with_by_ref<F, E, Q>(&self, key: &Q, init: F) -> Result<V, Arc<E>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        F: FnOnce() -> Result<V, E>,
        E: Send + Sync + 'static,
    {
        self.core
            .load_by_ref(key, || fallible(init()), value_or_error::<V, E>)
            .0
    }

    /// Like [`get_with`](Self::get_with), but `init` may return `None`:
    /// then nothing is cached and `None` is returned (to the waiters too).
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(100);
    /// assert_eq!(cache.optionally_get_with(1, || None::<u32>), None);
    /// assert_eq!(cache.optionally_get_with(1, || Some(5)), Some(5));
    /// ```
    pub fn optionally_get_with<F>(&self, key: K, init: F) -> Option<V>
    where
        F: FnOnce() -> Option<V>,
    {
        self.core
            .load_owned(key, || optional(init()), value_or_nothing)
            .0
    }

    /// [`optionally_get_with`](Self::optionally_get_with) with a borrowed key.
    pub fn optionally_get_with_by_ref<F, Q>(&self, key: &Q, init: F) -> Option<V>
    where
        F: FnOnce() -> Option<V>,
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.core
            .load_by_ref(key, || optional(init()), value_or_nothing)
            .0
    }

    /// The entry API for `key`: `or_insert_with`, `and_compute_with`, ...
    ///
    /// ```
    /// let cache = larder::sync::Cache::new(10);
    /// let e = cache.entry(7).or_insert(70);
    /// assert!(e.is_fresh());
    /// ```
    pub fn entry(&self, key: K) -> OwnedKeyEntrySelector<'_, K, V, S> {
        OwnedKeyEntrySelector {
            key,
            core: &self.core,
        }
    }

    /// The entry API for a borrowed key (cloned only if an entry is
    /// inserted).
    pub fn entry_by_ref<'a, Q>(&'a self, key: &'a Q) -> RefKeyEntrySelector<'a, K, Q, V, S>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        RefKeyEntrySelector {
            key,
            core: &self.core,
        }
    }

    /// The statistics so far (all zero unless the builder called
    /// `record_stats()`).
    pub fn stats(&self) -> CacheStats {
        self.core.stats()
    }

    /// Loads in flight right now (for tests and diagnostics).
    #[doc(hidden)]
    pub fn loads_in_flight(&self) -> usize {
        self.core.loads_in_flight()
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
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter::new(&self.core)
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
    ///
    /// When no other thread is inside the cache, the values removed so far
    /// have also been dropped by then (as in moka, code that counts drops or
    /// holds `Arc`s to cached values can rely on it after this call).
    pub fn run_pending_tasks(&self) {
        self.core.run_pending_tasks();
    }
}

/// moka 0.11's `sync()`: the same as
/// [`run_pending_tasks`](Cache::run_pending_tasks).
impl<K, V, S> ConcurrentCacheExt<K, V> for Cache<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    fn sync(&self) {
        self.run_pending_tasks();
    }
}

/// What [`Iter`] needs from the core, with the hasher type erased (so that
/// the iterator is `Iter<'_, K, V>`, as moka's).
trait Stripes<K, V> {
    fn stripe_count(&self) -> usize;
    fn snapshot_stripe(&self, stripe: usize, out: &mut Vec<(Arc<K>, V)>);
}

impl<K, V, S> Stripes<K, V> for Core<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher,
{
    fn stripe_count(&self) -> usize {
        Core::stripe_count(self)
    }

    fn snapshot_stripe(&self, stripe: usize, out: &mut Vec<(Arc<K>, V)>) {
        Core::snapshot_stripe(self, stripe, out);
    }
}

/// Iterator over a cache's entries (see [`Cache::iter`]); yields
/// `(Arc<K>, V)`.
///
/// ```
/// use larder::sync::{Cache, Iter};
///
/// let cache = Cache::new(10);
/// cache.insert(1, "a");
/// let it: Iter<'_, u32, &str> = cache.iter();
/// assert_eq!(it.map(|(k, v)| (*k, v)).collect::<Vec<_>>(), vec![(1, "a")]);
/// ```
pub struct Iter<'a, K, V> {
    core: &'a (dyn Stripes<K, V> + Send + Sync),
    stripe: usize,
    buf: Vec<(Arc<K>, V)>,
}

impl<'a, K, V> Iter<'a, K, V> {
    pub(crate) fn new<S>(core: &'a Core<K, V, S>) -> Self
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        S: BuildHasher + Send + Sync + 'static,
    {
        Self {
            core,
            stripe: 0,
            buf: Vec::new(),
        }
    }
}

impl<K, V> Iterator for Iter<'_, K, V> {
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
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
