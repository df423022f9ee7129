//! Soak: several threads run a mixed workload (insert, get, get_with,
//! remove, entry().and_compute_with) on one cache with a time-to-live (a
//! mock clock that one thread advances), a weigher and an eviction
//! listener, for a fixed number of operations. Then:
//! * `entry_count` and `weighted_size` equal the count and the weight sum of
//!   what `iter()` shows (after `run_pending_tasks`);
//! * the listener was called exactly once for every value that left the
//!   cache, and never for one still resident when the cache was dropped
//!   (checked per value, when its last clone is dropped);
//! * every value and clone was dropped exactly once;
//! * resident memory did not grow between 25% and 100% of the run.
//!
//! Short by default (CI); `LARDER_SOAK_OPS=<total operations>` runs longer,
//! e.g. `LARDER_SOAK_OPS=50000000 cargo test --release --test soak -- --nocapture`.

mod common;

use common::Rng;
use larder::notification::RemovalCause;
use larder::ops::compute::Op;
use larder::sync::Cache;
use larder::Clock;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

const THREADS: usize = 4;
const KEYS: u64 = 4_096;
const MAX_WEIGHT: u64 = 2_000;
const TTL: Duration = Duration::from_millis(500);
/// Allowed RSS growth between 25% and 100% of the run.
const RSS_SLACK: i64 = 10 << 20;

/// Accounting shared by every value of the run.
#[derive(Default)]
struct Books {
    created: AtomicU64,
    cloned: AtomicU64,
    dropped: AtomicU64,
    /// Distinct values (states) created and dropped.
    values: AtomicU64,
    values_gone: AtomicU64,
    violations: AtomicU64,
    first_violation: Mutex<Option<String>>,
}

impl Books {
    fn violation(&self, what: String) {
        self.violations.fetch_add(1, Ordering::SeqCst);
        self.first_violation.lock().unwrap().get_or_insert(what);
    }
}

/// One value written to the cache, shared by all its clones.
struct ValueState {
    key: u64,
    notified: AtomicU32,
    resident_at_end: AtomicBool,
    books: Arc<Books>,
}

impl Drop for ValueState {
    /// The last clone is gone: the value left the cache (and was reported
    /// once) or was still resident when the cache was dropped (never
    /// reported). A panic here would abort, so violations are recorded.
    fn drop(&mut self) {
        let notified = self.notified.load(Ordering::SeqCst);
        let want = u32::from(!self.resident_at_end.load(Ordering::SeqCst));
        if notified != want {
            self.books.violation(format!(
                "a value of key {} was reported {notified} times, expected {want}",
                self.key
            ));
        }
        self.books.values_gone.fetch_add(1, Ordering::SeqCst);
    }
}

struct Val {
    state: Arc<ValueState>,
    weight: u32,
}

impl Val {
    fn new(key: u64, weight: u32, books: &Arc<Books>) -> Self {
        books.created.fetch_add(1, Ordering::SeqCst);
        books.values.fetch_add(1, Ordering::SeqCst);
        Self {
            state: Arc::new(ValueState {
                key,
                notified: AtomicU32::new(0),
                resident_at_end: AtomicBool::new(false),
                books: Arc::clone(books),
            }),
            weight,
        }
    }
}

impl Clone for Val {
    fn clone(&self) -> Self {
        self.state.books.cloned.fetch_add(1, Ordering::SeqCst);
        Self {
            state: Arc::clone(&self.state),
            weight: self.weight,
        }
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        self.state.books.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Resident set size in bytes, from `/proc/self/statm` (second field, in
/// pages; 4 KiB pages assumed). `None` where it cannot be read.
fn rss_bytes() -> Option<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn total_ops() -> u64 {
    std::env::var("LARDER_SOAK_OPS")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(if cfg!(miri) { 2_000 } else { 200_000 })
}

/// One thread's share of the workload: `ops` operations.
fn work(
    cache: &Cache<u64, Val>,
    books: &Arc<Books>,
    rng: &mut Rng,
    ops: u64,
    clock: Option<&larder::MockHandle>,
) {
    for i in 0..ops {
        let k = rng.below(KEYS);
        let weight = 1 + rng.below(4) as u32;
        match rng.below(20) {
            0..=5 => cache.insert(k, Val::new(k, weight, books)),
            6..=12 => {
                if let Some(v) = cache.get(&k) {
                    if v.state.key != k {
                        books
                            .violation(format!("get({k}) returned a value of key {}", v.state.key));
                    }
                }
            }
            13..=15 => {
                let v = cache.get_with(k, || Val::new(k, weight, books));
                if v.state.key != k {
                    books.violation(format!("get_with({k}) returned key {}", v.state.key));
                }
            }
            16 | 17 => {
                cache.remove(&k);
            }
            _ => {
                cache.entry(k).and_compute_with(|e| match e {
                    None => Op::Put(Val::new(k, weight, books)),
                    Some(e) if e.value().weight == 4 => Op::Remove,
                    Some(e) if e.value().weight % 2 == 0 => Op::Put(Val::new(k, weight, books)),
                    Some(_) => Op::Nop,
                });
            }
        }
        if let Some(clock) = clock {
            if i % 100 == 0 {
                clock.advance(Duration::from_millis(1));
            }
        }
    }
}

#[test]
fn soak_mixed_workload_with_ttl_weigher_and_listener() {
    let total = total_ops();
    let per_thread = (total / THREADS as u64).max(4);
    let warm_up = per_thread / 4;
    let books = Arc::new(Books::default());
    let (clock, mock) = Clock::mock();
    let cache: Cache<u64, Val> = Cache::builder()
        .max_capacity(MAX_WEIGHT)
        .weigher(|_k, v: &Val| v.weight)
        .time_to_live(TTL)
        .clock(clock)
        .eviction_listener(|k: Arc<u64>, v: Val, _cause: RemovalCause| {
            if *k != v.state.key {
                v.state.books.violation(format!(
                    "listener got key {k} with a value of {}",
                    v.state.key
                ));
            }
            v.state.notified.fetch_add(1, Ordering::SeqCst);
        })
        .build();

    let barrier = Barrier::new(THREADS + 1);
    let mut rss_quarter = None;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (cache, books, mock, barrier) = (&cache, &books, &mock, &barrier);
            s.spawn(move || {
                let mut rng = Rng(0x50A4 + t as u64);
                let clock = (t == 0).then_some(mock);
                work(cache, books, &mut rng, warm_up, clock);
                barrier.wait(); // main samples RSS
                barrier.wait();
                work(cache, books, &mut rng, per_thread - warm_up, clock);
            });
        }
        barrier.wait();
        rss_quarter = rss_bytes();
        barrier.wait();
    });
    let rss_end = rss_bytes();

    cache.run_pending_tasks();
    assert_eq!(cache.loads_in_flight(), 0);
    let live: Vec<_> = cache.iter().collect();
    let weight: u64 = live.iter().map(|(_, v)| u64::from(v.weight)).sum();
    assert_eq!(
        cache.entry_count(),
        live.len() as u64,
        "entry_count vs iter"
    );
    assert_eq!(
        cache.weighted_size(),
        weight,
        "weighted_size vs the live weights"
    );
    assert!(weight <= MAX_WEIGHT);
    for (k, v) in &live {
        assert_eq!(**k, v.state.key);
        v.state.resident_at_end.store(true, Ordering::SeqCst);
    }
    let resident = live.len();
    drop(live);
    drop(cache);
    for _ in 0..100 {
        crossbeam_epoch::pin().flush();
    }
    let settled = (0..10_000).any(|_| {
        crossbeam_epoch::pin().flush();
        books.values.load(Ordering::SeqCst) == books.values_gone.load(Ordering::SeqCst)
    });

    let created = books.created.load(Ordering::SeqCst);
    let cloned = books.cloned.load(Ordering::SeqCst);
    let dropped = books.dropped.load(Ordering::SeqCst);
    println!(
        "soak: {} ops on {THREADS} threads, {created} values, {cloned} clones, {resident} resident at the end",
        per_thread * THREADS as u64
    );
    assert!(settled, "some values were never freed");
    assert_eq!(
        created + cloned,
        dropped,
        "values: created + clones != drops"
    );
    assert_eq!(
        books.violations.load(Ordering::SeqCst),
        0,
        "first violation: {:?}",
        books.first_violation.lock().unwrap()
    );

    match (rss_quarter, rss_end) {
        (Some(q), Some(e)) => {
            println!(
                "soak: RSS {:.1} MiB at 25%, {:.1} MiB at 100% ({:+.1} MiB)",
                q as f64 / 1048576.0,
                e as f64 / 1048576.0,
                (e - q) as f64 / 1048576.0
            );
            assert!(
                e - q <= RSS_SLACK,
                "resident memory grew by {} bytes after warm-up",
                e - q
            );
        }
        _ => println!("soak: /proc/self/statm unreadable, RSS check skipped"),
    }
}
