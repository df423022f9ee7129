//! One behaviour suite, run against both façades (`sync::Cache` and
//! `future::Cache`) so they cannot drift apart: capacity, expiry with the mock
//! clock, listener causes, statistics, drop accounting.

mod common;

use common::{Counters, Rng, Tracked};
use larder::notification::RemovalCause;
use larder::{CacheStats, Clock};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Listener = Arc<dyn Fn(Arc<u32>, Tracked, RemovalCause) + Send + Sync>;

/// Options for a cache under test.
#[derive(Clone, Default)]
struct Opts {
    max: Option<u64>,
    ttl: Option<Duration>,
    tti: Option<Duration>,
    clock: Option<Clock>,
    listener: Option<Listener>,
    weigh_by_id: bool,
    stats: bool,
}

/// The operations the suite needs; implemented by both façades.
trait Subject: Clone + Send + Sync + 'static {
    fn build(o: Opts) -> Self;
    fn get(&self, k: u32) -> Option<Tracked>;
    fn insert(&self, k: u32, v: Tracked);
    fn remove(&self, k: u32) -> Option<Tracked>;
    fn get_with(&self, k: u32, v: impl FnOnce() -> Tracked + Send) -> Tracked;
    fn invalidate_all(&self);
    fn run_pending_tasks(&self);
    fn entry_count(&self) -> u64;
    fn weighted_size(&self) -> u64;
    fn stats(&self) -> CacheStats;
    fn keys(&self) -> Vec<u32>;
}

macro_rules! configure {
    ($b:expr, $o:expr) => {{
        let o = $o;
        let mut b = $b;
        if let Some(m) = o.max {
            b = b.max_capacity(m);
        }
        if let Some(d) = o.ttl {
            b = b.time_to_live(d);
        }
        if let Some(d) = o.tti {
            b = b.time_to_idle(d);
        }
        if let Some(c) = o.clock {
            b = b.clock(c);
        }
        if let Some(l) = o.listener {
            b = b.eviction_listener(move |k, v, c| l(k, v, c));
        }
        if o.weigh_by_id {
            b = b.weigher(|_k, v: &Tracked| (v.id % 7) as u32 + 1);
        }
        if o.stats {
            b = b.record_stats();
        }
        b.build()
    }};
}

type SyncCache = larder::sync::Cache<u32, Tracked>;
type AsyncCache = larder::future::Cache<u32, Tracked>;

impl Subject for SyncCache {
    fn build(o: Opts) -> Self {
        configure!(SyncCache::builder(), o)
    }
    fn get(&self, k: u32) -> Option<Tracked> {
        larder::sync::Cache::get(self, &k)
    }
    fn insert(&self, k: u32, v: Tracked) {
        larder::sync::Cache::insert(self, k, v)
    }
    fn remove(&self, k: u32) -> Option<Tracked> {
        larder::sync::Cache::remove(self, &k)
    }
    fn get_with(&self, k: u32, v: impl FnOnce() -> Tracked + Send) -> Tracked {
        larder::sync::Cache::get_with(self, k, v)
    }
    fn invalidate_all(&self) {
        larder::sync::Cache::invalidate_all(self)
    }
    fn run_pending_tasks(&self) {
        larder::sync::Cache::run_pending_tasks(self)
    }
    fn entry_count(&self) -> u64 {
        larder::sync::Cache::entry_count(self)
    }
    fn weighted_size(&self) -> u64 {
        larder::sync::Cache::weighted_size(self)
    }
    fn stats(&self) -> CacheStats {
        larder::sync::Cache::stats(self)
    }
    fn keys(&self) -> Vec<u32> {
        self.iter().map(|(k, _)| *k).collect()
    }
}

impl Subject for AsyncCache {
    fn build(o: Opts) -> Self {
        configure!(AsyncCache::builder(), o)
    }
    fn get(&self, k: u32) -> Option<Tracked> {
        futures::executor::block_on(larder::future::Cache::get(self, &k))
    }
    fn insert(&self, k: u32, v: Tracked) {
        futures::executor::block_on(larder::future::Cache::insert(self, k, v))
    }
    fn remove(&self, k: u32) -> Option<Tracked> {
        futures::executor::block_on(larder::future::Cache::remove(self, &k))
    }
    fn get_with(&self, k: u32, v: impl FnOnce() -> Tracked + Send) -> Tracked {
        futures::executor::block_on(larder::future::Cache::get_with(self, k, async move { v() }))
    }
    fn invalidate_all(&self) {
        larder::future::Cache::invalidate_all(self)
    }
    fn run_pending_tasks(&self) {
        futures::executor::block_on(larder::future::Cache::run_pending_tasks(self))
    }
    fn entry_count(&self) -> u64 {
        larder::future::Cache::entry_count(self)
    }
    fn weighted_size(&self) -> u64 {
        larder::future::Cache::weighted_size(self)
    }
    fn stats(&self) -> CacheStats {
        larder::future::Cache::stats(self)
    }
    fn keys(&self) -> Vec<u32> {
        self.iter().map(|(k, _)| *k).collect()
    }
}

fn capacity_under_churn<C: Subject>() {
    let counters = Counters::new();
    for weighted in [false, true] {
        let max = if weighted { 3_000 } else { 500 };
        let cache = C::build(Opts {
            max: Some(max),
            weigh_by_id: weighted,
            ..Opts::default()
        });
        std::thread::scope(|s| {
            for t in 0..3u64 {
                let cache = cache.clone();
                let counters = &counters;
                s.spawn(move || {
                    let mut rng = Rng(t + 11);
                    for _ in 0..common::scaled(20_000) {
                        let k = rng.below(max * 10) as u32;
                        match rng.below(4) {
                            0 => {
                                cache.remove(k);
                            }
                            1 => cache.insert(k, Tracked::new(u64::from(k), counters)),
                            _ => {
                                cache.get_with(k, || Tracked::new(u64::from(k), counters));
                            }
                        }
                    }
                });
            }
        });
        cache.run_pending_tasks();
        assert!(cache.weighted_size() <= max);
        assert_eq!(cache.entry_count(), cache.keys().len() as u64);
        drop(cache);
    }
    assert_eq!(counters.settle(), 0, "every value dropped exactly once");
}

fn expiry_with_the_mock_clock<C: Subject>() {
    let counters = Counters::new();
    let (clock, mock) = Clock::mock();
    let cache = C::build(Opts {
        max: Some(100),
        ttl: Some(Duration::from_secs(10)),
        tti: Some(Duration::from_secs(4)),
        clock: Some(clock),
        ..Opts::default()
    });
    cache.insert(1, Tracked::new(1, &counters));
    cache.insert(2, Tracked::new(2, &counters));
    for _ in 0..3 {
        mock.advance(Duration::from_secs(3));
        assert!(cache.get(1).is_some(), "reads keep 1 alive");
    }
    assert!(cache.get(2).is_none(), "2 idled out");
    mock.advance(Duration::from_secs(1) - Duration::from_nanos(1));
    assert!(cache.get(1).is_some());
    mock.advance(Duration::from_nanos(1));
    assert!(cache.get(1).is_none(), "the TTL caps it at 10 s");
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), 0);
    drop(cache);
    assert_eq!(counters.settle(), 0);
}

fn listener_causes<C: Subject>() {
    let counters = Counters::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&log);
    let (clock, mock) = Clock::mock();
    let cache = C::build(Opts {
        max: Some(3),
        ttl: Some(Duration::from_secs(5)),
        clock: Some(clock),
        listener: Some(Arc::new(move |k: Arc<u32>, v: Tracked, c| {
            l.lock().unwrap().push((*k, v.id, c))
        })),
        ..Opts::default()
    });
    cache.insert(1, Tracked::new(10, &counters));
    cache.insert(1, Tracked::new(11, &counters));
    cache.remove(1);
    cache.insert(2, Tracked::new(20, &counters));
    mock.advance(Duration::from_secs(5));
    cache.run_pending_tasks();
    for k in 3..10 {
        cache.insert(k, Tracked::new(u64::from(k), &counters));
    }
    cache.run_pending_tasks();
    cache.invalidate_all();
    cache.run_pending_tasks();
    let log = log.lock().unwrap();
    assert_eq!(log[0], (1, 10, RemovalCause::Replaced));
    assert_eq!(log[1], (1, 11, RemovalCause::Explicit));
    assert_eq!(log[2], (2, 20, RemovalCause::Expired));
    let sizes = log.iter().filter(|e| e.2 == RemovalCause::Size).count();
    let explicit_at_end = log
        .iter()
        .skip(3)
        .filter(|e| e.2 == RemovalCause::Explicit)
        .count();
    assert_eq!(sizes + explicit_at_end, 7, "each of 3..10 reported once");
    assert_eq!(explicit_at_end, 3, "the 3 that fit were invalidated");
    drop(cache);
    drop(log);
}

fn stats_counts<C: Subject>() {
    let counters = Counters::new();
    let cache = C::build(Opts {
        max: Some(10),
        stats: true,
        ..Opts::default()
    });
    cache.insert(1, Tracked::new(1, &counters));
    cache.get(1);
    cache.get(2);
    cache.get_with(3, || Tracked::new(3, &counters));
    cache.get_with(3, || unreachable!());
    let s = cache.stats();
    assert_eq!((s.hit_count, s.miss_count, s.load_success_count), (2, 2, 1));
}

macro_rules! both {
    ($($name:ident),*) => {
        mod sync_cache {
            use super::*;
            $( #[test] fn $name() { super::$name::<SyncCache>() } )*
        }
        mod future_cache {
            use super::*;
            $( #[test] fn $name() { super::$name::<AsyncCache>() } )*
        }
    };
}

both!(
    capacity_under_churn,
    expiry_with_the_mock_clock,
    listener_causes,
    stats_counts
);
