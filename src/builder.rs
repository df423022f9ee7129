//! The builder shared by both façades.

use crate::clock::Clock;
use crate::core::Config;
use crate::expiry::Expiry;
use crate::info::EvictionPolicy;
use crate::notification::RemovalCause;
use std::hash::Hash;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Builds a cache; `C` is the kind of cache `build()` returns (a
/// [`sync::Cache`](crate::sync::Cache)).
///
/// ```
/// use larder::sync::Cache;
///
/// let cache: Cache<String, Vec<u8>> = Cache::builder()
///     .name("blobs")
///     .max_capacity(64 * 1024 * 1024)
///     .weigher(|_k, v: &Vec<u8>| v.len().try_into().unwrap_or(u32::MAX))
///     .build();
/// cache.insert("a".to_string(), vec![0; 1024]);
/// cache.run_pending_tasks();
/// assert_eq!(cache.weighted_size(), 1024);
/// ```
#[must_use]
pub struct CacheBuilder<K, V, C> {
    pub(crate) config: Config<K, V>,
    pub(crate) num_segments: Option<usize>,
    pub(crate) eviction_policy: EvictionPolicy,
    _cache: PhantomData<fn() -> C>,
}

impl<K, V, C> Default for CacheBuilder<K, V, C> {
    fn default() -> Self {
        Self {
            config: Config::default(),
            num_segments: None,
            eviction_policy: EvictionPolicy::default(),
            _cache: PhantomData,
        }
    }
}

impl<K, V, C> std::fmt::Debug for CacheBuilder<K, V, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("name", &self.config.name)
            .field("max_capacity", &self.config.max_capacity)
            .field("initial_capacity", &self.config.initial_capacity)
            .field("time_to_live", &self.config.time_to_live)
            .field("time_to_idle", &self.config.time_to_idle)
            .field("eviction_policy", &self.eviction_policy)
            .finish_non_exhaustive()
    }
}

impl<K, V, C> CacheBuilder<K, V, C> {
    /// The same settings, for another kind of cache.
    pub(crate) fn retarget<D>(self) -> CacheBuilder<K, V, D> {
        CacheBuilder {
            config: self.config,
            num_segments: self.num_segments,
            eviction_policy: self.eviction_policy,
            _cache: PhantomData,
        }
    }
}

impl<K, V, C> CacheBuilder<K, V, C>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Names the cache (shown by `name()`; useful in logs and metrics).
    pub fn name(mut self, name: &str) -> Self {
        self.config.name = Some(name.to_string());
        self
    }

    /// The maximum total weight (number of entries without a weigher).
    /// Without it the cache is unbounded by size. `0` keeps nothing.
    pub fn max_capacity(mut self, max_capacity: u64) -> Self {
        self.config.max_capacity = Some(max_capacity);
        self
    }

    /// Pre-sizes the table for this many entries.
    pub fn initial_capacity(mut self, entries: usize) -> Self {
        self.config.initial_capacity = entries;
        self
    }

    /// Weighs each entry; capacity is then in weight units. A weight of 0 is
    /// allowed (such entries are never evicted for size). The weigher runs on
    /// the inserting thread with no lock held; if it panics, the insert
    /// panics and the cache is unchanged.
    pub fn weigher(mut self, weigher: impl Fn(&K, &V) -> u32 + Send + Sync + 'static) -> Self {
        self.config.weigher = Some(Arc::new(weigher));
        self
    }

    /// Called once for every value that leaves the cache, with the cause.
    /// It runs with no internal lock held and may call back into the cache.
    /// Keep it quick: it runs on a thread that was reading or writing.
    pub fn eviction_listener(
        mut self,
        listener: impl Fn(Arc<K>, V, RemovalCause) + Send + Sync + 'static,
    ) -> Self {
        self.config.listener = Some(Arc::new(listener));
        self
    }

    /// Entries expire this long after they were inserted or last updated.
    /// `Duration::ZERO` makes every entry invisible at once; `Duration::MAX`
    /// in effect never expires.
    pub fn time_to_live(mut self, duration: Duration) -> Self {
        self.config.time_to_live = Some(duration);
        self
    }

    /// Entries expire this long after they were last read or written.
    pub fn time_to_idle(mut self, duration: Duration) -> Self {
        self.config.time_to_idle = Some(duration);
        self
    }

    /// Per-entry expiration decided by `expiry` (see [`Expiry`]). Combined
    /// with a time-to-live or time-to-idle, the earliest deadline wins.
    pub fn expire_after(mut self, expiry: impl Expiry<K, V> + Send + Sync + 'static) -> Self {
        self.config.expiry = Some(Arc::new(expiry));
        self
    }

    /// The clock (default: quanta). Tests pass [`Clock::mock()`].
    pub fn clock(mut self, clock: Clock) -> Self {
        self.config.clock = clock;
        self
    }

    /// Counts hits, misses, evictions and loads (see `stats()`). Off by
    /// default; when off, the read path pays one untaken branch.
    pub fn record_stats(mut self) -> Self {
        self.config.record_stats = true;
        self
    }

    /// Accepted for moka compatibility; larder always supports
    /// `invalidate_entries_if`.
    pub fn support_invalidation_closures(self) -> Self {
        self
    }

    /// Accepted for moka compatibility. larder always evicts with W-TinyLFU:
    /// [`EvictionPolicy::lru()`] does **not** switch to a pure LRU (see
    /// [`EvictionPolicy`]); the choice is only recorded (it shows in the
    /// builder's `Debug` output).
    ///
    /// ```
    /// use larder::policy::EvictionPolicy;
    ///
    /// let cache: larder::sync::Cache<u32, u32> = larder::sync::Cache::builder()
    ///     .max_capacity(10)
    ///     .eviction_policy(EvictionPolicy::tiny_lfu())
    ///     .build();
    /// cache.insert(1, 10);
    /// assert_eq!(cache.get(&1), Some(10));
    /// ```
    pub fn eviction_policy(mut self, policy: EvictionPolicy) -> Self {
        self.eviction_policy = policy;
        self
    }
}

/// A boxed or shared `dyn Expiry` (for example `Arc<dyn Expiry<K, V> + Send +
/// Sync>`) is itself an `Expiry`, so it can be passed to `expire_after`, as in
/// moka.
///
/// ```
/// use larder::Expiry;
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
///
/// struct TenSeconds;
/// impl Expiry<u32, u32> for TenSeconds {
///     fn expire_after_create(&self, _: &u32, _: &u32, _: Instant) -> Option<Duration> {
///         Some(Duration::from_secs(10))
///     }
/// }
///
/// let shared: Arc<dyn Expiry<u32, u32> + Send + Sync> = Arc::new(TenSeconds);
/// let cache: larder::sync::Cache<u32, u32> = larder::sync::Cache::builder()
///     .expire_after(shared)
///     .build();
/// cache.insert(1, 1);
/// assert_eq!(cache.get(&1), Some(1));
/// ```
impl<K, V, T> Expiry<K, V> for T
where
    T: Deref<Target = dyn Expiry<K, V> + Send + Sync>,
{
    fn expire_after_create(&self, key: &K, value: &V, created_at: Instant) -> Option<Duration> {
        self.deref().expire_after_create(key, value, created_at)
    }

    fn expire_after_read(
        &self,
        key: &K,
        value: &V,
        read_at: Instant,
        duration_until_expiry: Option<Duration>,
        last_modified_at: Instant,
    ) -> Option<Duration> {
        self.deref()
            .expire_after_read(key, value, read_at, duration_until_expiry, last_modified_at)
    }

    fn expire_after_update(
        &self,
        key: &K,
        value: &V,
        updated_at: Instant,
        duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        self.deref()
            .expire_after_update(key, value, updated_at, duration_until_expiry)
    }
}
