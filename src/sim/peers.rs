//! Adapters that run other Rust caches through the simulator: `moka` and
//! `quick_cache`, both used cache-aside (`get`; on a miss, `insert`).
//!
//! Both caches store the request's weight as the value (`u32`), so that a weigher
//! can read it back. Both are built with a fixed-seed `ahash` hasher, so their
//! hash-dependent decisions (moka's frequency sketch, quick_cache's ghost list) do
//! not change from run to run.

use super::Policy;

/// Fixed hasher seeds: results must not depend on a random seed.
fn fixed_hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
    )
}

/// `moka::sync::Cache<u64, u32>` (TinyLFU admission, LRU eviction) with
/// `max_capacity = capacity` and, when weighted, a weigher returning the stored
/// weight.
///
/// After every insert it calls `run_pending_tasks()`, so admission and eviction
/// happen at once rather than whenever moka's housekeeping would run; the hit count
/// then depends only on the trace.
pub struct Moka {
    cache: moka::sync::Cache<u64, u32, ahash::RandomState>,
}

impl Moka {
    /// The policy's name in result tables.
    pub const NAME: &'static str = "moka";

    /// A moka cache of `capacity` entries, or weight units when `weighted`.
    pub fn new(capacity: u64, weighted: bool) -> Self {
        let builder = moka::sync::Cache::builder().max_capacity(capacity);
        let cache = if weighted {
            builder
                .weigher(|_key: &u64, weight: &u32| *weight)
                .build_with_hasher(fixed_hasher())
        } else {
            builder.build_with_hasher(fixed_hasher())
        };
        Moka { cache }
    }
}

impl Policy for Moka {
    fn name(&self) -> String {
        Self::NAME.to_string()
    }

    fn access(&mut self, key: u64, weight: u32) -> bool {
        if self.cache.get(&key).is_some() {
            return true;
        }
        self.cache.insert(key, weight);
        self.cache.run_pending_tasks();
        false
    }
}

/// Weighs a quick_cache entry by its stored weight, or 1 when unweighted.
#[derive(Debug, Clone, Copy)]
struct SimWeighter {
    weighted: bool,
}

impl quick_cache::Weighter<u64, u32> for SimWeighter {
    fn weight(&self, _key: &u64, weight: &u32) -> u64 {
        if self.weighted {
            // Zero-weight entries are never evicted by quick_cache.
            u64::from((*weight).max(1))
        } else {
            1
        }
    }
}

type QuickCacheInner = quick_cache::sync::Cache<
    u64,
    u32,
    SimWeighter,
    ahash::RandomState,
    quick_cache::sync::DefaultLifecycle<u64, u32>,
>;

/// `quick_cache::sync::Cache<u64, u32>` (CLOCK-Pro-like hot/cold/ghost) with
/// weight capacity `capacity`, weighing entries by their weight when weighted.
///
/// It is built with **one shard**: quick_cache's default shard count depends on the
/// number of CPUs and splits the capacity between shards, which would make results
/// differ between machines. The estimated item count it needs for sizing is
/// `capacity` unweighted, or `capacity` over the trace's mean request weight when
/// weighted (the cache is therefore built in [`Policy::prepare`]; without it, on
/// the first access, assuming a mean weight of 1).
pub struct QuickCache {
    capacity: u64,
    weighted: bool,
    cache: Option<QuickCacheInner>,
}

impl QuickCache {
    /// The policy's name in result tables.
    pub const NAME: &'static str = "quick_cache";

    /// A quick_cache of `capacity` entries, or weight units when `weighted`.
    pub fn new(capacity: u64, weighted: bool) -> Self {
        QuickCache {
            capacity,
            weighted,
            cache: None,
        }
    }

    fn build(&self, mean_weight: f64) -> QuickCacheInner {
        let items = if self.weighted {
            (self.capacity as f64 / mean_weight.max(1.0)).ceil() as u64
        } else {
            self.capacity
        };
        let options = quick_cache::OptionsBuilder::new()
            .shards(1)
            .estimated_items_capacity(usize::try_from(items.max(1)).unwrap_or(usize::MAX))
            .weight_capacity(self.capacity)
            .build()
            .expect("estimated_items_capacity and weight_capacity are set");
        quick_cache::sync::Cache::with_options(
            options,
            SimWeighter {
                weighted: self.weighted,
            },
            fixed_hasher(),
            Default::default(),
        )
    }
}

impl Policy for QuickCache {
    fn name(&self) -> String {
        Self::NAME.to_string()
    }

    fn prepare(&mut self, trace: &[(u64, u32)]) {
        let mean = if trace.is_empty() {
            1.0
        } else {
            trace.iter().map(|&(_, w)| f64::from(w)).sum::<f64>() / trace.len() as f64
        };
        self.cache = Some(self.build(mean));
    }

    fn access(&mut self, key: u64, weight: u32) -> bool {
        if self.cache.is_none() {
            self.cache = Some(self.build(1.0));
        }
        let cache = self.cache.as_ref().expect("built above");
        if cache.get(&key).is_some() {
            return true;
        }
        cache.insert(key, weight);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::replay;

    fn unit(trace: &[u64]) -> Vec<(u64, u32)> {
        trace.iter().map(|&k| (k, 1)).collect()
    }

    #[test]
    fn repeated_key_hits_after_first_miss() {
        for mut policy in [
            Box::new(Moka::new(100, false)) as Box<dyn Policy>,
            Box::new(QuickCache::new(100, false)),
        ] {
            let hits = replay(policy.as_mut(), &unit(&[7, 7, 7, 7]));
            assert_eq!(hits, 3, "{}", policy.name());
        }
    }

    #[test]
    fn working_set_that_fits_hits_fully() {
        // 50 keys, 20 passes, capacity 100: only the first pass misses.
        let trace: Vec<u64> = (0..20).flat_map(|_| 0..50).collect();
        for mut policy in [
            Box::new(Moka::new(100, false)) as Box<dyn Policy>,
            Box::new(QuickCache::new(100, false)),
        ] {
            let hits = replay(policy.as_mut(), &unit(&trace));
            assert_eq!(hits, 19 * 50, "{}", policy.name());
        }
    }

    #[test]
    fn capacity_is_respected() {
        // 1,000 distinct keys, then the same 1,000 again, capacity 100: at most 100
        // of the second pass can hit.
        let trace: Vec<u64> = (0..2).flat_map(|_| 0..1_000).collect();
        for mut policy in [
            Box::new(Moka::new(100, false)) as Box<dyn Policy>,
            Box::new(QuickCache::new(100, false)),
        ] {
            let hits = replay(policy.as_mut(), &unit(&trace));
            assert!(hits <= 100, "{}: {hits}", policy.name());
        }
    }

    #[test]
    fn weighted_respects_the_byte_budget() {
        // Keys of weight 100 against a budget of 1,000: at most 10 fit, so a second
        // pass over 200 keys can hit at most 10 of them. Unweighted, the same budget
        // holds all 200.
        let trace: Vec<(u64, u32)> = (0..2).flat_map(|_| (0..200).map(|k| (k, 100))).collect();
        for (mut weighted, mut unweighted) in [
            (
                Box::new(Moka::new(1_000, true)) as Box<dyn Policy>,
                Box::new(Moka::new(1_000, false)) as Box<dyn Policy>,
            ),
            (
                Box::new(QuickCache::new(1_000, true)),
                Box::new(QuickCache::new(1_000, false)),
            ),
        ] {
            let hits = replay(weighted.as_mut(), &trace);
            assert!(hits <= 10, "{} weighted: {hits}", weighted.name());
            let hits = replay(unweighted.as_mut(), &trace);
            assert_eq!(hits, 200, "{} unweighted", unweighted.name());
        }
    }

    #[test]
    fn deterministic() {
        let mut state = 88_172_645_463_325_252_u64;
        let trace: Vec<(u64, u32)> = (0..20_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Skewed: small keys are much more frequent.
                let r = state % 1_000;
                ((r * r) / 1_000, 1)
            })
            .collect();
        let a = replay(&mut Moka::new(64, false), &trace);
        let b = replay(&mut Moka::new(64, false), &trace);
        assert_eq!(a, b);
        let a = replay(&mut QuickCache::new(64, false), &trace);
        let b = replay(&mut QuickCache::new(64, false), &trace);
        assert_eq!(a, b);
    }
}
