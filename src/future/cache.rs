//! `future::Cache`: the async handle over the shared core.

use crate::builder::CacheBuilder as CommonBuilder;
use crate::core::Core;
use crate::future::listener::ListenerQueue;
use crate::future::{CacheBuilder, OwnedKeyEntrySelector, RefKeyEntrySelector};
use crate::info::{Policy, PredicateError, PredicateId};
use crate::loader::{fallible, optional, value_only, value_or_error, value_or_nothing, Outcome};
use crate::stats::CacheStats;
use crate::sync::Iter;
use std::borrow::Borrow;
use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// A concurrent cache with W-TinyLFU eviction, for async code.
///
/// Every returned future is `Send` when the key, the value and the futures
/// you pass in are, so it can be spawned on a multi-thread runtime.
///
/// ```
/// use larder::future::Cache;
///
/// futures::executor::block_on(async {
///     let cache = Cache::new(10_000);
///     cache.insert("k".to_string(), 1).await;
///     assert_eq!(cache.get("k").await, Some(1));
///     let v = cache.get_with("j".to_string(), async { 2 }).await;
///     assert_eq!(v, 2);
/// });
/// ```
pub struct Cache<K, V, S = ahash::RandomState> {
    pub(crate) core: Arc<Core<K, V, S>>,
    pub(crate) num_segments: usize,
    /// Futures of the async eviction listener, if there is one.
    pub(crate) listeners: Option<Arc<ListenerQueue>>,
}

impl<K, V, S> Clone for Cache<K, V, S> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
            num_segments: self.num_segments,
            listeners: self.listeners.clone(),
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
        f.debug_struct("future::Cache")
            .field("name", &self.name())
            .field("entry_count", &self.entry_count())
            .field("weighted_size", &self.weighted_size())
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

    /// A builder with every option (a [`future::CacheBuilder`](CacheBuilder)).
    pub fn builder() -> CacheBuilder<K, V, Cache<K, V, ahash::RandomState>> {
        CacheBuilder::default()
    }
}

/// The crate's common builder can build a `future::Cache` too (without an
/// async eviction listener, which only [`future::CacheBuilder`](CacheBuilder)
/// offers).
impl<K, V> CommonBuilder<K, V, Cache<K, V, ahash::RandomState>>
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
            listeners: None,
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

    /// Runs the async eviction listener's queued futures, if any.
    async fn run_listeners(&self) {
        if let Some(queue) = &self.listeners {
            queue.run().await;
        }
    }

    /// The value for `key`, if present and not expired. Never waits.
    pub async fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let v = self.core.get(key);
        self.run_listeners().await;
        v
    }

    /// Whether `key` is present and not expired (not an access).
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.core.contains_key(key)
    }

    /// Inserts `value` for `key` (reporting a previous value as `Replaced`).
    pub async fn insert(&self, key: K, value: V) {
        self.core.insert(key, value);
        self.run_listeners().await;
    }

    /// Removes `key`, returning its value.
    pub async fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let v = self.core.remove(key);
        self.run_listeners().await;
        v
    }

    /// Removes `key`.
    pub async fn invalidate<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.core.remove(key);
        self.run_listeners().await;
    }

    /// Removes every entry.
    pub fn invalidate_all(&self) {
        self.core.invalidate_all();
    }

    /// Removes the entries for which `predicate` holds (see
    /// [`sync::Cache::invalidate_entries_if`](crate::sync::Cache::invalidate_entries_if)).
    pub fn invalidate_entries_if<F>(&self, predicate: F) -> Result<PredicateId, PredicateError>
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
    {
        self.core.invalidate_if(&predicate);
        Ok(String::new())
    }

    /// The value for `key`, or `init`'s output inserted. Concurrent calls for
    /// one key await one `init`; the others register wakers and get its
    /// value. If this call's future is dropped while it runs `init`, a
    /// waiting call takes the load over.
    pub async fn get_with(&self, key: K, init: impl Future<Output = V>) -> V {
        let v = self
            .core
            .load_owned_async(key, async { Outcome::Value(init.await) }, value_only)
            .await
            .0;
        self.run_listeners().await;
        v
    }

    /// [`get_with`](Self::get_with) with a borrowed key.
    pub async fn get_with_by_ref<Q>(&self, key: &Q, init: impl Future<Output = V>) -> V
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let v = self
            .core
            .load_by_ref_async(key, async { Outcome::Value(init.await) }, value_only)
            .await
            .0;
        self.run_listeners().await;
        v
    }

    /// Like [`get_with`](Self::get_with), but also replaces a cached value
    /// for which `replace_if` returns `true` with `init`'s output (moka's
    /// `get_with_if`; the same as `entry(key).or_insert_with_if(..)`).
    /// Atomic with respect to other loads and computes of the key.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let cache = larder::future::Cache::new(10);
    ///     assert_eq!(cache.get_with_if(1, async { 1 }, |_| true).await, 1);
    ///     assert_eq!(cache.get_with_if(1, async { 2 }, |v| *v > 1).await, 1);
    ///     assert_eq!(cache.get_with_if(1, async { 2 }, |v| *v == 1).await, 2);
    /// });
    /// ```
    pub async fn get_with_if(
        &self,
        key: K,
        init: impl Future<Output = V>,
        replace_if: impl FnMut(&V) -> bool + Send,
    ) -> V {
        self.entry(key)
            .or_insert_with_if(init, replace_if)
            .await
            .into_value()
    }

    /// Like [`get_with`](Self::get_with) for a fallible `init`: the error is
    /// shared with the waiters as `Arc<E>` and nothing is cached.
    pub async fn try_get_with<F, E>(&self, key: K, init: F) -> Result<V, Arc<E>>
    where
        F: Future<Output = Result<V, E>>,
        E: Send + Sync + 'static,
    {
        let v = self
            .core
            .load_owned_async(key, async { fallible(init.await) }, value_or_error::<V, E>)
            .await
            .0;
        self.run_listeners().await;
        v
    }

    /// [`try_get_with`](Self::try_get_with) with a borrowed key.
    pub async fn try_get_with_by_ref<F, E, Q>(&self, key: &Q, init: F) -> Result<V, Arc<E>>
    where
        F: Future<Output = Result<V, E>>,
        E: Send + Sync + 'static,
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let v = self
            .core
            .load_by_ref_async(key, async { fallible(init.await) }, value_or_error::<V, E>)
            .await
            .0;
        self.run_listeners().await;
        v
    }

    /// Like [`get_with`](Self::get_with), but `init` may produce `None`
    /// (nothing is cached).
    pub async fn optionally_get_with<F>(&self, key: K, init: F) -> Option<V>
    where
        F: Future<Output = Option<V>>,
    {
        let v = self
            .core
            .load_owned_async(key, async { optional(init.await) }, value_or_nothing)
            .await
            .0;
        self.run_listeners().await;
        v
    }

    /// [`optionally_get_with`](Self::optionally_get_with) with a borrowed key.
    pub async fn optionally_get_with_by_ref<F, Q>(&self, key: &Q, init: F) -> Option<V>
    where
        F: Future<Output = Option<V>>,
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let v = self
            .core
            .load_by_ref_async(key, async { optional(init.await) }, value_or_nothing)
            .await
            .0;
        self.run_listeners().await;
        v
    }

    /// The entry API for `key`.
    pub fn entry(&self, key: K) -> OwnedKeyEntrySelector<'_, K, V, S> {
        OwnedKeyEntrySelector {
            key,
            core: &self.core,
            listeners: self.listeners.as_deref(),
        }
    }

    /// The entry API for a borrowed key.
    pub fn entry_by_ref<'a, Q>(&'a self, key: &'a Q) -> RefKeyEntrySelector<'a, K, Q, V, S>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        RefKeyEntrySelector {
            key,
            core: &self.core,
            listeners: self.listeners.as_deref(),
        }
    }

    /// Iterates over the entries (weakly consistent; skips expired ones).
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter::new(&self.core)
    }

    /// Number of entries as of the last maintenance run.
    pub fn entry_count(&self) -> u64 {
        self.core.entry_count()
    }

    /// Total weight as of the last maintenance run.
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

    /// The statistics so far.
    pub fn stats(&self) -> CacheStats {
        self.core.stats()
    }

    /// Loads in flight right now (for tests and diagnostics).
    #[doc(hidden)]
    pub fn loads_in_flight(&self) -> usize {
        self.core.loads_in_flight()
    }

    /// Applies pending work now (see
    /// [`sync::Cache::run_pending_tasks`](crate::sync::Cache::run_pending_tasks)).
    /// It may briefly block the calling thread on the maintenance lock.
    ///
    /// With an async eviction listener, it also runs (awaits) the listener's
    /// futures for every removal reported so far.
    pub async fn run_pending_tasks(&self) {
        self.core.run_pending_tasks();
        self.run_listeners().await;
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
