//! Statistics: striped counters, cheap when on, a branch when off.
//!
//! Each thread adds to one of a few cache-line-padded counter blocks (picked
//! like its read-buffer ring), so recording a hit does not write a cache line
//! that other threads' hits write. A snapshot sums the stripes.

use crate::shim::{AtomicU64, Ordering};
use std::time::Duration;

/// A snapshot of a cache's statistics (`cache.stats()`, with
/// `record_stats()` on the builder).
///
/// ```
/// let cache = larder::sync::Cache::builder().max_capacity(10).record_stats().build();
/// cache.insert(1, "a");
/// cache.get(&1);
/// cache.get(&2);
/// let s = cache.stats();
/// assert_eq!((s.hit_count, s.miss_count), (1, 1));
/// assert_eq!(s.hit_rate(), 0.5);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found a live value.
    pub hit_count: u64,
    /// Lookups that found nothing (or an expired value).
    pub miss_count: u64,
    /// Entries removed for size or expiry.
    pub eviction_count: u64,
    /// Total weight of those entries.
    pub eviction_weight: u64,
    /// Loads (`get_with` and friends) that produced a value.
    pub load_success_count: u64,
    /// Loads that failed, returned `None`, or panicked.
    pub load_failure_count: u64,
    /// Time spent in loaders.
    pub total_load_time: Duration,
}

impl CacheStats {
    /// `hit_count + miss_count`.
    pub fn request_count(&self) -> u64 {
        self.hit_count.saturating_add(self.miss_count)
    }

    /// Hits per request (1.0 when there were no requests).
    pub fn hit_rate(&self) -> f64 {
        match self.request_count() {
            0 => 1.0,
            n => self.hit_count as f64 / n as f64,
        }
    }

    /// Misses per request (0.0 when there were no requests).
    pub fn miss_rate(&self) -> f64 {
        match self.request_count() {
            0 => 0.0,
            n => self.miss_count as f64 / n as f64,
        }
    }

    /// The counts since `earlier` (saturating at zero).
    ///
    /// ```
    /// # let cache = larder::sync::Cache::builder().max_capacity(10).record_stats().build();
    /// # cache.insert(1, 1);
    /// let before = cache.stats();
    /// cache.get(&1);
    /// assert_eq!(cache.stats().minus(&before).hit_count, 1);
    /// ```
    pub fn minus(&self, earlier: &CacheStats) -> CacheStats {
        CacheStats {
            hit_count: self.hit_count.saturating_sub(earlier.hit_count),
            miss_count: self.miss_count.saturating_sub(earlier.miss_count),
            eviction_count: self.eviction_count.saturating_sub(earlier.eviction_count),
            eviction_weight: self.eviction_weight.saturating_sub(earlier.eviction_weight),
            load_success_count: self
                .load_success_count
                .saturating_sub(earlier.load_success_count),
            load_failure_count: self
                .load_failure_count
                .saturating_sub(earlier.load_failure_count),
            total_load_time: self.total_load_time.saturating_sub(earlier.total_load_time),
        }
    }
}

#[repr(align(128))]
#[derive(Default)]
struct Stripe {
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    eviction_weight: AtomicU64,
    load_ok: AtomicU64,
    load_err: AtomicU64,
    load_nanos: AtomicU64,
}

/// The live counters.
pub(crate) struct StatsCounter {
    stripes: Box<[Stripe]>,
}

impl StatsCounter {
    /// Counters with `stripes` stripes (a power of two).
    pub(crate) fn new(stripes: usize) -> Self {
        let n = stripes.clamp(1, 256).next_power_of_two();
        Self {
            stripes: (0..n).map(|_| Stripe::default()).collect(),
        }
    }

    #[inline]
    fn stripe(&self, hint: usize) -> &Stripe {
        &self.stripes[hint & (self.stripes.len() - 1)]
    }

    #[inline]
    pub(crate) fn hit(&self, hint: usize) {
        self.stripe(hint).hits.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn miss(&self, hint: usize) {
        self.stripe(hint).misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn eviction(&self, hint: usize, weight: u32) {
        let s = self.stripe(hint);
        s.evictions.fetch_add(1, Ordering::Relaxed);
        s.eviction_weight
            .fetch_add(u64::from(weight), Ordering::Relaxed);
    }

    pub(crate) fn load(&self, hint: usize, ok: bool, took: Duration) {
        let s = self.stripe(hint);
        if ok {
            s.load_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            s.load_err.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        s.load_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Sums the stripes.
    pub(crate) fn snapshot(&self) -> CacheStats {
        let mut out = CacheStats::default();
        let mut nanos = 0u64;
        for s in self.stripes.iter() {
            out.hit_count += s.hits.load(Ordering::Relaxed);
            out.miss_count += s.misses.load(Ordering::Relaxed);
            out.eviction_count += s.evictions.load(Ordering::Relaxed);
            out.eviction_weight += s.eviction_weight.load(Ordering::Relaxed);
            out.load_success_count += s.load_ok.load(Ordering::Relaxed);
            out.load_failure_count += s.load_err.load(Ordering::Relaxed);
            nanos = nanos.saturating_add(s.load_nanos.load(Ordering::Relaxed));
        }
        out.total_load_time = Duration::from_nanos(nanos);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_sum_and_rates_are_right() {
        let c = StatsCounter::new(4);
        for i in 0..10 {
            c.hit(i);
        }
        for i in 0..5 {
            c.miss(i);
        }
        c.eviction(3, 7);
        c.load(1, true, Duration::from_millis(2));
        c.load(2, false, Duration::from_millis(3));
        let s = c.snapshot();
        assert_eq!(s.request_count(), 15);
        assert!((s.hit_rate() - 10.0 / 15.0).abs() < 1e-12);
        assert!((s.miss_rate() - 5.0 / 15.0).abs() < 1e-12);
        assert_eq!((s.eviction_count, s.eviction_weight), (1, 7));
        assert_eq!((s.load_success_count, s.load_failure_count), (1, 1));
        assert_eq!(s.total_load_time, Duration::from_millis(5));
        assert_eq!(s.minus(&s), CacheStats::default());
        assert_eq!(CacheStats::default().hit_rate(), 1.0);
    }
}
