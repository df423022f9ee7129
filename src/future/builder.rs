//! `future::CacheBuilder`: the builder of [`future::Cache`](Cache).
//!
//! It has the options of the crate's [`CacheBuilder`](crate::CacheBuilder)
//! (it forwards to one) plus `async_eviction_listener`. It is a type of its
//! own, as in moka, so that `future::CacheBuilder::new(n).build()` and
//! `sync::CacheBuilder::new(n).build()` each know which cache they build.

use crate::builder::CacheBuilder as Common;
use crate::clock::Clock;
use crate::core::Core;
use crate::expiry::Expiry;
use crate::future::listener::ListenerQueue;
use crate::future::Cache;
use crate::info::EvictionPolicy;
use crate::notification::{ListenerFuture, RemovalCause};
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`future::Cache`](Cache) (`C` is the cache `build()` returns).
///
/// ```
/// use larder::future::{Cache, CacheBuilder};
/// use std::time::Duration;
///
/// let cache: Cache<String, u32> = CacheBuilder::new(1_000)
///     .time_to_live(Duration::from_secs(60))
///     .build();
/// futures::executor::block_on(async {
///     cache.insert("a".to_string(), 1).await;
///     assert_eq!(cache.get("a").await, Some(1));
/// });
/// ```
#[must_use]
pub struct CacheBuilder<K, V, C> {
    common: Common<K, V, C>,
    listeners: Option<Arc<ListenerQueue>>,
}

impl<K, V, C> Default for CacheBuilder<K, V, C> {
    fn default() -> Self {
        Self {
            common: Common::default(),
            listeners: None,
        }
    }
}

impl<K, V, C> std::fmt::Debug for CacheBuilder<K, V, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("future::CacheBuilder")
            .field(&self.common)
            .finish()
    }
}

impl<K, V> CacheBuilder<K, V, Cache<K, V, ahash::RandomState>>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A builder for a cache bounded to `max_capacity` (entries, or weight
    /// units with a weigher).
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
            num_segments: self.common.num_segments.unwrap_or(1),
            core: Arc::new(Core::new(self.common.config, hasher)),
            listeners: self.listeners,
        }
    }
}

impl<K, V, C> CacheBuilder<K, V, C>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// See [`CacheBuilder::name`](crate::CacheBuilder::name).
    pub fn name(mut self, name: &str) -> Self {
        self.common = self.common.name(name);
        self
    }

    /// See [`CacheBuilder::max_capacity`](crate::CacheBuilder::max_capacity).
    pub fn max_capacity(mut self, max_capacity: u64) -> Self {
        self.common = self.common.max_capacity(max_capacity);
        self
    }

    /// See [`CacheBuilder::initial_capacity`](crate::CacheBuilder::initial_capacity).
    pub fn initial_capacity(mut self, number_of_entries: usize) -> Self {
        self.common = self.common.initial_capacity(number_of_entries);
        self
    }

    /// See [`CacheBuilder::eviction_policy`](crate::CacheBuilder::eviction_policy)
    /// (larder always evicts with W-TinyLFU).
    pub fn eviction_policy(mut self, policy: EvictionPolicy) -> Self {
        self.common = self.common.eviction_policy(policy);
        self
    }

    /// See [`CacheBuilder::weigher`](crate::CacheBuilder::weigher).
    pub fn weigher(mut self, weigher: impl Fn(&K, &V) -> u32 + Send + Sync + 'static) -> Self {
        self.common = self.common.weigher(weigher);
        self
    }

    /// See [`CacheBuilder::eviction_listener`](crate::CacheBuilder::eviction_listener).
    /// Replaces an `async_eviction_listener` set before (one listener per
    /// cache, as in moka).
    pub fn eviction_listener<F>(mut self, listener: F) -> Self
    where
        F: Fn(Arc<K>, V, RemovalCause) + Send + Sync + 'static,
    {
        self.common = self.common.eviction_listener(listener);
        self.listeners = None;
        self
    }

    /// An eviction listener that returns a future (moka's
    /// `async_eviction_listener`). Replaces an `eviction_listener` set before.
    ///
    /// `listener` itself is called as a plain listener is (once per removed
    /// value, with no internal lock held); the future it returns is queued and
    /// run by the cache's async methods (`get`, `insert`, `remove`,
    /// `invalidate`, the loading and entry methods, `run_pending_tasks`)
    /// before they return: one future at a time, in the order the removals
    /// happened. A method that finds another task running them waits until
    /// they are all done, so after `run_pending_tasks().await` every removal
    /// reported so far has had its future completed.
    ///
    /// Differences from moka: futures queued by the non-async methods
    /// (`invalidate_all`, `invalidate_entries_if`) or by maintenance that ran
    /// in another task wait for the next async call on the cache; futures
    /// still queued when the cache is dropped are dropped without running.
    ///
    /// ```
    /// use larder::future::{Cache, FutureExt};
    /// use larder::notification::{ListenerFuture, RemovalCause};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let s = Arc::clone(&seen);
    /// let cache: Cache<u32, String> = Cache::builder()
    ///     .max_capacity(10)
    ///     .async_eviction_listener(move |k, v, cause| -> ListenerFuture {
    ///         let s = Arc::clone(&s);
    ///         async move { s.lock().unwrap().push((*k, v, cause)) }.boxed()
    ///     })
    ///     .build();
    /// futures::executor::block_on(async {
    ///     cache.insert(1, "one".into()).await;
    ///     cache.invalidate(&1).await;
    /// });
    /// assert_eq!(*seen.lock().unwrap(), vec![(1, "one".to_string(), RemovalCause::Explicit)]);
    /// ```
    pub fn async_eviction_listener<F>(mut self, listener: F) -> Self
    where
        F: Fn(Arc<K>, V, RemovalCause) -> ListenerFuture + Send + Sync + 'static,
    {
        let queue = Arc::new(ListenerQueue::new());
        let q = Arc::clone(&queue);
        self.common = self
            .common
            .eviction_listener(move |k, v, cause| q.push(listener(k, v, cause)));
        self.listeners = Some(queue);
        self
    }

    /// See [`CacheBuilder::time_to_live`](crate::CacheBuilder::time_to_live).
    pub fn time_to_live(mut self, duration: Duration) -> Self {
        self.common = self.common.time_to_live(duration);
        self
    }

    /// See [`CacheBuilder::time_to_idle`](crate::CacheBuilder::time_to_idle).
    pub fn time_to_idle(mut self, duration: Duration) -> Self {
        self.common = self.common.time_to_idle(duration);
        self
    }

    /// See [`CacheBuilder::expire_after`](crate::CacheBuilder::expire_after).
    pub fn expire_after(mut self, expiry: impl Expiry<K, V> + Send + Sync + 'static) -> Self {
        self.common = self.common.expire_after(expiry);
        self
    }

    /// See [`CacheBuilder::clock`](crate::CacheBuilder::clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.common = self.common.clock(clock);
        self
    }

    /// See [`CacheBuilder::record_stats`](crate::CacheBuilder::record_stats).
    pub fn record_stats(mut self) -> Self {
        self.common = self.common.record_stats();
        self
    }

    /// Accepted for moka compatibility; larder always supports
    /// `invalidate_entries_if`.
    pub fn support_invalidation_closures(self) -> Self {
        self
    }
}
