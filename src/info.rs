//! Introspection: the configuration a cache was built with.

use std::time::Duration;

/// What a cache was configured with (`cache.policy()`).
///
/// ```
/// let cache: larder::sync::Cache<u32, u32> = larder::sync::Cache::new(100);
/// assert_eq!(cache.policy().max_capacity(), Some(100));
/// assert_eq!(cache.policy().time_to_live(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub(crate) max_capacity: Option<u64>,
    pub(crate) num_segments: usize,
    pub(crate) time_to_live: Option<Duration>,
    pub(crate) time_to_idle: Option<Duration>,
}

impl Policy {
    /// The maximum total weight, if bounded.
    pub fn max_capacity(&self) -> Option<u64> {
        self.max_capacity
    }

    /// The number of segments asked for (1 for a plain `Cache`).
    pub fn num_segments(&self) -> usize {
        self.num_segments
    }

    /// The time-to-live, if set.
    pub fn time_to_live(&self) -> Option<Duration> {
        self.time_to_live
    }

    /// The time-to-idle, if set.
    pub fn time_to_idle(&self) -> Option<Duration> {
        self.time_to_idle
    }
}

/// The eviction policy asked for with the builder's `eviction_policy`
/// (moka's `moka::policy::EvictionPolicy`; also reachable as
/// `larder::policy::EvictionPolicy`).
///
/// larder has one eviction policy: W-TinyLFU (a frequency sketch decides
/// admission; an LRU window, whose share adapts to the workload, sits in
/// front of a segmented LRU). [`tiny_lfu()`](Self::tiny_lfu) is that policy
/// and the default. [`lru()`](Self::lru) is accepted so that code written
/// for moka compiles, but **it does not change how larder evicts**: a cache
/// built with it still uses W-TinyLFU, so a new entry can be refused
/// admission (reported to the listener as `Size`) where a pure LRU would
/// have admitted it. The adaptive window grows for recency-biased
/// workloads, which is what `lru()` is usually chosen for.
///
/// ```
/// use larder::policy::EvictionPolicy;
/// use larder::sync::Cache;
///
/// assert_eq!(EvictionPolicy::default(), EvictionPolicy::tiny_lfu());
/// assert_eq!(format!("{:?}", EvictionPolicy::lru()), "EvictionPolicy::Lru");
///
/// let cache: Cache<u32, u32> = Cache::builder()
///     .max_capacity(100)
///     .eviction_policy(EvictionPolicy::lru())
///     .build();
/// cache.insert(1, 1);
/// assert_eq!(cache.get(&1), Some(1));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct EvictionPolicy {
    lru: bool,
}

impl EvictionPolicy {
    /// W-TinyLFU: what larder always does (the default).
    pub fn tiny_lfu() -> Self {
        Self { lru: false }
    }

    /// Pure LRU, as asked for in moka. Accepted for compatibility only:
    /// larder keeps evicting with W-TinyLFU (see the type's documentation).
    pub fn lru() -> Self {
        Self { lru: true }
    }
}

impl std::fmt::Debug for EvictionPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.lru {
            "EvictionPolicy::Lru"
        } else {
            "EvictionPolicy::TinyLfu"
        })
    }
}

/// The id `invalidate_entries_if` returns (for moka compatibility).
pub type PredicateId = String;

/// Why `invalidate_entries_if` failed. larder applies predicates eagerly and
/// never fails; the type exists so code written for moka compiles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PredicateError {
    /// Invalidation closures are not supported (never returned by larder).
    InvalidationClosuresDisabled,
}

impl std::fmt::Display for PredicateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalidation closures are disabled")
    }
}

impl std::error::Error for PredicateError {}
