//! The eviction listener: one notification per removed value with the right
//! cause, delivered outside every internal lock (a listener may re-enter the
//! cache), in order per key.

mod common;

use larder::notification::RemovalCause;
use larder::sync::Cache;
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<(u64, u64, RemovalCause)>>>;

fn logging_cache(max: u64) -> (Cache<u64, u64>, Log) {
    let log: Log = Arc::default();
    let l = Arc::clone(&log);
    let cache = Cache::builder()
        .max_capacity(max)
        .eviction_listener(move |k: Arc<u64>, v, cause| l.lock().unwrap().push((*k, v, cause)))
        .build();
    (cache, log)
}

#[test]
fn causes_are_right_for_each_kind_of_removal() {
    let (cache, log) = logging_cache(100);
    cache.insert(1, 10);
    cache.insert(1, 11);
    assert_eq!(cache.remove(&1), Some(11));
    cache.insert(2, 20);
    cache.invalidate(&2);
    cache.insert(3, 30);
    cache.invalidate_all();
    cache.insert(4, 40);
    cache.invalidate_entries_if(|k, _| *k == 4).unwrap();
    cache.run_pending_tasks();
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            (1, 10, RemovalCause::Replaced),
            (1, 11, RemovalCause::Explicit),
            (2, 20, RemovalCause::Explicit),
            (3, 30, RemovalCause::Explicit),
            (4, 40, RemovalCause::Explicit),
        ]
    );
    assert!(!RemovalCause::Replaced.was_evicted());
}

#[test]
fn evictions_are_reported_as_size_once_per_value() {
    let (cache, log) = logging_cache(50);
    for k in 0..500 {
        cache.insert(k, k);
    }
    cache.run_pending_tasks();
    let log = log.lock().unwrap();
    assert!(log
        .iter()
        .all(|&(k, v, c)| c == RemovalCause::Size && k == v));
    let mut keys: Vec<u64> = log.iter().map(|e| e.0).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), log.len(), "a value was reported twice");
    assert_eq!(
        log.len() as u64 + cache.entry_count(),
        500,
        "every value is either cached or reported"
    );
}

#[test]
fn a_listener_that_reenters_the_cache_does_not_deadlock() {
    let slot: Arc<Mutex<Option<Cache<u64, u64>>>> = Arc::default();
    let s = Arc::clone(&slot);
    let seen = Arc::new(Mutex::new(0u64));
    let seen2 = Arc::clone(&seen);
    let cache: Cache<u64, u64> = Cache::builder()
        .max_capacity(20)
        .eviction_listener(move |k: Arc<u64>, v, _cause| {
            let c = s.lock().unwrap().clone().expect("cache set");
            // Reads and writes from inside the listener.
            let _ = c.get(&*k);
            if *k < 1_000 {
                c.insert(*k + 1_000, v);
            }
            c.run_pending_tasks();
            *seen2.lock().unwrap() += 1;
        })
        .build();
    *slot.lock().unwrap() = Some(cache.clone());
    std::thread::scope(|sc| {
        for t in 0..2u64 {
            let cache = cache.clone();
            sc.spawn(move || {
                for k in 0..300 {
                    cache.insert(t * 300 + k, k);
                    cache.remove(&(t * 300 + k / 2));
                }
            });
        }
    });
    cache.run_pending_tasks();
    assert!(*seen.lock().unwrap() > 300);
    *slot.lock().unwrap() = None; // break the cycle
}

#[test]
fn removals_of_one_key_are_reported_in_order() {
    let (cache, log) = logging_cache(1_000);
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let cache = cache.clone();
            s.spawn(move || {
                for i in 0..2_000u64 {
                    // Values increase per thread; each thread owns its keys.
                    cache.insert(t, i);
                }
            });
        }
    });
    cache.run_pending_tasks();
    let log = log.lock().unwrap();
    for t in 0..2u64 {
        let vals: Vec<u64> = log.iter().filter(|e| e.0 == t).map(|e| e.1).collect();
        assert_eq!(vals.len(), 1_999, "key {t}");
        assert!(
            vals.windows(2).all(|w| w[0] < w[1]),
            "key {t} reported out of order"
        );
    }
}

#[test]
fn a_panicking_listener_propagates_to_its_caller_and_the_cache_goes_on() {
    let cache: Cache<u64, u64> = Cache::builder()
        .max_capacity(10)
        .eviction_listener(|k: Arc<u64>, _v, _c| {
            if *k == 7 {
                panic!("listener failed on 7");
            }
        })
        .build();
    cache.insert(7, 1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.insert(7, 2)));
    assert!(
        r.is_err(),
        "the replace of 7 notifies and the listener panics"
    );
    assert_eq!(cache.get(&7), Some(2));
    cache.insert(8, 8);
    cache.remove(&8);
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 1);
}
