//! Arbitrary operation sequences on `sync::Cache` against a `HashMap` model.
//!
//! The cache may drop an entry at any time (eviction), so the model only
//! knows what the cache *may* return. Checked on every step:
//! * no phantom key and no stale value: anything returned (by `get`,
//!   `get_with`, `remove`, `entry().and_compute_with`, `contains_key`,
//!   `iter`) is the latest value written for that key, and once the cache
//!   has said a key is absent it stays absent until written again;
//! * no expired value is returned (write / access times are tracked with the
//!   mock clock; TTL, TTI and a per-entry `Expiry` are chosen by the input);
//! * `Expired` notifications never come early; values removed by `remove`
//!   or a compute's `Op::Remove` are reported `Explicit`, or `Expired` when
//!   their deadline had passed at the removal (a compute's own read may move
//!   the deadline to the present: see [`Model::removed`]); refused ones `Size`.
//!
//! After each `run_pending_tasks`:
//! * `weighted_size <= max_capacity`, no load in flight;
//! * `entry_count` and `weighted_size` equal the count and the weight sum
//!   of what `iter()` shows (so no expired entry is left behind);
//! * every value ever given to the cache was either reported once to the
//!   listener or is still resident, never both, never twice.
//!
//! At the end the cache is dropped and the epoch collector flushed: every
//! value (and clone) was dropped exactly once.
#![no_main]

use larder::notification::RemovalCause;
use larder::ops::compute::{CompResult, Op as CompOp};
use larder::sync::Cache;
use larder::{Clock, Expiry, MockHandle};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether `Expiry::expire_after_read` may move a deadline *earlier*
/// (`ReadMode::Set`). Off, `Set(d)` only ever extends (like `Extend(d)`).
///
/// On since the model learned two things. The cache must reschedule an entry
/// whose deadline a read shortened (it once did not: fixed, see
/// tests/regressions.rs). And a read can make an entry expire at once
/// (`Set(Duration::ZERO)`: deadlines are inclusive), so a compute that read
/// the entry and then removed it reports it `Expired`, not `Explicit`.
const SHORTENING_READS: bool = true;

/// Whether the mock clock may reach its end (`u64::MAX` ns, 584 years).
/// Off: there, an entry that never expires (deadline `NEVER` = `u64::MAX`)
/// counts as expired (deadlines are inclusive) but is never reclaimed, so
/// `entry_count` disagrees with `iter` (reported to the lead). The clock
/// still gets to within a nanosecond of the end.
const END_OF_TIME: bool = true;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Dur {
    Zero,
    Nanos(u16),
    Millis(u16),
    Secs(u32),
    /// `Duration::from_nanos(u64::MAX)`.
    NanosMax,
    /// `Duration::MAX`.
    Max,
}

impl Dur {
    fn get(self) -> Duration {
        match self {
            Dur::Zero => Duration::ZERO,
            Dur::Nanos(n) => Duration::from_nanos(n.into()),
            Dur::Millis(n) => Duration::from_millis(n.into()),
            Dur::Secs(n) => Duration::from_secs(n.into()),
            Dur::NanosMax => Duration::from_nanos(u64::MAX),
            Dur::Max => Duration::MAX,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Weight {
    One,
    Small(u8),
    Zero,
    Max,
    Any(u32),
}

impl Weight {
    fn get(self) -> u32 {
        match self {
            Weight::One => 1,
            Weight::Small(n) => u32::from(n % 8),
            Weight::Zero => 0,
            Weight::Max => u32::MAX,
            Weight::Any(n) => n,
        }
    }
}

/// What the per-entry `Expiry` does on a read.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum ReadMode {
    /// Keep the current deadline (the trait's default).
    Keep,
    /// Never expire from now on (`None` after `Some`: moka #565's trigger).
    Never,
    /// At least `d` from now.
    Extend(Dur),
    /// Exactly `d` from now (may shorten; see [`SHORTENING_READS`]).
    Set(Dur),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct NewValue {
    weight: Weight,
    ttl: Option<Dur>,
    read: ReadMode,
}

#[derive(Arbitrary, Debug)]
enum Compute {
    Put(NewValue),
    Remove,
    Nop,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Insert(u8, NewValue),
    Get(u8),
    Contains(u8),
    Remove(u8),
    GetWith(u8, NewValue),
    Compute(u8, Compute),
    InvalidateAll,
    Advance(Dur),
    RunPendingTasks,
    Iter,
}

#[derive(Arbitrary, Debug)]
enum Capacity {
    Unbounded,
    Small(u8),
    Exactly(u64),
}

#[derive(Arbitrary, Debug)]
struct Config {
    capacity: Capacity,
    ttl: Option<Dur>,
    tti: Option<Dur>,
    expiry: bool,
    colliding_keys: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    config: Config,
    ops: Vec<Op>,
}

/// Counts creations, clones and drops of [`Val`].
#[derive(Default)]
struct Counts {
    created: AtomicU64,
    cloned: AtomicU64,
    dropped: AtomicU64,
}

/// A cached value: which write it came from, and its drop accounting.
struct Val {
    key: u8,
    id: u64,
    weight: u32,
    ttl: Option<Duration>,
    read: ReadMode,
    counts: Arc<Counts>,
}

impl Clone for Val {
    fn clone(&self) -> Self {
        self.counts.cloned.fetch_add(1, Ordering::Relaxed);
        Val {
            key: self.key,
            id: self.id,
            weight: self.weight,
            ttl: self.ttl,
            read: self.read,
            counts: Arc::clone(&self.counts),
        }
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        self.counts.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

struct ByValue;

impl Expiry<u8, Val> for ByValue {
    fn expire_after_create(&self, _k: &u8, v: &Val, _at: Instant) -> Option<Duration> {
        v.ttl
    }
    fn expire_after_update(
        &self,
        _k: &u8,
        v: &Val,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        v.ttl
    }
    fn expire_after_read(
        &self,
        _k: &u8,
        v: &Val,
        _at: Instant,
        left: Option<Duration>,
        _modified: Instant,
    ) -> Option<Duration> {
        match v.read {
            ReadMode::Keep => left,
            ReadMode::Never => None,
            ReadMode::Extend(d) => left.map(|l| l.max(d.get())),
            ReadMode::Set(d) if SHORTENING_READS => Some(d.get()),
            ReadMode::Set(d) => left.map(|l| l.max(d.get())),
        }
    }
}

/// Every key hashes to one of two values: long probe chains, tombstones.
#[derive(Clone, Default)]
struct Colliding;

struct CollidingHasher(u64);

impl Hasher for CollidingHasher {
    fn finish(&self) -> u64 {
        (self.0 & 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.wrapping_add(u64::from(*b));
        }
    }
}

impl BuildHasher for Colliding {
    type Hasher = CollidingHasher;
    fn build_hasher(&self) -> CollidingHasher {
        CollidingHasher(0)
    }
}

/// The model's view of one written value.
#[derive(Clone)]
struct State {
    written: u64,
    accessed: u64,
    /// The per-entry deadline (u128: exact, no saturation), `None` = never.
    custom: Option<u128>,
    read: ReadMode,
}

struct Model {
    ttl: Option<Duration>,
    tti: Option<Duration>,
    expiry: bool,
    max: Option<u64>,
    /// Key -> id of the value the cache may hold.
    latest: HashMap<u8, u64>,
    /// Every value's state (frozen once it is no longer the latest).
    states: HashMap<u64, State>,
    /// Ids given to the cache.
    taken: Vec<u64>,
    /// Ids removed by `remove` or a compute, with the cause they must be
    /// reported with: `Explicit`, or `Expired` if the deadline (as moved by
    /// the compute's own read) had passed at the removal, as the cache
    /// decides a removal's cause when it unlinks the entry.
    removed: HashMap<u64, RemovalCause>,
    /// Ids that must be reported `Size` (refused: heavier than the cache).
    refused: HashSet<u64>,
    next_id: u64,
}

impl Model {
    fn expiring(&self) -> bool {
        self.ttl.is_some() || self.tti.is_some() || self.expiry
    }

    /// The deadline the cache computes, saturated at the end of its clock.
    fn deadline(&self, s: &State) -> Option<u64> {
        if !self.expiring() {
            return None;
        }
        let mut d = s.custom.unwrap_or(u128::MAX);
        if let Some(ttl) = self.ttl {
            d = d.min(u128::from(s.written) + ttl.as_nanos());
        }
        if let Some(tti) = self.tti {
            d = d.min(u128::from(s.accessed) + tti.as_nanos());
        }
        Some(u64::try_from(d).unwrap_or(u64::MAX))
    }

    fn expired(&self, id: u64, now: u64) -> bool {
        // A deadline that saturates at u64::MAX means "never" (as in the
        // cache), even when the mock clock reaches the end of time.
        self.deadline(&self.states[&id]).is_some_and(|d| d != u64::MAX && now >= d)
    }

    /// Checks a value the cache returned for `key` at `now`.
    fn check_returned(&self, key: u8, v: &Val, now: u64, what: &str) {
        assert_eq!(v.key, key, "{what}: value of another key");
        assert_eq!(
            self.latest.get(&key),
            Some(&v.id),
            "{what}: key {key} returned id {} (phantom or stale value)",
            v.id
        );
        assert!(
            !self.expired(v.id, now),
            "{what}: key {key} id {} returned after its deadline {:?} (now {now})",
            v.id,
            self.deadline(&self.states[&v.id])
        );
    }

    /// A read hit at `now`: time-to-idle restarts, `Expiry` may move the deadline.
    fn hit(&mut self, id: u64, now: u64) {
        let expiry = self.expiry;
        let s = self.states.get_mut(&id).expect("known id");
        s.accessed = now;
        if expiry {
            let at_least = |d: Dur| u128::from(now) + d.get().as_nanos();
            s.custom = match s.read {
                ReadMode::Keep => s.custom,
                ReadMode::Never => None,
                ReadMode::Set(d) if SHORTENING_READS => Some(at_least(d)),
                ReadMode::Extend(d) | ReadMode::Set(d) => {
                    s.custom.map(|c| if c <= u128::from(u64::MAX) { c.max(at_least(d)) } else { c })
                }
            };
            // The cache stores deadlines as u64: a saturated one means never.
            if s.custom.is_some_and(|c| c >= u128::from(u64::MAX)) {
                s.custom = None;
            }
        }
    }

    fn new_value(&mut self, key: u8, nv: &NewValue, counts: &Arc<Counts>) -> Val {
        self.next_id += 1;
        counts.created.fetch_add(1, Ordering::Relaxed);
        Val {
            key,
            id: self.next_id,
            weight: nv.weight.get(),
            ttl: nv.ttl.map(Dur::get),
            read: nv.read,
            counts: Arc::clone(counts),
        }
    }

    /// The cache took `v` for `key` at `now`.
    fn wrote(&mut self, key: u8, id: u64, nv: &NewValue, now: u64) {
        let custom = if self.expiry {
            nv.ttl
                .map(|d| u128::from(now) + d.get().as_nanos())
                .filter(|&c| c < u128::from(u64::MAX))
        } else {
            None
        };
        let weight = nv.weight.get();
        self.states.insert(
            id,
            State {
                written: now,
                accessed: now,
                custom,
                read: nv.read,
            },
        );
        self.latest.insert(key, id);
        self.taken.push(id);
        let refused = match self.max {
            Some(0) => true,
            Some(max) => u64::from(weight) > max,
            None => false,
        };
        if refused {
            self.refused.insert(id);
        }
    }
}

type Notes = Arc<Mutex<Vec<(u64, RemovalCause, u64)>>>;

fn run<S: BuildHasher + Clone + Send + Sync + 'static>(input: &Input, hasher: S) {
    let cfg = &input.config;
    let counts = Arc::new(Counts::default());
    let (clock, mock): (Clock, MockHandle) = Clock::mock();
    let notes: Notes = Arc::default();
    let max = match cfg.capacity {
        Capacity::Unbounded => None,
        Capacity::Small(n) => Some(u64::from(n % 17)),
        Capacity::Exactly(n) => Some(n),
    };
    let mut builder = Cache::<u8, Val>::builder()
        .weigher(|_k, v: &Val| v.weight)
        .clock(clock);
    {
        let notes = Arc::clone(&notes);
        let mock = mock.clone();
        builder = builder.eviction_listener(move |k: Arc<u8>, v: Val, cause| {
            assert_eq!(*k, v.key, "listener got a value of another key");
            let at = u64::try_from(mock.elapsed().as_nanos()).unwrap_or(u64::MAX);
            notes.lock().unwrap().push((v.id, cause, at));
        });
    }
    if let Some(m) = max {
        builder = builder.max_capacity(m);
    }
    if let Some(d) = cfg.ttl {
        builder = builder.time_to_live(d.get());
    }
    if let Some(d) = cfg.tti {
        builder = builder.time_to_idle(d.get());
    }
    if cfg.expiry {
        builder = builder.expire_after(ByValue);
    }
    let cache = builder.build_with_hasher(hasher);
    let mut m = Model {
        ttl: cfg.ttl.map(Dur::get),
        tti: cfg.tti.map(Dur::get),
        expiry: cfg.expiry,
        max,
        latest: HashMap::new(),
        states: HashMap::new(),
        taken: Vec::new(),
        removed: HashMap::new(),
        refused: HashSet::new(),
        next_id: 0,
    };
    let now = |mock: &MockHandle| u64::try_from(mock.elapsed().as_nanos()).unwrap_or(u64::MAX);

    for op in input.ops.iter().take(1_000) {
        let t = now(&mock);
        match op {
            Op::Insert(k, nv) => {
                let v = m.new_value(*k, nv, &counts);
                let id = v.id;
                cache.insert(*k, v);
                m.wrote(*k, id, nv, t);
            }
            Op::Get(k) => match cache.get(k) {
                Some(v) => {
                    m.check_returned(*k, &v, t, "get");
                    m.hit(v.id, t);
                }
                None => {
                    m.latest.remove(k);
                }
            },
            Op::Contains(k) => {
                if cache.contains_key(k) {
                    let id = *m.latest.get(k).unwrap_or_else(|| panic!("contains_key: phantom key {k}"));
                    assert!(!m.expired(id, t), "contains_key: key {k} is expired");
                } else {
                    m.latest.remove(k);
                }
            }
            Op::Remove(k) => {
                if let Some(v) = cache.remove(k) {
                    // Returned, so live at `t`: reported `Explicit`.
                    m.check_returned(*k, &v, t, "remove");
                    m.removed.insert(v.id, RemovalCause::Explicit);
                }
                m.latest.remove(k);
            }
            Op::GetWith(k, nv) => {
                let mut loaded = None;
                let v = cache.get_with(*k, || {
                    let v = m.new_value(*k, nv, &counts);
                    loaded = Some(v.id);
                    v
                });
                match loaded {
                    Some(id) => {
                        assert_eq!(v.id, id, "get_with: the loader's value was not returned");
                        m.wrote(*k, id, nv, t);
                    }
                    None => {
                        m.check_returned(*k, &v, t, "get_with");
                        m.hit(v.id, t);
                    }
                }
            }
            Op::Compute(k, c) => {
                let mut seen = None;
                let mut put = None;
                let result = cache.entry(*k).and_compute_with(|e| {
                    if let Some(e) = &e {
                        m.check_returned(*k, e.value(), t, "and_compute_with");
                        seen = Some(e.value().id);
                    }
                    match c {
                        Compute::Put(nv) => {
                            let v = m.new_value(*k, nv, &counts);
                            put = Some((v.id, *nv));
                            CompOp::Put(v)
                        }
                        Compute::Remove => CompOp::Remove,
                        Compute::Nop => CompOp::Nop,
                    }
                });
                match seen {
                    Some(id) => m.hit(id, t),
                    None => {
                        m.latest.remove(k);
                    }
                }
                match (&result, put, seen) {
                    (CompResult::Inserted(e), Some((id, nv)), None)
                    | (CompResult::ReplacedWith(e), Some((id, nv)), Some(_)) => {
                        assert_eq!(e.value().id, id);
                        m.wrote(*k, id, &nv, t);
                    }
                    (CompResult::Removed(e), None, Some(id)) => {
                        assert_eq!(e.value().id, id);
                        assert!(matches!(c, Compute::Remove));
                        // The compute read the entry first (`m.hit` above),
                        // which may have moved its deadline to `t` or
                        // earlier: then it is expired when it is removed.
                        let cause = if m.expired(id, t) {
                            RemovalCause::Expired
                        } else {
                            RemovalCause::Explicit
                        };
                        m.removed.insert(id, cause);
                        m.latest.remove(k);
                    }
                    (CompResult::Unchanged(e), None, Some(id)) => {
                        assert_eq!(e.value().id, id);
                        assert!(matches!(c, Compute::Nop));
                    }
                    (CompResult::StillNone(key), None, None) => {
                        assert_eq!(**key, *k);
                        assert!(!matches!(c, Compute::Put(_)));
                    }
                    (r, put, seen) => panic!(
                        "and_compute_with: {c:?} on {seen:?} gave {:?} (put {:?})",
                        std::mem::discriminant(r),
                        put.map(|p| p.0)
                    ),
                }
            }
            Op::InvalidateAll => {
                cache.invalidate_all();
                m.latest.clear();
            }
            Op::Advance(d) => {
                let mut d = d.get();
                if !END_OF_TIME {
                    d = d.min(Duration::from_nanos(u64::MAX - 1 - t));
                }
                mock.advance(d);
            }
            Op::RunPendingTasks => {
                cache.run_pending_tasks();
                check_quiescent(&cache, &mut m, &notes, t);
            }
            Op::Iter => {
                for (k, v) in cache.iter() {
                    m.check_returned(*k, &v, t, "iter");
                }
            }
        }
    }
    let t = now(&mock);
    cache.run_pending_tasks();
    check_quiescent(&cache, &mut m, &notes, t);
    drop(cache);
    for _ in 0..100 {
        crossbeam_epoch::pin().flush();
    }
    let created = counts.created.load(Ordering::Relaxed);
    let cloned = counts.cloned.load(Ordering::Relaxed);
    let dropped = counts.dropped.load(Ordering::Relaxed);
    assert_eq!(
        created + cloned,
        dropped,
        "values: {created} created + {cloned} clones, {dropped} drops"
    );
}

fn check_quiescent<S: BuildHasher + Clone + Send + Sync + 'static>(
    cache: &Cache<u8, Val, S>,
    m: &mut Model,
    notes: &Notes,
    t: u64,
) {
    if let Some(max) = m.max {
        assert!(
            cache.weighted_size() <= max,
            "weighted_size {} > max_capacity {max}",
            cache.weighted_size()
        );
    }
    assert_eq!(cache.loads_in_flight(), 0);
    let mut resident = HashSet::new();
    let mut weight = 0u64;
    for (k, v) in cache.iter() {
        m.check_returned(*k, &v, t, "iter after run_pending_tasks");
        assert!(resident.insert(v.id), "iter: id {} twice", v.id);
        weight += u64::from(v.weight);
    }
    assert_eq!(
        cache.entry_count(),
        resident.len() as u64,
        "entry_count disagrees with iter (an expired entry left behind?)"
    );
    assert_eq!(cache.weighted_size(), weight, "weighted_size disagrees with iter");
    // Keys the cache no longer holds stay absent until written again.
    let held: HashSet<u64> = resident.clone();
    m.latest.retain(|_, id| held.contains(id));

    let notes = notes.lock().unwrap();
    let mut notified = HashSet::new();
    for &(id, cause, at) in notes.iter() {
        assert!(notified.insert(id), "id {id} reported twice");
        assert!(!resident.contains(&id), "id {id} reported ({cause:?}) but still resident");
        if let Some(&want) = m.removed.get(&id) {
            assert_eq!(cause, want, "removed id {id}");
        }
        if m.refused.contains(&id) {
            assert_eq!(cause, RemovalCause::Size, "refused id {id}");
        }
        if cause == RemovalCause::Expired {
            let d = m.deadline(&m.states[&id]);
            assert!(
                d.is_some_and(|d| at >= d),
                "id {id} reported Expired at {at}, its deadline is {d:?}"
            );
        }
    }
    for id in &m.taken {
        assert!(
            notified.contains(id) || resident.contains(id),
            "id {id} is neither resident nor reported (lost, or an expired entry left behind)"
        );
    }
    assert_eq!(notified.len() + resident.len(), m.taken.len());
}

fuzz_target!(|input: Input| {
    if input.config.colliding_keys {
        run(&input, Colliding);
    } else {
        run(&input, BuildHasherDefault::<DefaultHasher>::default());
    }
});
