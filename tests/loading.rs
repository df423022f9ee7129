//! Coalesced loading: one loader per key, waiters get its value, different
//! keys load in parallel, panics and errors poison nothing.

mod common;

use larder::sync::Cache;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

#[test]
fn thirty_two_threads_one_key_one_load() {
    let cache: Cache<u32, u64> = Cache::new(100);
    let loads = AtomicUsize::new(0);
    let barrier = Barrier::new(32);
    let values: Vec<u64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..32)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    cache.get_with(1, || {
                        loads.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(100));
                        42
                    })
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert!(values.iter().all(|&v| v == 42));
    assert_eq!(cache.loads_in_flight(), 0);
}

#[test]
fn eight_keys_times_eight_threads_eight_loads_that_overlap() {
    let cache: Cache<u32, u32> = Cache::new(100);
    let loads = AtomicUsize::new(0);
    let spans = Mutex::new(Vec::new());
    let barrier = Barrier::new(64);
    std::thread::scope(|s| {
        for t in 0..64u32 {
            let (cache, loads, spans, barrier) = (&cache, &loads, &spans, &barrier);
            s.spawn(move || {
                barrier.wait();
                let key = t % 8;
                let v = cache.get_with(key, || {
                    let start = Instant::now();
                    loads.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(200));
                    spans.lock().unwrap().push((start, Instant::now()));
                    key * 10
                });
                assert_eq!(v, key * 10);
            });
        }
    });
    assert_eq!(loads.load(Ordering::SeqCst), 8);
    let spans = spans.into_inner().unwrap();
    // Different keys never wait on each other: the loads overlap in time.
    let latest_start = spans.iter().map(|s| s.0).max().unwrap();
    let earliest_end = spans.iter().map(|s| s.1).min().unwrap();
    assert!(
        latest_start < earliest_end,
        "the eight loads ran one after another"
    );
}

#[test]
fn a_panicking_loader_poisons_nothing() {
    let cache: Cache<u32, u32> = Cache::new(100);
    let runs = AtomicUsize::new(0);
    let panics = AtomicUsize::new(0);
    let barrier = Barrier::new(9);
    let results: Vec<Result<u32, ()>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..9)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        cache.get_with(5, || {
                            let n = runs.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(50));
                            if n == 0 {
                                panics.fetch_add(1, Ordering::SeqCst);
                                panic!("first loader fails");
                            }
                            55
                        })
                    }))
                    .map_err(|_| ())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Exactly one panic per panicking run, reaching only its own caller.
    assert_eq!(panics.load(Ordering::SeqCst), 1);
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    assert!(results.iter().filter_map(|r| r.ok()).all(|v| v == 55));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "one failed run, then one successful run for everyone else"
    );
    assert_eq!(cache.loads_in_flight(), 0);
    assert_eq!(cache.get(&5), Some(55));
}

#[test]
fn errors_are_shared_with_waiters_and_not_cached() {
    let cache: Cache<u32, u32> = Cache::new(100);
    let runs = AtomicUsize::new(0);
    let barrier = Barrier::new(8);
    let errs: Vec<Result<u32, Arc<String>>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    cache.try_get_with(1, || {
                        runs.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(100));
                        Err("boom".to_string())
                    })
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let first = errs[0].clone().unwrap_err();
    assert!(
        errs.iter()
            .all(|e| Arc::ptr_eq(e.as_ref().unwrap_err(), &first)),
        "one shared error"
    );
    assert_eq!(cache.get(&1), None, "errors are not cached");
    assert_eq!(cache.try_get_with(1, || Ok::<_, String>(3)), Ok(3));
}

#[test]
fn none_is_not_cached() {
    let cache: Cache<u32, u32> = Cache::new(100);
    assert_eq!(cache.optionally_get_with(1, || None), None);
    assert!(!cache.contains_key(&1));
    assert_eq!(cache.optionally_get_with(1, || Some(9)), Some(9));
    assert_eq!(cache.optionally_get_with(1, || unreachable!()), Some(9));
}

#[test]
fn by_ref_variants_clone_the_key_only_when_inserting() {
    let cache: Cache<String, usize> = Cache::new(100);
    assert_eq!(cache.get_with_by_ref("hello", || 5), 5);
    assert_eq!(cache.get_with_by_ref("hello", || unreachable!()), 5);
    assert_eq!(
        cache
            .try_get_with_by_ref("err", || Err::<usize, _>(1u8))
            .unwrap_err()
            .as_ref(),
        &1
    );
    assert_eq!(cache.optionally_get_with_by_ref("none", || None), None);
    assert_eq!(cache.get("hello"), Some(5));
    assert!(!cache.contains_key("err"));
}

#[test]
fn a_loader_may_read_other_keys_but_not_load_its_own() {
    let cache: Cache<u32, u32> = Cache::new(100);
    cache.insert(2, 20);
    let v = cache.get_with(1, || cache.get(&2).unwrap() + cache.get_with(3, || 30));
    assert_eq!(v, 50);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cache.get_with(9, || cache.get_with(9, || 1))
    }));
    let msg = r.unwrap_err();
    let msg = msg
        .downcast_ref::<String>()
        .map(String::as_str)
        .or(msg.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(msg.contains("would deadlock"), "{msg}");
    assert_eq!(cache.loads_in_flight(), 0);
    assert_eq!(cache.get_with(9, || 90), 90, "the key is usable afterwards");
}
