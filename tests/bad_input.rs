//! Bad input gets a documented behaviour, never a corrupted cache.

mod common;

use larder::notification::RemovalCause;
use larder::sync::Cache;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

#[test]
fn zero_capacity_keeps_nothing_and_reports_size() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&log);
    let cache: Cache<u32, u32> = Cache::builder()
        .max_capacity(0)
        .eviction_listener(move |k: Arc<u32>, v, c| l.lock().unwrap().push((*k, v, c)))
        .build();
    for k in 0..10 {
        cache.insert(k, k);
        assert_eq!(cache.get(&k), None);
    }
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 0);
    assert_eq!(cache.weighted_size(), 0);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 10);
    assert!(log.iter().all(|e| e.2 == RemovalCause::Size));
}

#[test]
fn zero_weight_entries_are_never_evicted_for_size() {
    let cache: Cache<u32, u32> = Cache::builder()
        .max_capacity(10)
        .weigher(|k, _| if *k < 100 { 0 } else { 1 })
        .build();
    for k in 0..100 {
        cache.insert(k, k);
    }
    for k in 100..1_000 {
        cache.insert(k, k);
    }
    cache.run_pending_tasks();
    for k in 0..100 {
        assert_eq!(cache.get(&k), Some(k), "zero-weight key {k} was evicted");
    }
    assert!(cache.weighted_size() <= 10);
    assert_eq!(cache.entry_count(), 100 + cache.weighted_size());
}

#[test]
fn an_entry_heavier_than_the_capacity_is_rejected_with_size() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&log);
    let cache: Cache<u32, u32> = Cache::builder()
        .max_capacity(100)
        .weigher(|_, v| *v)
        .eviction_listener(move |k: Arc<u32>, v, c| l.lock().unwrap().push((*k, v, c)))
        .build();
    cache.insert(1, 50);
    cache.insert(2, 101);
    cache.insert(1, u32::MAX);
    assert_eq!(cache.get(&2), None);
    assert_eq!(cache.get(&1), None);
    cache.run_pending_tasks();
    assert_eq!(cache.weighted_size(), 0);
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            (2, 101, RemovalCause::Size),
            (1, 50, RemovalCause::Replaced),
            (1, u32::MAX, RemovalCause::Size)
        ]
    );
}

#[test]
fn huge_weights_do_not_overflow_totals() {
    let cache: Cache<u32, u32> = Cache::builder()
        .max_capacity(u64::MAX)
        .weigher(|_, _| u32::MAX)
        .build();
    for k in 0..1_000 {
        cache.insert(k, k);
    }
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 1_000);
    assert_eq!(cache.weighted_size(), 1_000 * u64::from(u32::MAX));
}

#[test]
fn a_panicking_weigher_propagates_and_leaves_the_cache_consistent() {
    let cache: Cache<u32, u32> = Cache::builder()
        .max_capacity(100)
        .weigher(|k, _| {
            if *k == 13 {
                panic!("weigher hates 13")
            } else {
                1
            }
        })
        .build();
    cache.insert(1, 1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.insert(13, 13)));
    assert!(r.is_err());
    assert_eq!(cache.get(&13), None);
    assert_eq!(cache.get(&1), Some(1));
    cache.insert(2, 2);
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 2);
}

/// A key whose hash is constant: every key collides.
#[derive(PartialEq, Eq, Clone, Debug)]
struct Colliding(u32);

impl Hash for Colliding {
    fn hash<H: Hasher>(&self, state: &mut H) {
        0u8.hash(state);
    }
}

#[test]
fn keys_that_all_collide_still_work() {
    let cache: Cache<Colliding, u32> = Cache::new(200);
    for k in 0..300 {
        cache.insert(Colliding(k), k);
    }
    cache.run_pending_tasks();
    assert!(cache.entry_count() <= 200);
    let present = (0..300)
        .filter(|k| cache.get(&Colliding(*k)) == Some(*k))
        .count() as u64;
    assert_eq!(present, cache.entry_count());
    for k in 0..300 {
        cache.remove(&Colliding(k));
    }
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 0);
}

/// A key whose `Hash` or `Eq` panics on demand.
#[derive(Debug)]
struct Touchy {
    id: u32,
    panic_hash: bool,
    panic_eq: bool,
}

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        assert!(!self.panic_hash, "hash panicked");
        (self.id % 4).hash(state);
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        assert!(!self.panic_eq && !other.panic_eq, "eq panicked");
        self.id == other.id
    }
}
impl Eq for Touchy {}

#[test]
fn panicking_hash_or_eq_propagates_and_the_cache_stays_usable() {
    let cache: Cache<Touchy, u32> = Cache::new(100);
    let t = |id| Touchy {
        id,
        panic_hash: false,
        panic_eq: false,
    };
    for id in 0..20 {
        cache.insert(t(id), id);
    }
    let bad_hash = Touchy {
        id: 3,
        panic_hash: true,
        panic_eq: false,
    };
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.insert(bad_hash, 0)))
            .is_err()
    );
    let bad_eq = Touchy {
        id: 5,
        panic_hash: false,
        panic_eq: true,
    };
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.get(&bad_eq))).is_err());
    let bad_eq = Touchy {
        id: 6,
        panic_hash: false,
        panic_eq: true,
    };
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.insert(bad_eq, 0))).is_err()
    );
    for id in 0..20 {
        assert_eq!(cache.get(&t(id)), Some(id));
    }
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 20);
}

/// A value whose `Drop` uses the cache it was stored in. Removed values are
/// dropped by maintenance after a grace period, on a writer's thread and
/// outside the maintenance lock, so a destructor that reads, writes or even
/// runs `run_pending_tasks` on the same cache neither deadlocks nor loses
/// drops.
#[test]
fn value_destructors_may_use_the_cache() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, OnceLock};

    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static CACHE: OnceLock<larder::sync::Cache<u64, Reentrant>> = OnceLock::new();

    #[derive(Clone)]
    struct Reentrant(Arc<u64>);
    impl Drop for Reentrant {
        fn drop(&mut self) {
            // Only the last clone (the one the cache held) counts and acts.
            if Arc::strong_count(&self.0) == 1 {
                DROPS.fetch_add(1, Ordering::SeqCst);
                if let Some(cache) = CACHE.get() {
                    let k = *self.0;
                    let _ = cache.get(&(k + 1_000_000));
                    cache.invalidate(&(k + 2_000_000));
                    if k % 64 == 0 {
                        cache.run_pending_tasks();
                    }
                }
            }
        }
    }

    let cache = CACHE.get_or_init(|| larder::sync::Cache::new(100));
    let n = 5_000u64;
    for k in 0..n {
        cache.insert(k, Reentrant(Arc::new(k)));
    }
    cache.run_pending_tasks();
    assert!(cache.entry_count() <= 100);
    cache.invalidate_all();
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 0);
    // Removed values are freed once every thread pinned at their removal has
    // moved on; other tests of this binary run on other threads, so give
    // their pins a bounded while to end.
    for _ in 0..10_000 {
        if DROPS.load(Ordering::SeqCst) >= n as usize {
            break;
        }
        std::thread::yield_now();
        cache.run_pending_tasks();
    }
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        n as usize,
        "every value dropped exactly once"
    );
}
