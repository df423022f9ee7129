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
