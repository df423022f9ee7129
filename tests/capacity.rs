//! Capacity bounds under concurrent churn, for count- and weight-bounded
//! caches, and consistency of `entry_count`, `weighted_size` and `iter`.

mod common;

use common::{scaled, Rng};
use larder::sync::Cache;
use std::sync::Arc;

fn churn(cache: &Cache<u64, u64>, threads: u64, key_space: u64, ops: usize) {
    std::thread::scope(|s| {
        for t in 0..threads {
            let cache = cache.clone();
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9 + t);
                for _ in 0..ops {
                    let k = rng.below(key_space);
                    match rng.below(10) {
                        0..=4 => {
                            if cache.get(&k).is_none() {
                                cache.insert(k, k * 3);
                            }
                        }
                        5..=7 => cache.insert(k, k * 3),
                        _ => {
                            cache.remove(&k);
                        }
                    }
                }
            });
        }
    });
}

fn check_quiescent(cache: &Cache<u64, u64>, weigh: impl Fn(u64) -> u64, max: u64) {
    cache.run_pending_tasks();
    let items: Vec<(Arc<u64>, u64)> = cache.iter().collect();
    assert!(
        cache.weighted_size() <= max,
        "weighted_size {} > max {max}",
        cache.weighted_size()
    );
    assert_eq!(
        cache.entry_count(),
        items.len() as u64,
        "entry_count vs iter"
    );
    let sum: u64 = items.iter().map(|(k, _)| weigh(**k)).sum();
    assert_eq!(
        cache.weighted_size(),
        sum,
        "weighted_size vs sum of weights"
    );
    for (k, v) in items {
        assert_eq!(v, *k * 3, "value belongs to its key");
    }
}

#[test]
fn count_bounded_cache_stays_within_capacity_under_churn() {
    for threads in [2, 4] {
        let max = 1_000;
        let cache = Cache::new(max);
        churn(&cache, threads, max * 10, scaled(50_000));
        check_quiescent(&cache, |_| 1, max);
        assert!(
            cache.entry_count() > max / 2,
            "the cache should be mostly full"
        );
    }
}

#[test]
fn weight_bounded_cache_stays_within_capacity_under_churn() {
    for threads in [2, 4] {
        let max = 5_000;
        let weigh = |k: u64| k % 10 + 1;
        let cache: Cache<u64, u64> = Cache::builder()
            .max_capacity(max)
            .weigher(move |k: &u64, _v: &u64| weigh(*k) as u32)
            .build();
        churn(&cache, threads, 10_000, scaled(50_000));
        check_quiescent(&cache, weigh, max);
        assert!(cache.weighted_size() > max / 2);
    }
}

#[test]
fn a_cache_of_capacity_n_keeps_n_entries_when_nothing_competes() {
    for n in [1u64, 2, 3, 10, 100, 1000] {
        let cache = Cache::new(n);
        for k in 0..n {
            cache.insert(k, k * 3);
        }
        cache.run_pending_tasks();
        assert_eq!(cache.entry_count(), n);
        for k in 0..n {
            assert_eq!(cache.get(&k), Some(k * 3), "capacity {n}, key {k}");
        }
    }
}

#[test]
fn unbounded_cache_keeps_everything() {
    let cache: Cache<u64, u64> = Cache::builder().build();
    for k in 0..scaled(20_000) as u64 {
        cache.insert(k, k);
    }
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), scaled(20_000) as u64);
    assert_eq!(cache.policy().max_capacity(), None);
}

#[test]
fn overshoot_between_maintenance_runs_is_bounded() {
    // Without run_pending_tasks, maintenance still runs by itself: after many
    // inserts the size stays within the documented bound.
    let max = 100;
    let cache = Cache::new(max);
    for k in 0..100_000u64 {
        cache.insert(k, k);
    }
    let in_table = cache.iter().count() as u64;
    assert!(
        in_table <= max + 1024,
        "{in_table} entries in a cache of {max}"
    );
}
