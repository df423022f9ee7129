//! Every value the cache takes is dropped exactly once: on replace, remove,
//! eviction, `invalidate_all`, or when the last handle is dropped.

mod common;

use common::{scaled, Counters, Rng, Tracked};
use larder::sync::Cache;

#[test]
fn every_value_is_dropped_exactly_once_after_concurrent_churn() {
    let counters = Counters::new();
    {
        let cache: Cache<u64, Tracked> = Cache::builder()
            .max_capacity(500)
            .eviction_listener(|_k, _v, _c| {})
            .build();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let cache = cache.clone();
                let counters = &counters;
                s.spawn(move || {
                    let mut rng = Rng(t + 1);
                    for i in 0..scaled(30_000) as u64 {
                        let k = rng.below(5_000);
                        match rng.below(8) {
                            0..=3 => cache.insert(k, Tracked::new(i, counters)),
                            4 => {
                                cache.remove(&k);
                            }
                            5 => {
                                let _ = cache.get(&k);
                            }
                            6 => cache.invalidate(&k),
                            _ => {
                                let _ = cache.iter().take(3).count();
                            }
                        }
                    }
                });
            }
        });
        cache.invalidate_all();
        cache.run_pending_tasks();
        assert_eq!(cache.entry_count(), 0);
    }
    assert_eq!(counters.settle(), 0, "values leaked or dropped twice");
}

#[test]
fn values_still_cached_are_dropped_with_the_last_handle() {
    let counters = Counters::new();
    let cache: Cache<u64, Tracked> = Cache::new(1_000);
    for i in 0..800 {
        cache.insert(i, Tracked::new(i, &counters));
    }
    // Replace half, without running maintenance: pending events hold the
    // replaced nodes, which Drop must free too.
    for i in 0..400 {
        cache.insert(i, Tracked::new(i, &counters));
    }
    let clone = cache.clone();
    drop(cache);
    assert!(counters.live() >= 800, "a live handle keeps the values");
    drop(clone);
    assert_eq!(counters.settle(), 0);
}
