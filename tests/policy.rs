//! Eviction is frequency-aware: TinyLFU admission keeps a hot working set
//! through a one-pass scan that would flush a plain LRU.

mod common;

use common::Rng;
use larder::sync::Cache;
use std::collections::{HashSet, VecDeque};

/// A minimal LRU, to show the workload really defeats recency alone.
struct Lru {
    cap: usize,
    order: VecDeque<u64>,
    set: HashSet<u64>,
}

impl Lru {
    fn access(&mut self, k: u64) {
        if !self.set.insert(k) {
            self.order.retain(|&x| x != k);
        } else if self.set.len() > self.cap {
            let old = self.order.pop_front().unwrap();
            self.set.remove(&old);
        }
        self.order.push_back(k);
    }
}

#[test]
fn hot_set_survives_a_scan_larger_than_the_cache() {
    let cap = 1_000u64;
    let hot: Vec<u64> = (0..500).collect();
    let cache = Cache::new(cap);
    let mut lru = Lru {
        cap: cap as usize,
        order: VecDeque::new(),
        set: HashSet::new(),
    };
    let mut access = |k: u64| {
        if cache.get(&k).is_none() {
            cache.insert(k, k);
        }
        lru.access(k);
    };
    let mut rng = Rng(7);
    for _ in 0..20_000 {
        access(hot[rng.below(hot.len() as u64) as usize]);
    }
    // A scan of 5x the capacity of keys never seen again, while the hot set
    // is still being read (one hot read per scanned key).
    for i in 0..5_000u64 {
        access(1_000_000 + i);
        {
            access(hot[rng.below(hot.len() as u64) as usize]);
        }
    }
    cache.run_pending_tasks();
    let kept = hot.iter().filter(|k| cache.contains_key(*k)).count();
    let lru_kept = hot.iter().filter(|k| lru.set.contains(*k)).count();
    assert!(kept >= 450, "TinyLFU kept only {kept}/500 hot keys");
    assert!(
        lru_kept < 400,
        "the workload should defeat LRU (kept {lru_kept})"
    );
}
