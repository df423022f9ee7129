//! Expiration with the mock clock: TTL, TTI and per-entry `Expiry`, exact
//! deadlines (inclusive), reclamation by maintenance, listener causes, and
//! the edge cases (zero, huge and panicking durations).

mod common;

use common::{Counters, Tracked};
use larder::notification::RemovalCause;
use larder::sync::Cache;
use larder::{Clock, Expiry, MockHandle};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NS: Duration = Duration::from_nanos(1);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

type Log = Arc<Mutex<Vec<(u32, u32, RemovalCause)>>>;

fn build(
    f: impl FnOnce(
        larder::CacheBuilder<u32, u32, Cache<u32, u32>>,
    ) -> larder::CacheBuilder<u32, u32, Cache<u32, u32>>,
) -> (Cache<u32, u32>, MockHandle, Log) {
    let (clock, mock) = Clock::mock();
    let log: Log = Arc::default();
    let l = Arc::clone(&log);
    let b = Cache::builder()
        .max_capacity(1_000)
        .clock(clock)
        .eviction_listener(move |k: Arc<u32>, v, c| l.lock().unwrap().push((*k, v, c)));
    (f(b).build(), mock, log)
}

#[test]
fn ttl_expires_exactly_at_the_deadline_and_reads_do_not_extend_it() {
    let (cache, mock, _) = build(|b| b.time_to_live(secs(10)));
    cache.insert(1, 1);
    mock.advance(secs(5));
    assert_eq!(cache.get(&1), Some(1));
    mock.advance(secs(5) - NS);
    assert_eq!(cache.get(&1), Some(1), "one tick before the deadline");
    assert!(cache.contains_key(&1));
    mock.advance(NS);
    assert_eq!(cache.get(&1), None, "at the deadline");
    assert!(!cache.contains_key(&1));
    assert_eq!(cache.iter().count(), 0);
    assert_eq!(cache.policy().time_to_live(), Some(secs(10)));
}

#[test]
fn an_update_resets_the_ttl() {
    let (cache, mock, log) = build(|b| b.time_to_live(secs(10)));
    cache.insert(1, 1);
    mock.advance(secs(8));
    cache.insert(1, 2);
    mock.advance(secs(8));
    assert_eq!(cache.get(&1), Some(2));
    mock.advance(secs(2));
    assert_eq!(cache.get(&1), None);
    cache.run_pending_tasks();
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            (1, 1, RemovalCause::Replaced),
            (1, 2, RemovalCause::Expired)
        ]
    );
}

#[test]
fn tti_expires_after_idleness_and_reads_extend_it() {
    let (cache, mock, _) = build(|b| b.time_to_idle(secs(10)));
    cache.insert(1, 1);
    mock.advance(secs(6));
    assert_eq!(cache.get(&1), Some(1)); // now idle until 16 s
    mock.advance(secs(10) - NS);
    assert!(
        cache.contains_key(&1),
        "contains_key does not count as an access"
    );
    mock.advance(NS);
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.policy().time_to_idle(), Some(secs(10)));
}

#[test]
fn ttl_and_tti_combined_the_earliest_deadline_wins() {
    let (cache, mock, _) = build(|b| b.time_to_live(secs(20)).time_to_idle(secs(10)));
    cache.insert(1, 1);
    for _ in 0..3 {
        mock.advance(secs(6));
        assert_eq!(cache.get(&1), Some(1), "reads keep it from idling out");
    }
    mock.advance(secs(2) - NS); // 20 s - 1 ns after the write
    assert_eq!(cache.get(&1), Some(1));
    mock.advance(NS);
    assert_eq!(cache.get(&1), None, "the TTL caps the idle extensions");
}

/// Per-entry expiry: create 5 s; a read sets 20 s; an update sets 1 s.
struct Custom;

impl Expiry<u32, u32> for Custom {
    fn expire_after_create(&self, _k: &u32, v: &u32, _at: Instant) -> Option<Duration> {
        (*v != 0).then(|| secs(5))
    }
    fn expire_after_read(
        &self,
        _k: &u32,
        v: &u32,
        _at: Instant,
        left: Option<Duration>,
        _m: Instant,
    ) -> Option<Duration> {
        if *v == 7 {
            Some(secs(20))
        } else {
            left
        }
    }
    fn expire_after_update(
        &self,
        _k: &u32,
        _v: &u32,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(secs(1))
    }
}

#[test]
fn per_entry_expiry_can_extend_and_shorten() {
    let (cache, mock, _) = build(|b| b.expire_after(Custom));
    cache.insert(1, 1); // 5 s
    cache.insert(7, 7); // 5 s, reads extend to 20 s
    cache.insert(0, 0); // never
    mock.advance(secs(4));
    assert_eq!(cache.get(&7), Some(7)); // now until 24 s
    mock.advance(secs(1) - NS);
    assert_eq!(cache.get(&1), Some(1), "default read keeps the deadline");
    mock.advance(NS);
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get(&7), Some(7)); // read at 5 s: until 25 s
    cache.insert(7, 8); // update: 1 s
    mock.advance(secs(1) - NS);
    assert_eq!(cache.get(&7), Some(8));
    mock.advance(NS);
    assert_eq!(cache.get(&7), None, "the update shortened it");
    mock.advance(secs(365 * 24 * 3600));
    assert_eq!(cache.get(&0), Some(0), "None means never");
}

#[test]
fn expiry_sees_the_mock_clock_as_instants() {
    struct Check(Arc<Mutex<Vec<Instant>>>);
    impl Expiry<u32, u32> for Check {
        fn expire_after_create(&self, _k: &u32, _v: &u32, at: Instant) -> Option<Duration> {
            self.0.lock().unwrap().push(at);
            None
        }
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (cache, mock, _) = build(|b| b.expire_after(Check(Arc::clone(&seen))));
    cache.insert(1, 1);
    mock.advance(secs(42));
    cache.insert(2, 2);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[1] - seen[0], secs(42));
}

#[test]
fn zero_duration_is_never_visible_and_max_duration_never_expires() {
    let (cache, mock, log) = build(|b| b.time_to_live(Duration::ZERO));
    cache.insert(1, 1);
    assert_eq!(cache.get(&1), None);
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 0);
    assert_eq!(*log.lock().unwrap(), vec![(1, 1, RemovalCause::Expired)]);

    let (cache, mock2, _) = build(|b| b.time_to_live(Duration::MAX).time_to_idle(Duration::MAX));
    cache.insert(1, 1);
    mock2.advance(secs(500 * 365 * 24 * 3600));
    assert_eq!(cache.get(&1), Some(1));
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 1);
    drop(mock);
}

#[test]
fn huge_durations_from_expiry_do_not_overflow() {
    struct Huge;
    impl Expiry<u32, u32> for Huge {
        fn expire_after_create(&self, _k: &u32, _v: &u32, _at: Instant) -> Option<Duration> {
            Some(Duration::MAX)
        }
        fn expire_after_read(
            &self,
            _k: &u32,
            _v: &u32,
            _at: Instant,
            _l: Option<Duration>,
            _m: Instant,
        ) -> Option<Duration> {
            Some(Duration::new(u64::MAX, 999_999_999))
        }
    }
    let (cache, mock, _) = build(|b| b.expire_after(Huge).time_to_idle(secs(u64::MAX)));
    mock.advance(secs(400 * 365 * 24 * 3600));
    cache.insert(1, 1);
    for _ in 0..3 {
        assert_eq!(cache.get(&1), Some(1));
        mock.advance(secs(50 * 365 * 24 * 3600));
    }
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 1);
}

#[test]
fn a_panicking_expiry_propagates_and_leaves_the_cache_consistent() {
    struct Grumpy;
    impl Expiry<u32, u32> for Grumpy {
        fn expire_after_create(&self, k: &u32, _v: &u32, _at: Instant) -> Option<Duration> {
            assert!(*k != 13, "no thirteen");
            Some(secs(10))
        }
        fn expire_after_read(
            &self,
            k: &u32,
            _v: &u32,
            _at: Instant,
            left: Option<Duration>,
            _m: Instant,
        ) -> Option<Duration> {
            assert!(*k != 14, "no reading fourteen");
            left
        }
    }
    let (cache, mock, _) = build(|b| b.expire_after(Grumpy));
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.insert(13, 13))).is_err()
    );
    assert_eq!(cache.get(&13), None);
    cache.insert(14, 14);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.get(&14))).is_err());
    mock.advance(secs(10));
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 0, "14 still expired on time");
}

#[test]
fn expired_entries_are_reclaimed_with_expired_once_even_when_also_replaced_or_evicted() {
    let (clock, mock) = Clock::mock();
    let log: Log = Arc::default();
    let l = Arc::clone(&log);
    let cache: Cache<u32, u32> = Cache::builder()
        .max_capacity(10)
        .time_to_live(secs(1))
        .clock(clock)
        .eviction_listener(move |k: Arc<u32>, v, c| l.lock().unwrap().push((*k, v, c)))
        .build();
    for k in 0..10 {
        cache.insert(k, k);
    }
    mock.advance(secs(1));
    cache.insert(0, 100); // replaces an expired value: reported as Expired
    for k in 20..30 {
        cache.insert(k, k); // size pressure while 1..10 are expired
    }
    cache.run_pending_tasks();
    mock.advance(secs(1));
    cache.run_pending_tasks();
    let log = log.lock().unwrap();
    let mut per_value = std::collections::HashMap::new();
    for &(k, v, c) in log.iter() {
        assert!(
            per_value.insert((k, v), c).is_none(),
            "({k}, {v}) reported twice"
        );
    }
    for k in 0..10 {
        assert_eq!(
            per_value.get(&(k, k)),
            Some(&RemovalCause::Expired),
            "key {k}"
        );
    }
    assert_eq!(cache.entry_count(), 0);
}

#[test]
fn memory_stays_bounded_with_a_short_ttl_and_endless_fresh_keys() {
    let (clock, mock) = Clock::mock();
    let counters = Counters::new();
    let cache: Cache<u64, Tracked> = Cache::builder()
        .max_capacity(1_000_000)
        .time_to_live(secs(1))
        .clock(clock)
        .build();
    // 10 simulated minutes, 1,000 inserts per simulated second, no
    // run_pending_tasks: maintenance is driven by the writes alone.
    let per_second = 1_000u64;
    let mut worst = 0;
    let mut key = 0u64;
    for _second in 0..600 {
        for _ in 0..per_second {
            cache.insert(key, Tracked::new(key, &counters));
            key += 1;
            mock.advance(Duration::from_millis(1));
        }
        worst = worst.max(cache.entry_count());
    }
    // One second of inserts, plus the write backlog bound.
    assert!(worst <= per_second + 1_024, "entry_count reached {worst}");
    drop(cache);
    assert_eq!(
        counters.settle(),
        0,
        "every expired value dropped exactly once"
    );
}

#[test]
fn reads_alone_drive_reclamation() {
    let (cache, mock, log) = build(|b| b.time_to_live(secs(1)));
    for k in 0..100 {
        cache.insert(k, k);
    }
    mock.advance(secs(2));
    for _ in 0..1_000 {
        let _ = cache.get(&5000);
        let _ = cache.get(&1);
    }
    // Misses do not record; hits on other live keys do.
    cache.insert(5000, 1);
    for _ in 0..1_000 {
        let _ = cache.get(&5000);
    }
    assert!(
        log.lock().unwrap().len() >= 100,
        "expired entries reclaimed without run_pending_tasks: {} {}",
        log.lock().unwrap().len(),
        cache.entry_count()
    );
}
