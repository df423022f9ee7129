//! Removed values are freed promptly: epoch-based reclamation holds back a
//! bounded number of them (per-thread bags of deferred frees, plus a couple of
//! epochs' worth), never a backlog that grows with the number of removals.
//!
//! This file holds a single test so that no other test's threads are pinned
//! meanwhile (a pinned thread anywhere delays every collection).

mod common;

use common::{scaled, Counters, Tracked};
use larder::sync::Cache;

#[test]
fn removed_values_are_freed_promptly() {
    // Epoch reclamation holds back only a bounded number of removed values,
    // never a backlog that grows with the number of removals.
    let counters = Counters::new();
    let cache: Cache<u64, Tracked> = Cache::new(100);
    let mut worst = 0;
    let mut samples = Vec::new();
    for i in 0..scaled(50_000) as u64 {
        cache.insert(i % 1000, Tracked::new(i, &counters));
        if i % 1000 == 999 {
            cache.run_pending_tasks();
            worst = worst.max(counters.live());
            samples.push(counters.live());
        }
    }
    // 100 cached + bounded deferred garbage (thread-local bags of 64 plus a
    // couple of epochs' worth).
    eprintln!("live values after each maintenance: {samples:?}");
    assert!(worst < 100 + 500, "{worst} values alive for a cache of 100");
    drop(cache);
    assert_eq!(counters.settle(), 0);
}
