//! Bad input, table-driven: every edge case that API.md gives a behaviour
//! for, walked on both façades (`sync::Cache`, and `future::Cache` through
//! `futures::executor::block_on`), each followed by the same consistency
//! check (`run_pending_tasks`, then `entry_count` / `weighted_size` agree with
//! `iter()`, no load left in flight, the cache still reads and writes).
//!
//! The table (see [`table`]): zero capacity; zero and `u32::MAX` weights;
//! zero and `Duration::MAX` durations for time-to-live, time-to-idle and a
//! per-entry `Expiry`; a panicking weigher, loader, listener, `Expiry`,
//! `Hash` and `Eq`; a listener that re-enters the cache; hash-flooding keys
//! that all collide. `bad_input.rs`, `expiry.rs` and `loading.rs` hold
//! deeper single-façade tests of some of these; this file is the one place
//! that runs every case on both façades.

use larder::notification::RemovalCause;
use larder::{Clock, Expiry, MockHandle};
use std::cell::Cell;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// The two façades behind one trait.

trait Key: Hash + Eq + Clone + Debug + Send + Sync + 'static {}
impl<T: Hash + Eq + Clone + Debug + Send + Sync + 'static> Key for T {}
trait Value: Clone + PartialEq + Debug + Send + Sync + 'static {}
impl<T: Clone + PartialEq + Debug + Send + Sync + 'static> Value for T {}

type Weigher<K, V> = Arc<dyn Fn(&K, &V) -> u32 + Send + Sync>;
type Listener<K, V> = Arc<dyn Fn(Arc<K>, V, RemovalCause) + Send + Sync>;

/// How to build a cache under test.
struct Spec<K, V> {
    max: Option<u64>,
    weigher: Option<Weigher<K, V>>,
    ttl: Option<Duration>,
    tti: Option<Duration>,
    expiry: Option<Arc<dyn Expiry<K, V> + Send + Sync>>,
    listener: Option<Listener<K, V>>,
    clock: Option<Clock>,
}

impl<K, V> Default for Spec<K, V> {
    fn default() -> Self {
        Self {
            max: None,
            weigher: None,
            ttl: None,
            tti: None,
            expiry: None,
            listener: None,
            clock: None,
        }
    }
}

/// Forwards to a shared `Expiry` (the builder wants an owned one).
struct SharedExpiry<K, V>(Arc<dyn Expiry<K, V> + Send + Sync>);

impl<K, V> Expiry<K, V> for SharedExpiry<K, V> {
    fn expire_after_create(&self, k: &K, v: &V, at: Instant) -> Option<Duration> {
        self.0.expire_after_create(k, v, at)
    }
    fn expire_after_read(
        &self,
        k: &K,
        v: &V,
        at: Instant,
        left: Option<Duration>,
        modified: Instant,
    ) -> Option<Duration> {
        self.0.expire_after_read(k, v, at, left, modified)
    }
    fn expire_after_update(
        &self,
        k: &K,
        v: &V,
        at: Instant,
        left: Option<Duration>,
    ) -> Option<Duration> {
        self.0.expire_after_update(k, v, at, left)
    }
}

thread_local! {
    /// Set while this thread runs an eviction listener: a re-entrant call
    /// on the async façade must not start a nested executor.
    static IN_LISTENER: Cell<bool> = const { Cell::new(false) };
}

macro_rules! configure {
    ($b:expr, $spec:expr) => {{
        let s = $spec;
        let mut b = $b;
        if let Some(m) = s.max {
            b = b.max_capacity(m);
        }
        if let Some(w) = s.weigher {
            b = b.weigher(move |k, v| w(k, v));
        }
        if let Some(d) = s.ttl {
            b = b.time_to_live(d);
        }
        if let Some(d) = s.tti {
            b = b.time_to_idle(d);
        }
        if let Some(e) = s.expiry {
            b = b.expire_after(SharedExpiry(e));
        }
        if let Some(l) = s.listener {
            b = b.eviction_listener(move |k, v, c| {
                let outer = IN_LISTENER.with(|f| f.replace(true));
                // Restore the flag even if the listener panics.
                struct Reset(bool);
                impl Drop for Reset {
                    fn drop(&mut self) {
                        IN_LISTENER.with(|f| f.set(self.0));
                    }
                }
                let _reset = Reset(outer);
                l(k, v, c)
            });
        }
        if let Some(c) = s.clock {
            b = b.clock(c);
        }
        b.build()
    }};
}

/// The operations the cases use, on either façade.
trait Facade<K: Key, V: Value>: Clone + Send + Sync + 'static {
    fn build(spec: Spec<K, V>) -> Self;
    fn get(&self, k: &K) -> Option<V>;
    fn contains(&self, k: &K) -> bool;
    fn insert(&self, k: K, v: V);
    fn remove(&self, k: &K) -> Option<V>;
    fn get_with(&self, k: K, init: impl FnOnce() -> V) -> V;
    fn invalidate_all(&self);
    fn run_pending_tasks(&self);
    fn entry_count(&self) -> u64;
    fn weighted_size(&self) -> u64;
    fn entries(&self) -> Vec<(Arc<K>, V)>;
    fn loads_in_flight(&self) -> usize;
}

impl<K: Key, V: Value> Facade<K, V> for larder::sync::Cache<K, V> {
    fn build(spec: Spec<K, V>) -> Self {
        configure!(Self::builder(), spec)
    }
    fn get(&self, k: &K) -> Option<V> {
        larder::sync::Cache::get(self, k)
    }
    fn contains(&self, k: &K) -> bool {
        self.contains_key(k)
    }
    fn insert(&self, k: K, v: V) {
        larder::sync::Cache::insert(self, k, v)
    }
    fn remove(&self, k: &K) -> Option<V> {
        larder::sync::Cache::remove(self, k)
    }
    fn get_with(&self, k: K, init: impl FnOnce() -> V) -> V {
        larder::sync::Cache::get_with(self, k, init)
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
    fn entries(&self) -> Vec<(Arc<K>, V)> {
        self.iter().collect()
    }
    fn loads_in_flight(&self) -> usize {
        larder::sync::Cache::loads_in_flight(self)
    }
}

/// Runs an async call to completion: `block_on` normally; from inside a
/// listener (already under an executor) it must complete without waiting.
fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    if IN_LISTENER.with(Cell::get) {
        futures::FutureExt::now_or_never(Box::pin(f))
            .expect("a re-entrant async call from a listener had to wait")
    } else {
        futures::executor::block_on(f)
    }
}

impl<K: Key, V: Value> Facade<K, V> for larder::future::Cache<K, V> {
    fn build(spec: Spec<K, V>) -> Self {
        configure!(Self::builder(), spec)
    }
    fn get(&self, k: &K) -> Option<V> {
        run(larder::future::Cache::get(self, k))
    }
    fn contains(&self, k: &K) -> bool {
        self.contains_key(k)
    }
    fn insert(&self, k: K, v: V) {
        run(larder::future::Cache::insert(self, k, v))
    }
    fn remove(&self, k: &K) -> Option<V> {
        run(larder::future::Cache::remove(self, k))
    }
    fn get_with(&self, k: K, init: impl FnOnce() -> V) -> V {
        run(larder::future::Cache::get_with(
            self,
            k,
            async move { init() },
        ))
    }
    fn invalidate_all(&self) {
        larder::future::Cache::invalidate_all(self)
    }
    fn run_pending_tasks(&self) {
        run(larder::future::Cache::run_pending_tasks(self))
    }
    fn entry_count(&self) -> u64 {
        larder::future::Cache::entry_count(self)
    }
    fn weighted_size(&self) -> u64 {
        larder::future::Cache::weighted_size(self)
    }
    fn entries(&self) -> Vec<(Arc<K>, V)> {
        self.iter().collect()
    }
    fn loads_in_flight(&self) -> usize {
        larder::future::Cache::loads_in_flight(self)
    }
}

/// A façade, for every key and value type.
trait Family: 'static {
    const NAME: &'static str;
    type C<K: Key, V: Value>: Facade<K, V>;
}

struct SyncFacade;
impl Family for SyncFacade {
    const NAME: &'static str = "sync::Cache";
    type C<K: Key, V: Value> = larder::sync::Cache<K, V>;
}

struct FutureFacade;
impl Family for FutureFacade {
    const NAME: &'static str = "future::Cache";
    type C<K: Key, V: Value> = larder::future::Cache<K, V>;
}

// ---------------------------------------------------------------------------
// Helpers.

type Log<K, V> = Arc<Mutex<Vec<(K, V, RemovalCause)>>>;

/// A listener that logs every notification.
fn logger<K: Key, V: Value>() -> (Listener<K, V>, Log<K, V>) {
    let log: Log<K, V> = Arc::default();
    let l = Arc::clone(&log);
    (
        Arc::new(move |k: Arc<K>, v, c| l.lock().unwrap().push(((*k).clone(), v, c))),
        log,
    )
}

fn mock() -> (Clock, MockHandle) {
    Clock::mock()
}

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// Whether `f` panics (the panic is expected and swallowed).
fn panics<R>(f: impl FnOnce() -> R) -> bool {
    catch_unwind(AssertUnwindSafe(f)).is_err()
}

/// The check after every case: maintenance runs, the counters agree with
/// the entries, nothing is left loading, the cache still works.
fn consistent<K: Key, V: Value, C: Facade<K, V>>(
    cache: &C,
    weigh: impl Fn(&K, &V) -> u64,
    max: Option<u64>,
) -> Vec<(Arc<K>, V)> {
    cache.run_pending_tasks();
    let live = cache.entries();
    assert_eq!(
        cache.entry_count(),
        live.len() as u64,
        "entry_count vs iter"
    );
    let weight: u64 = live.iter().map(|(k, v)| weigh(k, v)).sum();
    assert_eq!(cache.weighted_size(), weight, "weighted_size vs iter");
    if let Some(max) = max {
        assert!(weight <= max, "weighted_size {weight} > max {max}");
    }
    assert_eq!(cache.loads_in_flight(), 0, "a load is left in flight");
    for (k, v) in &live {
        assert!(cache.contains(k), "{k:?} listed but not contained");
        assert_eq!(
            cache.get(k).as_ref(),
            Some(v),
            "{k:?} listed but reads differently"
        );
    }
    live
}

/// Each logged value exactly once (values are unique per case).
fn reported_once<K: Key, V: Value + Ord>(log: &Log<K, V>) -> Vec<(K, V, RemovalCause)> {
    let log = log.lock().unwrap().clone();
    let mut vs: Vec<&V> = log.iter().map(|e| &e.1).collect();
    vs.sort();
    let n = vs.len();
    vs.dedup();
    assert_eq!(vs.len(), n, "a value was reported twice: {log:?}");
    log
}

// ---------------------------------------------------------------------------
// The cases.

fn zero_capacity<F: Family>() {
    let (listener, log) = logger();
    let cache = F::C::<u32, u32>::build(Spec {
        max: Some(0),
        listener: Some(listener),
        ..Spec::default()
    });
    for k in 0..5 {
        cache.insert(k, k);
        assert_eq!(cache.get(&k), None, "capacity 0 kept {k}");
        assert!(!cache.contains(&k));
    }
    assert_eq!(
        cache.get_with(9, || 90),
        90,
        "the loader's value is returned"
    );
    assert_eq!(cache.get(&9), None, "but not kept");
    assert_eq!(cache.remove(&1), None);
    let live = consistent(&cache, |_, _| 1, Some(0));
    assert!(live.is_empty());
    let log = reported_once(&log);
    assert_eq!(log.len(), 6, "every refused value is reported: {log:?}");
    assert!(log.iter().all(|e| e.2 == RemovalCause::Size), "{log:?}");
}

fn zero_weight<F: Family>() {
    // Weight 0 for keys below 10: never evicted for size, even when 1,000
    // weight-1 keys churn through a capacity of 3.
    let cache = F::C::<u32, u32>::build(Spec {
        max: Some(3),
        weigher: Some(Arc::new(|k: &u32, _: &u32| u32::from(*k >= 10))),
        ..Spec::default()
    });
    for k in 0..10 {
        cache.insert(k, k);
    }
    for k in 10..1_010 {
        cache.insert(k, k);
        cache.get(&(k - 1));
    }
    let live = consistent(&cache, |k, _| u64::from(*k >= 10), Some(3));
    for k in 0..10 {
        assert_eq!(cache.get(&k), Some(k), "zero-weight key {k} was evicted");
    }
    assert!(live.len() >= 10);
}

fn max_weight<F: Family>() {
    let heavy: Weigher<u32, u32> = Arc::new(|_, _| u32::MAX);
    // Unbounded: kept, totals do not wrap.
    let cache = F::C::<u32, u32>::build(Spec {
        weigher: Some(Arc::clone(&heavy)),
        ..Spec::default()
    });
    for k in 0..50 {
        cache.insert(k, k);
    }
    consistent(&cache, |_, _| u64::from(u32::MAX), None);
    assert_eq!(cache.weighted_size(), 50 * u64::from(u32::MAX));

    // Capacity u32::MAX - 1: never kept, reported Size; the value it
    // replaced is reported Replaced.
    let (listener, log) = logger();
    let cache = F::C::<u32, u32>::build(Spec {
        max: Some(u64::from(u32::MAX) - 1),
        weigher: Some(Arc::new(
            |k: &u32, _: &u32| if *k == 0 { 1 } else { u32::MAX },
        )),
        listener: Some(listener),
        ..Spec::default()
    });
    cache.insert(0, 100);
    cache.insert(1, 101);
    cache.insert(1, 102);
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get(&0), Some(100));
    consistent(
        &cache,
        |k, _| if *k == 0 { 1 } else { u64::from(u32::MAX) },
        Some(u64::from(u32::MAX) - 1),
    );
    let log = reported_once(&log);
    assert_eq!(
        log,
        vec![(1, 101, RemovalCause::Size), (1, 102, RemovalCause::Size)]
    );

    // Capacity exactly u32::MAX: one such entry fits.
    let cache = F::C::<u32, u32>::build(Spec {
        max: Some(u64::from(u32::MAX)),
        weigher: Some(heavy),
        ..Spec::default()
    });
    cache.insert(1, 1);
    cache.run_pending_tasks();
    assert_eq!(
        cache.get(&1),
        Some(1),
        "an entry of exactly max_capacity was refused"
    );
    cache.insert(2, 2);
    let live = consistent(
        &cache,
        |_, _| u64::from(u32::MAX),
        Some(u64::from(u32::MAX)),
    );
    assert_eq!(live.len(), 1);
}

/// One of time-to-live, time-to-idle or `Expiry`, with duration `d`.
fn timed<F: Family>(kind: &str, d: Duration) -> (F::C<u32, u32>, MockHandle, Log<u32, u32>) {
    struct Fixed(Duration);
    impl Expiry<u32, u32> for Fixed {
        fn expire_after_create(&self, _k: &u32, _v: &u32, _at: Instant) -> Option<Duration> {
            Some(self.0)
        }
        fn expire_after_read(
            &self,
            _k: &u32,
            _v: &u32,
            _at: Instant,
            _left: Option<Duration>,
            _m: Instant,
        ) -> Option<Duration> {
            Some(self.0)
        }
        fn expire_after_update(
            &self,
            _k: &u32,
            _v: &u32,
            _at: Instant,
            _l: Option<Duration>,
        ) -> Option<Duration> {
            Some(self.0)
        }
    }
    let (clock, handle) = mock();
    let (listener, log) = logger();
    let mut spec = Spec {
        clock: Some(clock),
        listener: Some(listener),
        max: Some(100),
        ..Spec::default()
    };
    match kind {
        "ttl" => spec.ttl = Some(d),
        "tti" => spec.tti = Some(d),
        _ => spec.expiry = Some(Arc::new(Fixed(d))),
    }
    (F::C::build(spec), handle, log)
}

fn zero_durations<F: Family>() {
    for kind in ["ttl", "tti", "expiry"] {
        let (cache, clock, log) = timed::<F>(kind, Duration::ZERO);
        cache.insert(1, 10);
        assert_eq!(cache.get(&1), None, "{kind} zero: visible");
        assert!(!cache.contains(&1), "{kind} zero: contained");
        assert_eq!(cache.get_with(2, || 20), 20);
        assert_eq!(
            cache.get(&2),
            None,
            "{kind} zero: a loaded value is visible"
        );
        cache.insert(1, 11); // replaces an expired entry
        clock.advance(Duration::from_nanos(1));
        assert_eq!(
            cache.remove(&1),
            None,
            "{kind} zero: remove returned an expired value"
        );
        let live = consistent(&cache, |_, _| 1, Some(100));
        assert!(live.is_empty(), "{kind} zero: {live:?}");
        let log = reported_once(&log);
        assert_eq!(log.len(), 3, "{kind} zero: {log:?}");
        assert!(
            log.iter().all(|e| e.2 == RemovalCause::Expired),
            "{kind} zero: {log:?}"
        );
    }
}

fn max_durations<F: Family>() {
    for kind in ["ttl", "tti", "expiry"] {
        for d in [
            Duration::MAX,
            Duration::from_nanos(u64::MAX),
            Duration::from_secs(u64::MAX),
        ] {
            let (cache, clock, log) = timed::<F>(kind, d);
            clock.advance(YEAR * 10);
            cache.insert(1, 10);
            assert_eq!(cache.get_with(2, || 20), 20);
            clock.advance(YEAR * 490);
            cache.run_pending_tasks();
            assert_eq!(
                cache.get(&1),
                Some(10),
                "{kind} {d:?}: expired within 500 years"
            );
            cache.insert(2, 21);
            assert_eq!(cache.get(&2), Some(21), "{kind} {d:?}: an update expired");
            let live = consistent(&cache, |_, _| 1, Some(100));
            assert_eq!(live.len(), 2);
            assert_eq!(reported_once(&log), vec![(2, 20, RemovalCause::Replaced)]);
        }
    }
}

fn panicking_weigher<F: Family>() {
    let cache = F::C::<u32, u32>::build(Spec {
        max: Some(100),
        weigher: Some(Arc::new(|k: &u32, _: &u32| {
            assert!(*k != 13, "weigher hates 13");
            1
        })),
        ..Spec::default()
    });
    cache.insert(1, 1);
    assert!(
        panics(|| cache.insert(13, 13)),
        "insert: the weigher's panic was swallowed"
    );
    assert!(
        panics(|| cache.get_with(13, || 13)),
        "get_with: the weigher's panic was swallowed"
    );
    assert_eq!(
        cache.loads_in_flight(),
        0,
        "a panicking insert left its load registered"
    );
    assert_eq!(cache.get(&13), None);
    assert_eq!(cache.get(&1), Some(1));
    assert_eq!(cache.get_with(2, || 2), 2);
    let live = consistent(&cache, |_, _| 1, Some(100));
    assert_eq!(live.len(), 2);
}

fn panicking_loader<F: Family>() {
    let cache = F::C::<u32, u32>::build(Spec {
        max: Some(100),
        ..Spec::default()
    });
    assert!(panics(|| cache.get_with(1, || panic!("loader fails"))));
    assert_eq!(cache.loads_in_flight(), 0);
    assert_eq!(cache.get(&1), None, "a failed load cached something");
    assert_eq!(cache.get_with(1, || 11), 11, "the next caller loads");
    assert_eq!(cache.get_with(1, || unreachable!()), 11);
    let live = consistent(&cache, |_, _| 1, Some(100));
    assert_eq!(live.len(), 1);
}

fn panicking_listener<F: Family>() {
    let seen: Log<u32, u32> = Arc::default();
    let s = Arc::clone(&seen);
    let cache = F::C::<u32, u32>::build(Spec {
        max: Some(100),
        listener: Some(Arc::new(move |k: Arc<u32>, v: u32, c| {
            assert!(v != 99, "listener hates 99");
            s.lock().unwrap().push((*k, v, c));
        })),
        ..Spec::default()
    });
    for k in 0..10 {
        cache.insert(k, k);
    }
    cache.insert(5, 99);
    // Each removal is delivered by the call that made it; the one whose
    // value the listener rejects panics in that caller, and only there.
    let mut panicked = 0;
    for k in [3, 5, 7] {
        if panics(|| cache.remove(&k)) {
            panicked += 1;
        }
    }
    panicked += usize::from(panics(|| cache.run_pending_tasks()));
    assert_eq!(
        panicked, 1,
        "the listener's panic surfaced {panicked} times"
    );
    cache.insert(20, 20);
    cache.insert(20, 21);
    let live = consistent(&cache, |_, _| 1, Some(100));
    assert_eq!(live.len(), 8);
    let seen = reported_once(&seen);
    let mut got: Vec<_> = seen.iter().map(|e| (e.0, e.1)).collect();
    got.sort_unstable();
    assert_eq!(
        got,
        vec![(3, 3), (5, 5), (7, 7), (20, 20)],
        "lost or extra notifications"
    );
}

fn panicking_expiry<F: Family>() {
    struct Touchy;
    impl Expiry<u32, u32> for Touchy {
        fn expire_after_create(&self, k: &u32, _v: &u32, _at: Instant) -> Option<Duration> {
            assert!(*k != 13, "expiry hates 13");
            Some(YEAR)
        }
        fn expire_after_read(
            &self,
            k: &u32,
            _v: &u32,
            _at: Instant,
            left: Option<Duration>,
            _m: Instant,
        ) -> Option<Duration> {
            assert!(*k != 7, "expiry hates reading 7");
            left
        }
    }
    let (clock, _handle) = mock();
    let cache = F::C::<u32, u32>::build(Spec {
        max: Some(100),
        expiry: Some(Arc::new(Touchy)),
        clock: Some(clock),
        ..Spec::default()
    });
    cache.insert(7, 7);
    assert!(panics(|| cache.insert(13, 13)));
    assert!(panics(|| cache.get_with(13, || 13)));
    assert!(panics(|| cache.get(&7)));
    assert_eq!(cache.loads_in_flight(), 0);
    assert_eq!(cache.get(&13), None);
    assert!(cache.contains(&7), "a panicking read changed the entry");
    cache.insert(1, 1);
    cache.run_pending_tasks();
    let live = cache.entries();
    assert_eq!(cache.entry_count(), live.len() as u64);
    assert_eq!(live.len(), 2);
}

/// A key whose `Hash` or `Eq` panics on demand; ids that are equal
/// modulo 4 collide, so that `Eq` really runs.
#[derive(Clone, Debug)]
struct Touchy {
    id: u32,
    bad_hash: bool,
    bad_eq: bool,
}

fn key(id: u32) -> Touchy {
    Touchy {
        id,
        bad_hash: false,
        bad_eq: false,
    }
}

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, h: &mut H) {
        assert!(!self.bad_hash, "hash panicked");
        (self.id % 4).hash(h);
    }
}
impl PartialEq for Touchy {
    fn eq(&self, o: &Self) -> bool {
        assert!(!self.bad_eq && !o.bad_eq, "eq panicked");
        self.id == o.id
    }
}
impl Eq for Touchy {}

fn panicking_hash_and_eq<F: Family>() {
    let (listener, log) = logger();
    let cache = F::C::<Touchy, u32>::build(Spec {
        max: Some(100),
        listener: Some(listener),
        ..Spec::default()
    });
    for id in 0..20 {
        cache.insert(key(id), id);
    }
    for bad in [
        Touchy {
            id: 5,
            bad_hash: true,
            bad_eq: false,
        },
        Touchy {
            id: 5,
            bad_hash: false,
            bad_eq: true,
        },
        Touchy {
            id: 21,
            bad_hash: false,
            bad_eq: true,
        }, // absent, collides with 1, 5, ...
    ] {
        let what = format!("{bad:?}");
        assert!(panics(|| cache.get(&bad)), "get {what}");
        assert!(panics(|| cache.contains(&bad)), "contains {what}");
        assert!(panics(|| cache.remove(&bad)), "remove {what}");
        assert!(panics(|| cache.insert(bad.clone(), 0)), "insert {what}");
        assert!(
            panics(|| cache.get_with(bad.clone(), || 0)),
            "get_with {what}"
        );
    }
    assert_eq!(cache.loads_in_flight(), 0);
    for id in 0..20 {
        assert_eq!(
            cache.get(&key(id)),
            Some(id),
            "{id} damaged by a panicking key"
        );
    }
    assert_eq!(cache.remove(&key(5)), Some(5));
    let live = consistent(&cache, |_, _| 1, Some(100));
    assert_eq!(live.len(), 19);
    assert_eq!(
        reported_once(&log),
        vec![(key(5), 5, RemovalCause::Explicit)]
    );
}

fn reentrant_listener<F: Family>() {
    // The listener reads, writes and removes other keys, and asks for
    // maintenance, from inside a notification; it must not deadlock, and
    // every value is still reported once.
    let slot: Arc<Mutex<Option<F::C<u32, u32>>>> = Arc::default();
    let (inner, log) = logger::<u32, u32>();
    let s = Arc::clone(&slot);
    let cache = F::C::<u32, u32>::build(Spec {
        max: Some(20),
        listener: Some(Arc::new(move |k: Arc<u32>, v: u32, c| {
            let k2 = *k;
            inner(k, v, c);
            let cache = s.lock().unwrap().clone();
            if let Some(cache) = cache {
                let _ = cache.get(&k2);
                let _ = cache.contains(&(k2 + 1));
                if k2 < 1_000 && c == RemovalCause::Size {
                    cache.insert(k2 + 1_000, v + 1_000);
                }
                if k2 % 7 == 0 {
                    cache.remove(&(k2 + 1));
                }
                cache.run_pending_tasks();
            }
        })),
        ..Spec::default()
    });
    *slot.lock().unwrap() = Some(cache.clone());
    for k in 0..200 {
        cache.insert(k, k);
        if k % 10 == 0 {
            cache.run_pending_tasks();
        }
    }
    cache.invalidate_all();
    cache.insert(5000, 5000);
    let live = consistent(&cache, |_, _| 1, Some(20));
    // Break the cache -> listener -> cache cycle.
    slot.lock().unwrap().take();
    let log = reported_once(&log);
    // Every value written is either reported or still live.
    let mut written: Vec<u32> = (0..200).chain([5000]).collect();
    written.extend(
        log.iter()
            .filter(|e| e.0 >= 1_000 && e.0 < 5000)
            .map(|e| e.1),
    );
    written.extend(
        live.iter()
            .filter(|(k, _)| **k >= 1_000 && **k < 5000)
            .map(|(_, v)| *v),
    );
    written.sort_unstable();
    written.dedup();
    let mut accounted: Vec<u32> = log
        .iter()
        .map(|e| e.1)
        .chain(live.iter().map(|e| e.1))
        .collect();
    accounted.sort_unstable();
    assert_eq!(accounted, written, "a value was neither reported nor live");
}

/// Every key hashes the same: one stripe, one probe chain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Flood(u32);
impl Hash for Flood {
    fn hash<H: Hasher>(&self, h: &mut H) {
        0xdead_beef_u32.hash(h);
    }
}

fn hash_flooding<F: Family>() {
    let (listener, log) = logger();
    let cache = F::C::<Flood, u32>::build(Spec {
        max: Some(300),
        listener: Some(listener),
        ..Spec::default()
    });
    let n = 1_500;
    for k in 0..n {
        cache.insert(Flood(k), k);
        if k % 3 == 0 {
            assert!(cache.get(&Flood(k)).is_some() || cache.get(&Flood(k)).is_none());
        }
    }
    for k in (0..n).step_by(5) {
        cache.remove(&Flood(k));
    }
    assert_eq!(cache.get_with(Flood(n + 1), || 7), 7);
    let live = consistent(&cache, |_, _| 1, Some(300));
    for (k, v) in &live {
        let want = if k.0 == n + 1 { 7 } else { k.0 };
        assert_eq!(*v, want, "{k:?} holds {v}");
    }
    let log = reported_once(&log);
    assert_eq!(
        log.len() + live.len(),
        n as usize + 1,
        "values lost in a collision chain"
    );
    cache.invalidate_all();
    let live = consistent(&cache, |_, _| 1, Some(300));
    assert!(live.is_empty());
}

/// The table: every case, by name.
fn table<F: Family>() -> Vec<(&'static str, fn())> {
    vec![
        ("zero capacity", zero_capacity::<F>),
        ("zero weight", zero_weight::<F>),
        ("u32::MAX weight", max_weight::<F>),
        ("zero TTL / TTI / Expiry", zero_durations::<F>),
        ("Duration::MAX TTL / TTI / Expiry", max_durations::<F>),
        ("panicking weigher", panicking_weigher::<F>),
        ("panicking loader", panicking_loader::<F>),
        ("panicking listener", panicking_listener::<F>),
        ("panicking Expiry", panicking_expiry::<F>),
        ("panicking Hash / Eq", panicking_hash_and_eq::<F>),
        ("re-entrant listener", reentrant_listener::<F>),
        ("hash flooding", hash_flooding::<F>),
    ]
}

fn run_table<F: Family>() {
    let mut failed = Vec::new();
    for (name, case) in table::<F>() {
        if let Err(e) = catch_unwind(case) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{name}: {msg}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{}: failing cases:\n{}",
        F::NAME,
        failed.join("\n")
    );
}

#[test]
fn every_bad_input_on_the_sync_facade() {
    run_table::<SyncFacade>();
}

#[test]
fn every_bad_input_on_the_future_facade() {
    run_table::<FutureFacade>();
}
