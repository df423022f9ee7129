//! moka 0.12 compatibility of the synchronous API: the paths, names,
//! signatures (including the order of generic parameters, for turbofish
//! callers) and behaviours that code ported from moka by renaming the crate
//! relies on. A failure here means ported code stops compiling or behaves
//! differently.

use larder::notification::RemovalCause;
use larder::ops::compute::{CompResult, Op};
use larder::policy::{EvictionPolicy, Expiry as PolicyExpiry};
use larder::sync::{
    Cache, CacheBuilder, ConcurrentCacheExt, Iter, OwnedKeyEntrySelector, PredicateId,
    RefKeyEntrySelector, SegmentedCache,
};
use larder::{Clock, Entry, Expiry, Policy, PredicateError};
use std::collections::hash_map::RandomState;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

/// Tests share the process-wide epoch collector; the one that checks prompt
/// drops runs alone (write lock), the others together (read lock).
static SERIAL: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    SERIAL.read().unwrap_or_else(|e| e.into_inner())
}

type Log<K, V> = Arc<Mutex<Vec<(K, V, RemovalCause)>>>;

fn logging_listener<K: Clone + Send + Sync + 'static, V: Send + 'static>(
    log: &Log<K, V>,
) -> impl Fn(Arc<K>, V, RemovalCause) + Send + Sync + 'static {
    let log = Arc::clone(log);
    move |k, v, cause| log.lock().unwrap().push(((*k).clone(), v, cause))
}

#[test]
fn module_paths_and_types_match_moka() {
    let _g = shared();
    // Builders: `sync::CacheBuilder::new` knows it builds a `sync::Cache`.
    let cache = CacheBuilder::new(100).build();
    cache.insert(1u32, "one");
    let _: &Cache<u32, &str> = &cache;
    let b: CacheBuilder<u32, u32, Cache<u32, u32>> = Cache::builder();
    let _: Cache<u32, u32> = b.build();
    let _: CacheBuilder<u32, u32, SegmentedCache<u32, u32>> = SegmentedCache::builder(2);
    let _: Cache<u32, u32, RandomState> = Cache::builder().build_with_hasher(RandomState::new());

    // Selectors and iterator are nameable with moka's generics.
    let _: OwnedKeyEntrySelector<'_, u32, &str, ahash::RandomState> = cache.entry(2);
    let _: RefKeyEntrySelector<'_, u32, u32, &str, ahash::RandomState> = cache.entry_by_ref(&2);
    let it: Iter<'_, u32, &str> = cache.iter();
    assert_eq!(it.count(), 1);

    // Root and module re-exports.
    let policy: Policy = cache.policy();
    assert_eq!(policy.max_capacity(), Some(100));
    let id: Result<PredicateId, PredicateError> = cache.invalidate_entries_if(|_, _| false);
    assert!(id.is_ok());
    fn takes_expiry<E: PolicyExpiry<u32, u32>>(_: &E) {}
    struct Never;
    impl Expiry<u32, u32> for Never {}
    takes_expiry(&Never);
}

#[test]
fn generic_parameter_order_matches_moka() {
    let _g = shared();
    #[derive(Debug, PartialEq)]
    struct MyErr;
    let cache: Cache<String, u32> = Cache::new(10);
    assert_eq!(cache.try_get_with::<_, MyErr>("a".into(), || Ok(1)), Ok(1));
    assert_eq!(
        cache.try_get_with_by_ref::<_, MyErr, str>("b", || Ok(2)),
        Ok(2)
    );
    assert_eq!(
        cache.optionally_get_with::<_>("c".into(), || Some(3)),
        Some(3)
    );
    assert_eq!(
        cache.optionally_get_with_by_ref::<_, str>("d", || Some(4)),
        Some(4)
    );
    let e = cache
        .entry("e".into())
        .or_try_insert_with::<_, MyErr>(|| Ok(5))
        .unwrap();
    assert_eq!(e.into_value(), 5);
    let r = cache
        .entry_by_ref("e")
        .and_try_compute_with::<_, MyErr>(|_| Ok(Op::Nop))
        .unwrap();
    assert!(matches!(r, CompResult::Unchanged(_)));
    let r = cache
        .entry("f".into())
        .and_compute_with::<_>(|_| Op::Put(6));
    assert!(matches!(r, CompResult::Inserted(_)));
    let e = cache
        .entry("f".into())
        .and_upsert_with::<_>(|e| e.unwrap().into_value() + 1);
    assert_eq!(e.into_value(), 7);
}

#[test]
fn basic_operations() {
    let _g = shared();
    let cache = Cache::builder()
        .name("basic")
        .max_capacity(100)
        .initial_capacity(10)
        .support_invalidation_closures()
        .build();
    assert_eq!(cache.name(), Some("basic"));
    cache.insert("a".to_string(), 1);
    assert_eq!(cache.get("a"), Some(1));
    assert!(cache.contains_key("a"));
    assert_eq!(cache.remove("a"), Some(1));
    assert_eq!(cache.get("a"), None);
    cache.insert("b".to_string(), 2);
    cache.invalidate("b");
    assert!(!cache.contains_key("b"));
    for i in 0..10 {
        cache.insert(i.to_string(), i);
    }
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 10);
    assert_eq!(cache.weighted_size(), 10);
    cache.invalidate_entries_if(|_, v| v % 2 == 0).unwrap();
    let mut left: Vec<u32> = (&cache).into_iter().map(|(_, v)| v).collect();
    left.sort_unstable();
    assert_eq!(left, vec![1, 3, 5, 7, 9]);
    cache.invalidate_all();
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 0);
    assert_eq!(cache.iter().count(), 0);
}

#[test]
fn loading_methods() {
    let _g = shared();
    let cache: Cache<u32, String> = Cache::new(10);
    assert_eq!(cache.get_with(1, || "one".into()), "one");
    assert_eq!(cache.get_with_by_ref(&2, || "two".into()), "two");
    let err = cache
        .try_get_with(3, || Err::<String, _>(std::io::ErrorKind::NotFound))
        .unwrap_err();
    let _: Arc<std::io::ErrorKind> = err;
    assert!(!cache.contains_key(&3));
    assert_eq!(cache.optionally_get_with(4, || None), None);
    assert!(!cache.contains_key(&4));
    // get_with_if: replaces only when asked to.
    assert_eq!(cache.get_with_if(1, || "uno".into(), |v| v == "x"), "one");
    assert_eq!(cache.get_with_if(1, || "uno".into(), |v| v == "one"), "uno");
    assert_eq!(cache.get(&1).as_deref(), Some("uno"));
}

#[test]
fn entry_api() {
    let _g = shared();
    let cache: Cache<String, u64> = Cache::new(100);
    let e: Entry<String, u64> = cache.entry("a".into()).or_insert(1);
    assert!(e.is_fresh());
    assert_eq!((e.key().as_str(), *e.value()), ("a", 1));
    let e = cache.entry_by_ref("a").or_insert_with(|| unreachable!());
    assert!(!e.is_fresh());
    assert_eq!(cache.entry("z".into()).or_default().into_value(), 0);
    assert!(cache
        .entry("n".into())
        .or_optionally_insert_with(|| None)
        .is_none());

    // or_insert_with_if
    let e = cache
        .entry_by_ref("a")
        .or_insert_with_if(|| 10, |v| *v == 1);
    assert!(e.is_fresh() && e.is_old_value_replaced());
    assert_eq!(e.into_value(), 10);
    let e = cache.entry_by_ref("a").or_insert_with_if(|| 20, |_| false);
    assert!(!e.is_fresh());
    assert_eq!(e.into_value(), 10);

    // and_upsert_with: the counter example.
    let incr = |key: &str| {
        cache
            .entry_by_ref(key)
            .and_upsert_with(|e| e.map_or(1, |e| e.into_value() + 1))
    };
    let e = incr("c");
    assert!(e.is_fresh() && !e.is_old_value_replaced());
    let e = incr("c");
    assert!(e.is_fresh() && e.is_old_value_replaced());
    assert_eq!(e.into_value(), 2);

    // and_compute_with: every CompResult variant.
    let step = |key: &str| {
        cache.entry_by_ref(key).and_compute_with(|e| match e {
            None => Op::Put(1),
            Some(e) if *e.value() < 2 => Op::Put(e.into_value() + 1),
            Some(_) => Op::Remove,
        })
    };
    assert!(matches!(step("b"), CompResult::Inserted(e) if *e.value() == 1));
    assert!(matches!(step("b"), CompResult::ReplacedWith(e) if *e.value() == 2));
    assert!(matches!(step("b"), CompResult::Removed(e) if *e.value() == 2));
    assert!(!cache.contains_key("b"));
    let r = cache.entry_by_ref("b").and_compute_with(|_| Op::Nop);
    match r {
        CompResult::StillNone(k) => assert_eq!(*k, "b"),
        other => panic!("expected StillNone, got {other:?}"),
    }
    let r = cache.entry_by_ref("c").and_compute_with(|_| Op::Nop);
    assert_eq!(r.unwrap().into_value(), 2);
    let r = cache.entry_by_ref("none").and_compute_with(|_| Op::Remove);
    assert!(r.into_entry().is_none());

    // and_try_compute_with: an error changes nothing.
    let r: Result<_, &str> = cache
        .entry_by_ref("c")
        .and_try_compute_with(|_| Err("failed"));
    assert_eq!(r.unwrap_err(), "failed");
    assert_eq!(cache.get("c"), Some(2));
}

#[test]
#[should_panic(expected = "StillNone")]
fn comp_result_unwrap_panics_on_still_none() {
    let _g = shared();
    let cache: Cache<u32, u32> = Cache::new(10);
    cache.entry(1).and_compute_with(|_| Op::Nop).unwrap();
}

#[test]
fn eviction_listener_causes() {
    let _g = shared();
    let log: Log<u32, u32> = Arc::default();
    let (clock, mock) = Clock::mock();
    let cache = Cache::builder()
        .max_capacity(2)
        .time_to_live(Duration::from_secs(10))
        .eviction_listener(logging_listener(&log))
        .clock(clock)
        .build();
    cache.insert(1, 1);
    cache.insert(1, 11);
    cache.invalidate(&1);
    cache.insert(2, 2);
    cache.run_pending_tasks();
    mock.advance(Duration::from_secs(10));
    cache.run_pending_tasks();
    let mut seen = log.lock().unwrap().clone();
    seen.sort_by_key(|&(k, v, _)| (k, v));
    assert_eq!(
        seen,
        vec![
            (1, 1, RemovalCause::Replaced),
            (1, 11, RemovalCause::Explicit),
            (2, 2, RemovalCause::Expired),
        ]
    );
    assert!(RemovalCause::Expired.was_evicted() && RemovalCause::Size.was_evicted());
    assert!(!RemovalCause::Replaced.was_evicted() && !RemovalCause::Explicit.was_evicted());

    // Size: a value heavier than the whole capacity is never kept.
    let log: Log<u32, u32> = Arc::default();
    let cache = Cache::builder()
        .max_capacity(10)
        .weigher(|_, v: &u32| *v)
        .eviction_listener(logging_listener(&log))
        .build();
    cache.insert(1, 100);
    cache.run_pending_tasks();
    assert_eq!(*log.lock().unwrap(), vec![(1, 100, RemovalCause::Size)]);
    assert!(cache.weighted_size() <= 10);
}

#[test]
fn expire_after_accepts_moka_style_impls_and_trait_objects() {
    let _g = shared();
    struct PerValue;
    impl Expiry<u32, u64> for PerValue {
        fn expire_after_create(&self, _k: &u32, v: &u64, _at: Instant) -> Option<Duration> {
            Some(Duration::from_secs(*v))
        }
    }
    let expiry: Arc<dyn Expiry<u32, u64> + Send + Sync> = Arc::new(PerValue);
    let (clock, mock) = Clock::mock();
    let cache = Cache::builder().expire_after(expiry).clock(clock).build();
    cache.insert(1, 5);
    cache.insert(2, 50);
    mock.advance(Duration::from_secs(5));
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get(&2), Some(50));

    let boxed: Box<dyn Expiry<u32, u64> + Send + Sync> = Box::new(PerValue);
    let cache: Cache<u32, u64> = Cache::builder().expire_after(boxed).build();
    cache.insert(1, 1_000);
    assert!(cache.contains_key(&1));
}

#[test]
fn eviction_policy_is_accepted() {
    let _g = shared();
    for policy in [EvictionPolicy::tiny_lfu(), EvictionPolicy::lru()] {
        let cache: Cache<u32, u32> = Cache::builder()
            .max_capacity(10)
            .eviction_policy(policy.clone())
            .build();
        for i in 0..100 {
            cache.insert(i, i);
        }
        cache.run_pending_tasks();
        assert!(cache.entry_count() <= 10);
    }
    assert_eq!(EvictionPolicy::default(), EvictionPolicy::tiny_lfu());
    assert_eq!(
        format!("{:?}", EvictionPolicy::tiny_lfu()),
        "EvictionPolicy::TinyLfu"
    );
}

#[test]
#[allow(deprecated)]
fn segmented_cache() {
    let _g = shared();
    let cache: SegmentedCache<u32, u32> = SegmentedCache::new(100, 4);
    assert_eq!(cache.policy().num_segments(), 4);
    let b = Cache::builder().max_capacity(50).segments(8);
    let other: SegmentedCache<u32, u32> = b.build();
    assert_eq!(other.policy().num_segments(), 8);
    assert_eq!(other.policy().max_capacity(), Some(50));
    for i in 0..6 {
        cache.insert(i, i);
    }
    // moka's SegmentedCache returns `Result<(), PredicateError>` here.
    let r: Result<(), PredicateError> = cache.invalidate_entries_if(|_, v| *v < 3);
    assert_eq!(r, Ok(()));
    let mut keys: Vec<u32> = (&cache).into_iter().map(|(k, _)| *k).collect();
    keys.sort_unstable();
    assert_eq!(keys, vec![3, 4, 5]);
    assert_eq!(cache.get_or_insert_with(10, || 10), 10);
    assert_eq!(cache.get_or_try_insert_with(11, || Ok::<_, ()>(11)), Ok(11));
    assert_eq!(cache.get_with_if(10, || 100, |_| true), 100);
    cache.sync();
    assert_eq!(cache.entry_count(), 5);
}

#[test]
fn concurrent_sharing_by_clone() {
    let _g = shared();
    let cache: Cache<usize, String> = Cache::new(10_000);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let c = cache.clone();
            std::thread::spawn(move || {
                for k in t * 64..(t + 1) * 64 {
                    c.insert(k, k.to_string());
                    assert_eq!(c.get(&k), Some(k.to_string()));
                }
                for k in (t * 64..(t + 1) * 64).step_by(4) {
                    c.invalidate(&k);
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    for k in 0..512 {
        assert_eq!(cache.get(&k).is_some(), k % 4 != 0, "key {k}");
    }
}

#[test]
fn coalesced_loading() {
    let _g = shared();
    let cache: Cache<u32, u32> = Cache::new(10);
    let calls = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let c = cache.clone();
            let calls = Arc::clone(&calls);
            std::thread::spawn(move || {
                c.get_with(1, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    7
                })
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 7);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// As in moka, code may hold `Arc`s to cached values (or count drops) and
/// expect that once `run_pending_tasks()` returns, the values the cache
/// removed are no longer held by it (moka's `cascading_drop_async` example
/// relies on it).
#[test]
fn removed_values_are_released_by_run_pending_tasks() {
    let _alone = SERIAL.write().unwrap_or_else(|e| e.into_inner());
    let cache: Cache<u32, Arc<()>> = Cache::new(100);
    let values: Vec<Arc<()>> = (0..3).map(|_| Arc::new(())).collect();
    for (i, v) in values.iter().enumerate() {
        cache.insert(i as u32, Arc::clone(v));
    }
    cache.invalidate(&0);
    cache.insert(1, Arc::new(()));
    cache.invalidate_all();
    cache.run_pending_tasks();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(Arc::strong_count(v), 1, "value {i} still held by the cache");
    }
}
