//! The entry API: or_insert*, and_compute_with (atomic per key), upsert.

use larder::ops::compute::{CompResult, Op};
use larder::sync::Cache;

#[test]
fn or_insert_family() {
    let cache: Cache<String, u32> = Cache::new(100);
    let e = cache.entry("a".to_string()).or_insert(1);
    assert!(e.is_fresh() && !e.is_old_value_replaced());
    assert_eq!((e.key().as_str(), *e.value()), ("a", 1));
    let e = cache.entry_by_ref("a").or_insert_with(|| unreachable!());
    assert!(!e.is_fresh());
    assert_eq!(e.into_value(), 1);
    assert!(cache
        .entry_by_ref("b")
        .or_optionally_insert_with(|| None)
        .is_none());
    assert!(!cache.contains_key("b"));
    let r = cache
        .entry("c".to_string())
        .or_try_insert_with(|| Err::<u32, _>("no"));
    assert_eq!(*r.unwrap_err(), "no");
    let r = cache
        .entry("c".to_string())
        .or_try_insert_with(|| Ok::<_, &str>(3))
        .unwrap();
    assert!(r.is_fresh());
}

#[test]
fn and_compute_with_covers_every_op() {
    let cache: Cache<u32, u32> = Cache::new(100);
    assert!(
        matches!(cache.entry(1).and_compute_with(|_| Op::Nop), CompResult::StillNone(k) if *k == 1)
    );
    assert!(matches!(
        cache.entry(1).and_compute_with(|_| Op::Remove),
        CompResult::StillNone(_)
    ));
    let r = cache.entry(1).and_compute_with(|e| {
        assert!(e.is_none());
        Op::Put(10)
    });
    assert!(matches!(&r, CompResult::Inserted(e) if *e.value() == 10 && e.is_fresh()));
    let r = cache
        .entry(1)
        .and_compute_with(|e| Op::Put(e.unwrap().into_value() + 1));
    assert!(
        matches!(&r, CompResult::ReplacedWith(e) if *e.value() == 11 && e.is_old_value_replaced())
    );
    let r = cache.entry(1).and_compute_with(|_| Op::Nop);
    assert!(matches!(&r, CompResult::Unchanged(e) if *e.value() == 11));
    let r = cache.entry_by_ref(&1).and_compute_with(|_| Op::Remove);
    assert!(matches!(&r, CompResult::Removed(e) if *e.value() == 11));
    assert_eq!(cache.get(&1), None);
    let r: Result<_, &str> = cache.entry(2).and_try_compute_with(|_| Err("nope"));
    assert_eq!(r.unwrap_err(), "nope");
    assert!(!cache.contains_key(&2));
    let e = cache
        .entry(2)
        .and_upsert_with(|e| e.map_or(0, |e| e.into_value() + 1));
    assert_eq!(*e.value(), 0);
    let e = cache
        .entry(2)
        .and_upsert_with(|e| e.map_or(0, |e| e.into_value() + 1));
    assert_eq!(*e.value(), 1);
}

#[test]
fn four_threads_increment_one_counter_atomically() {
    let cache: Cache<&'static str, u64> = Cache::new(100);
    let per_thread = if cfg!(miri) { 100 } else { 10_000 };
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..per_thread {
                    cache
                        .entry("counter")
                        .and_compute_with(|e| Op::Put(e.map_or(0, |e| e.into_value()) + 1));
                }
            });
        }
    });
    assert_eq!(cache.get("counter"), Some(4 * per_thread));
    assert_eq!(cache.loads_in_flight(), 0);
}

#[test]
fn a_panicking_compute_leaves_the_key_usable() {
    let cache: Cache<u32, u32> = Cache::new(100);
    cache.insert(1, 1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cache
            .entry(1)
            .and_compute_with(|_| -> Op<u32> { panic!("compute failed") })
    }));
    assert!(r.is_err());
    assert_eq!(cache.get(&1), Some(1));
    assert!(matches!(
        cache.entry(1).and_compute_with(|_| Op::Put(2)),
        CompResult::ReplacedWith(_)
    ));
    assert_eq!(cache.loads_in_flight(), 0);
}
