//! Statistics: exact counts on a single-threaded script.

use larder::sync::Cache;
use larder::CacheStats;
use std::time::Duration;

#[test]
fn exact_counts_rates_and_deltas() {
    let cache: Cache<u32, u32> = Cache::builder().max_capacity(3).record_stats().build();
    assert_eq!(cache.stats(), CacheStats::default());
    cache.insert(1, 1);
    assert_eq!(cache.get(&1), Some(1)); // hit
    assert_eq!(cache.get(&2), None); // miss
    let before = cache.stats();
    assert_eq!((before.hit_count, before.miss_count), (1, 1));
    assert_eq!(before.hit_rate(), 0.5);
    assert_eq!(
        cache.get_with(2, || {
            std::thread::sleep(Duration::from_millis(5));
            2
        }),
        2
    ); // miss + load success
    assert_eq!(cache.get_with(2, || 0), 2); // hit
    assert_eq!(cache.try_get_with(3, || Err::<u32, _>(())).ok(), None); // miss + failure
    assert_eq!(cache.optionally_get_with(4, || None), None); // miss + failure
    let s = cache.stats();
    assert_eq!((s.hit_count, s.miss_count), (2, 4));
    assert_eq!(s.request_count(), 6);
    assert_eq!((s.load_success_count, s.load_failure_count), (1, 2));
    assert!(s.total_load_time >= Duration::from_millis(5));
    let d = s.minus(&before);
    assert_eq!((d.hit_count, d.miss_count, d.load_success_count), (1, 3, 1));
    // Evictions and their weight.
    for k in 10..20 {
        cache.insert(k, k);
    }
    cache.run_pending_tasks();
    let s = cache.stats();
    assert_eq!(s.eviction_count, 12 - 3, "12 entries went in, 3 fit");
    assert_eq!(s.eviction_weight, s.eviction_count);
}

#[test]
fn stats_off_counts_nothing() {
    let cache: Cache<u32, u32> = Cache::new(3);
    cache.insert(1, 1);
    cache.get(&1);
    cache.get(&2);
    assert_eq!(cache.stats(), CacheStats::default());
}
