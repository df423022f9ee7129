//! Multi-threaded throughput of `larder::sync::Cache` next to `moka::sync::Cache`
//! and `quick_cache::sync::Cache`, on identical pre-generated key sequences.
//!
//! Groups (each at thread counts 1, 2, 4, 8, ... up to `available_parallelism()`,
//! plus `available_parallelism()` itself when it is not a power of two):
//!
//! * `read_hits`        – 100k resident entries, Zipf(s = 1.0) reads, every read hits.
//! * `mix_90_10`        – cache-aside over 1M keys, Zipf(s = 0.9), capacity 100k:
//!   `get`, and `insert` on a miss.
//! * `mix_90_10_insert` – same key distribution; 90% `get`, 10% unconditional `insert`.
//! * `mix_50_50_insert` – same key distribution; 50% `get`, 50% unconditional `insert`.
//! * `write_churn`      – a full cache (capacity 100k); every op inserts a key never
//!   inserted before (each cache gets the same fresh keys in the same order).
//! * `read_hits_ttl`    – as `read_hits`, with a one-hour time-to-live
//!   (quick_cache has no TTL and is left out).
//!
//! Each group runs twice: with `u64` keys and values (the group name as above),
//! and with `String` keys and `Arc<[u8]>` 64-byte values (the name with a
//! `_string` suffix, e.g. `read_hits_string`). In the `_string` groups the keys
//! of the key space are formatted up front (`get` borrows them); every `insert`
//! clones its key and allocates a fresh value (what a cache-aside load would), and
//! `write_churn_string` formats its fresh key in the loop: those costs are the same
//! for all three caches and are part of what is measured.
//!
//! One criterion "iteration" is one operation on each of the T threads, and the
//! throughput is declared as `Elements(T)`, so criterion's elements/s is total ops/s.
//!
//! Knobs (environment variables):
//! * `LARDER_BENCH_QUICK=1`   – all key counts 10x smaller (CI smoke:
//!   `LARDER_BENCH_QUICK=1 cargo bench --bench throughput -- --test`).
//! * `LARDER_BENCH_THREADS=1,2,8` – explicit list of thread counts.
//!
//! Each cache uses its own default hasher (moka: SipHash; larder: ahash;
//! quick_cache: foldhash), i.e. what a user gets out of the box.

use std::hash::Hash;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};

type Larder<K, V> = larder::sync::Cache<K, V>;
type Moka<K, V> = moka::sync::Cache<K, V>;
type Quick<K, V> = quick_cache::sync::Cache<K, V>;

/// Top bit of a pre-generated key: "this op is an unconditional insert"
/// (`mix_*_insert` only). Key ranks never come near it.
const INSERT_FLAG: u64 = 1 << 63;

const TTL: Duration = Duration::from_secs(3600);

/// Size of the values in the `_string` groups.
const VALUE_LEN: usize = 64;

// ---------------------------------------------------------------------------
// Sizes and thread counts
// ---------------------------------------------------------------------------

struct Sizes {
    /// Resident entries in the read-hit groups.
    resident: u64,
    /// Key space of the mixed groups.
    mix_keys: u64,
    /// Capacity of the mixed and churn groups.
    mix_capacity: u64,
    /// Length of each pre-generated key sequence (a power of two).
    seq_len: usize,
}

impl Sizes {
    fn from_env() -> Self {
        let quick = std::env::var("LARDER_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let div = if quick { 10 } else { 1 };
        Sizes {
            resident: 100_000 / div,
            mix_keys: 1_000_000 / div,
            mix_capacity: 100_000 / div,
            // 1Mi keys normally, 128Ki in quick mode.
            seq_len: if quick { 1 << 17 } else { 1 << 20 },
        }
    }
}

/// Every power of two up to the machine's parallelism, and the parallelism
/// itself if it is not one; or the list in `LARDER_BENCH_THREADS`.
fn thread_counts() -> Vec<usize> {
    if let Ok(list) = std::env::var("LARDER_BENCH_THREADS") {
        let v: Vec<usize> = list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .filter(|&n| n > 0)
            .collect();
        if !v.is_empty() {
            return v;
        }
    }
    let max = thread::available_parallelism().map_or(1, |n| n.get());
    let mut counts = Vec::new();
    let mut t = 1;
    while t <= max {
        counts.push(t);
        t *= 2;
    }
    if !max.is_power_of_two() {
        counts.push(max);
    }
    counts
}

// ---------------------------------------------------------------------------
// The caches, and the two key/value kinds
// ---------------------------------------------------------------------------

/// What the benchmarks need from a cache.
trait BenchCache<K, V>: Sync {
    fn get(&self, k: &K) -> Option<V>;
    fn insert(&self, k: K, v: V);
}

impl<K, V> BenchCache<K, V> for Larder<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    #[inline]
    fn get(&self, k: &K) -> Option<V> {
        Larder::get(self, k)
    }
    #[inline]
    fn insert(&self, k: K, v: V) {
        Larder::insert(self, k, v)
    }
}

impl<K, V> BenchCache<K, V> for Moka<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    #[inline]
    fn get(&self, k: &K) -> Option<V> {
        Moka::get(self, k)
    }
    #[inline]
    fn insert(&self, k: K, v: V) {
        Moka::insert(self, k, v)
    }
}

impl<K, V> BenchCache<K, V> for Quick<K, V>
where
    K: Hash + Eq + Send + Sync,
    V: Clone + Send + Sync,
{
    #[inline]
    fn get(&self, k: &K) -> Option<V> {
        Quick::get(self, k)
    }
    #[inline]
    fn insert(&self, k: K, v: V) {
        Quick::insert(self, k, v)
    }
}

/// A key/value kind: maps the pre-generated `u64` ranks to keys and values.
trait Kind: Sync {
    type K: Hash + Eq + Clone + Send + Sync + 'static;
    type V: Clone + Send + Sync + 'static;
    /// Appended to every group name.
    const SUFFIX: &'static str;

    /// A kind whose ranks `0..key_space` are valid for `get` / `insert`.
    fn new(key_space: u64) -> Self;
    fn get<C: BenchCache<Self::K, Self::V>>(&self, c: &C, rank: u64) -> Option<Self::V>;
    fn insert<C: BenchCache<Self::K, Self::V>>(&self, c: &C, rank: u64);
    /// Inserts a key built from `n` on the spot (any `n`; for `write_churn`).
    fn insert_fresh<C: BenchCache<Self::K, Self::V>>(&self, c: &C, n: u64);
    /// Whether `v` is the value inserted for `rank`.
    fn valid(&self, rank: u64, v: &Self::V) -> bool;
}

/// `u64` keys and values (key = value = rank).
struct U64Kind;

impl Kind for U64Kind {
    type K = u64;
    type V = u64;
    const SUFFIX: &'static str = "";

    fn new(_key_space: u64) -> Self {
        U64Kind
    }
    #[inline(always)]
    fn get<C: BenchCache<u64, u64>>(&self, c: &C, rank: u64) -> Option<u64> {
        c.get(&rank)
    }
    #[inline(always)]
    fn insert<C: BenchCache<u64, u64>>(&self, c: &C, rank: u64) {
        c.insert(rank, rank)
    }
    #[inline(always)]
    fn insert_fresh<C: BenchCache<u64, u64>>(&self, c: &C, n: u64) {
        c.insert(n, n)
    }
    fn valid(&self, rank: u64, v: &u64) -> bool {
        *v == rank
    }
}

/// `String` keys (formatted up front), `Arc<[u8]>` values of [`VALUE_LEN`]
/// bytes (allocated per insert).
struct StringKind {
    keys: Vec<String>,
    bytes: [u8; VALUE_LEN],
}

impl StringKind {
    #[inline(always)]
    fn value(&self) -> Arc<[u8]> {
        Arc::from(&self.bytes[..])
    }
}

impl Kind for StringKind {
    type K = String;
    type V = Arc<[u8]>;
    const SUFFIX: &'static str = "_string";

    fn new(key_space: u64) -> Self {
        StringKind {
            keys: (0..key_space)
                .map(|k| format!("larder:key:{k:08}"))
                .collect(),
            bytes: [0xA5; VALUE_LEN],
        }
    }
    #[inline(always)]
    fn get<C: BenchCache<String, Arc<[u8]>>>(&self, c: &C, rank: u64) -> Option<Arc<[u8]>> {
        c.get(&self.keys[rank as usize])
    }
    #[inline(always)]
    fn insert<C: BenchCache<String, Arc<[u8]>>>(&self, c: &C, rank: u64) {
        c.insert(self.keys[rank as usize].clone(), self.value())
    }
    #[inline(always)]
    fn insert_fresh<C: BenchCache<String, Arc<[u8]>>>(&self, c: &C, n: u64) {
        c.insert(format!("larder:fresh:{n:012}"), self.value())
    }
    fn valid(&self, _rank: u64, v: &Arc<[u8]>) -> bool {
        v.len() == VALUE_LEN
    }
}

// ---------------------------------------------------------------------------
// Key sequences
// ---------------------------------------------------------------------------

/// `len` keys drawn from Zipf(`s`) over `0..n` (rank 1 -> key 0, the hottest).
/// With `insert_prob` = Some(p), each op is independently flagged as an
/// unconditional insert with probability `p` (see [`INSERT_FLAG`]).
fn zipf_keys(n: u64, s: f64, len: usize, insert_prob: Option<f64>, seed: u64) -> Arc<Vec<u64>> {
    assert!(len.is_power_of_two());
    let mut rng = StdRng::seed_from_u64(seed);
    let zipf = Zipf::new(n, s).expect("valid Zipf parameters");
    let keys = (0..len)
        .map(|_| {
            let key = zipf.sample(&mut rng) as u64 - 1;
            debug_assert!(key < n);
            match insert_prob {
                Some(p) if rng.gen_bool(p) => key | INSERT_FLAG,
                _ => key,
            }
        })
        .collect();
    Arc::new(keys)
}

// ---------------------------------------------------------------------------
// Timed runners
// ---------------------------------------------------------------------------

/// Runs `work(t)` on each of `threads` threads (released together) and returns
/// the wall time from the first thread's start to the last thread's finish.
fn run_parallel<W>(threads: usize, work: &W) -> Duration
where
    W: Fn(usize) + Sync,
{
    if threads == 1 {
        let start = Instant::now();
        work(0);
        return start.elapsed();
    }
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    work(t);
                    (start, Instant::now())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread panicked"))
            .collect()
    });
    let first = spans
        .iter()
        .map(|s| s.0)
        .min()
        .expect("at least one thread");
    let last = spans
        .iter()
        .map(|s| s.1)
        .max()
        .expect("at least one thread");
    last - first
}

/// Runs `iters` ops on each of `threads` threads, each thread walking the
/// shared key sequence from its own offset. `pos` advances between calls so
/// successive samples see different stretches of keys.
fn run_threads<F>(threads: usize, iters: u64, keys: &[u64], pos: &mut usize, op: &F) -> Duration
where
    F: Fn(u64) + Sync,
{
    let mask = keys.len() - 1;
    let base = *pos;
    *pos = base.wrapping_add(iters as usize) & mask;
    let stride = keys.len() / threads;
    run_parallel(threads, &|t: usize| {
        let mut i = base.wrapping_add(t * stride);
        for _ in 0..iters {
            op(keys[i & mask]);
            i = i.wrapping_add(1);
        }
    })
}

/// Runs `iters` ops on each of `threads` threads, handing every op a number
/// taken from `next` that no earlier op got.
fn run_threads_fresh<F>(threads: usize, iters: u64, next: &AtomicU64, op: &F) -> Duration
where
    F: Fn(u64) + Sync,
{
    let base = next.fetch_add(threads as u64 * iters, Ordering::Relaxed);
    run_parallel(threads, &|t: usize| {
        let start = base + t as u64 * iters;
        for n in start..start + iters {
            op(n);
        }
    })
}

/// Registers one `name/threads` benchmark running `op` over `keys`.
fn bench_op<F>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    threads: usize,
    keys: &[u64],
    op: F,
) where
    F: Fn(u64) + Sync,
{
    group.throughput(Throughput::Elements(threads as u64));
    let mut pos = 0usize;
    group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &t| {
        b.iter_custom(|iters| run_threads(t, iters, keys, &mut pos, &op))
    });
}

/// Registers one `name/threads` benchmark running `op` on fresh numbers from `next`.
fn bench_fresh<F>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    threads: usize,
    next: &AtomicU64,
    op: F,
) where
    F: Fn(u64) + Sync,
{
    group.throughput(Throughput::Elements(threads as u64));
    group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &t| {
        b.iter_custom(|iters| run_threads_fresh(t, iters, next, &op))
    });
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
}

// ---------------------------------------------------------------------------
// Cache construction and checks
// ---------------------------------------------------------------------------

fn larder_cache<K, V>(capacity: u64, ttl: Option<Duration>) -> Larder<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let builder = Larder::builder().max_capacity(capacity);
    match ttl {
        Some(ttl) => builder.time_to_live(ttl).build(),
        None => builder.build(),
    }
}

fn moka_cache<K, V>(capacity: u64, ttl: Option<Duration>) -> Moka<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let builder = Moka::builder().max_capacity(capacity);
    match ttl {
        Some(ttl) => builder.time_to_live(ttl).build(),
        None => builder.build(),
    }
}

fn quick_cache<K, V>(capacity: u64) -> Quick<K, V>
where
    K: Hash + Eq + Send + Sync,
    V: Clone + Send + Sync,
{
    Quick::new(capacity as usize)
}

/// Asserts every rank in `0..n` is resident, using `get` (so the check itself
/// also counts as an access in each cache's policy).
fn assert_all_hit<Kd: Kind, C: BenchCache<Kd::K, Kd::V>>(kind: &Kd, name: &str, n: u64, c: &C) {
    let misses = (0..n)
        .filter(|&k| !kind.get(c, k).is_some_and(|v| kind.valid(k, &v)))
        .count();
    assert_eq!(
        misses, 0,
        "{name}: {misses} of {n} pre-loaded keys missing before the read-hit benchmark"
    );
}

// ---------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------

/// `read_hits` and `read_hits_ttl`.
fn read_hits_group<Kd: Kind>(
    c: &mut Criterion,
    base_name: &str,
    ttl: Option<Duration>,
    sizes: &Sizes,
    threads: &[usize],
) {
    let group_name = format!("{base_name}{}", Kd::SUFFIX);
    let n = sizes.resident;
    // Twice the resident set, so sharded/approximate capacities never evict.
    let capacity = n * 2;
    let keys = zipf_keys(n, 1.0, sizes.seq_len, None, 0x5EED_0001);
    let kind = Kd::new(n);

    let larder = larder_cache(capacity, ttl);
    let moka = moka_cache(capacity, ttl);
    let quick = ttl.is_none().then(|| quick_cache(capacity));
    for k in 0..n {
        kind.insert(&larder, k);
        kind.insert(&moka, k);
        if let Some(q) = &quick {
            kind.insert(q, k);
        }
    }
    larder.run_pending_tasks();
    moka.run_pending_tasks();

    assert_all_hit(&kind, "larder", n, &larder);
    assert_all_hit(&kind, "moka", n, &moka);
    if let Some(q) = &quick {
        assert_all_hit(&kind, "quick_cache", n, q);
    }
    larder.run_pending_tasks();
    moka.run_pending_tasks();
    assert_eq!(larder.entry_count(), n, "larder entry_count after pre-load");
    assert_eq!(moka.entry_count(), n, "moka entry_count after pre-load");

    let mut group = c.benchmark_group(group_name);
    configure(&mut group);
    for &t in threads {
        bench_op(&mut group, "larder", t, &keys, |k| {
            black_box(kind.get(&larder, k));
        });
        bench_op(&mut group, "moka", t, &keys, |k| {
            black_box(kind.get(&moka, k));
        });
        if let Some(q) = &quick {
            bench_op(&mut group, "quick_cache", t, &keys, |k| {
                black_box(kind.get(q, k));
            });
        }
    }
    group.finish();
}

/// One untimed single-threaded pass over `keys` to bring a cache to steady
/// state; prints the hit ratio of its `get`s to stderr.
fn warm_pass(group: &str, name: &str, keys: &[u64], op: impl Fn(u64) -> Option<bool>) {
    let (mut hits, mut gets) = (0u64, 0u64);
    for &k in keys {
        if let Some(hit) = op(k) {
            gets += 1;
            hits += u64::from(hit);
        }
    }
    eprintln!(
        "{group}: {name:<11} hit ratio {:.4} (untimed warm-up pass, {gets} gets)",
        hits as f64 / gets.max(1) as f64
    );
}

/// Cache-aside: `get`, and `insert` on a miss. Returns whether it hit.
#[inline(always)]
fn cache_aside<Kd: Kind, C: BenchCache<Kd::K, Kd::V>>(kind: &Kd, c: &C, k: u64) -> bool {
    match kind.get(c, k) {
        Some(v) => {
            black_box(v);
            true
        }
        None => {
            kind.insert(c, k);
            false
        }
    }
}

/// `get`, or an unconditional `insert` when the key carries [`INSERT_FLAG`].
/// Returns `Some(hit)` for a get, `None` for an insert.
#[inline(always)]
fn get_or_blind_insert<Kd: Kind, C: BenchCache<Kd::K, Kd::V>>(
    kind: &Kd,
    c: &C,
    raw: u64,
) -> Option<bool> {
    let k = raw & !INSERT_FLAG;
    if raw & INSERT_FLAG != 0 {
        kind.insert(c, k);
        None
    } else {
        Some(black_box(kind.get(c, k)).is_some())
    }
}

fn mix_cache_aside<Kd: Kind>(c: &mut Criterion, sizes: &Sizes, threads: &[usize]) {
    let group_name = format!("mix_90_10{}", Kd::SUFFIX);
    let keys = zipf_keys(sizes.mix_keys, 0.9, sizes.seq_len, None, 0x5EED_0002);
    let kind = Kd::new(sizes.mix_keys);
    let larder = larder_cache(sizes.mix_capacity, None);
    let moka = moka_cache(sizes.mix_capacity, None);
    let quick = quick_cache(sizes.mix_capacity);

    warm_pass(&group_name, "larder", &keys, |k| {
        Some(cache_aside(&kind, &larder, k))
    });
    warm_pass(&group_name, "moka", &keys, |k| {
        Some(cache_aside(&kind, &moka, k))
    });
    warm_pass(&group_name, "quick_cache", &keys, |k| {
        Some(cache_aside(&kind, &quick, k))
    });
    larder.run_pending_tasks();
    moka.run_pending_tasks();

    let mut group = c.benchmark_group(&group_name);
    configure(&mut group);
    for &t in threads {
        bench_op(&mut group, "larder", t, &keys, |k| {
            black_box(cache_aside(&kind, &larder, k));
        });
        bench_op(&mut group, "moka", t, &keys, |k| {
            black_box(cache_aside(&kind, &moka, k));
        });
        bench_op(&mut group, "quick_cache", t, &keys, |k| {
            black_box(cache_aside(&kind, &quick, k));
        });
    }
    group.finish();
}

/// `mix_90_10_insert` (`insert_pct` = 10) and `mix_50_50_insert` (50).
fn mix_blind_insert<Kd: Kind>(
    c: &mut Criterion,
    sizes: &Sizes,
    threads: &[usize],
    insert_pct: u32,
) {
    let group_name = format!(
        "mix_{}_{}_insert{}",
        100 - insert_pct,
        insert_pct,
        Kd::SUFFIX
    );
    let keys = zipf_keys(
        sizes.mix_keys,
        0.9,
        sizes.seq_len,
        Some(f64::from(insert_pct) / 100.0),
        0x5EED_0003 + u64::from(insert_pct),
    );
    let kind = Kd::new(sizes.mix_keys);
    let larder = larder_cache(sizes.mix_capacity, None);
    let moka = moka_cache(sizes.mix_capacity, None);
    let quick = quick_cache(sizes.mix_capacity);

    warm_pass(&group_name, "larder", &keys, |k| {
        get_or_blind_insert(&kind, &larder, k)
    });
    warm_pass(&group_name, "moka", &keys, |k| {
        get_or_blind_insert(&kind, &moka, k)
    });
    warm_pass(&group_name, "quick_cache", &keys, |k| {
        get_or_blind_insert(&kind, &quick, k)
    });
    larder.run_pending_tasks();
    moka.run_pending_tasks();

    let mut group = c.benchmark_group(&group_name);
    configure(&mut group);
    for &t in threads {
        bench_op(&mut group, "larder", t, &keys, |k| {
            black_box(get_or_blind_insert(&kind, &larder, k));
        });
        bench_op(&mut group, "moka", t, &keys, |k| {
            black_box(get_or_blind_insert(&kind, &moka, k));
        });
        bench_op(&mut group, "quick_cache", t, &keys, |k| {
            black_box(get_or_blind_insert(&kind, &quick, k));
        });
    }
    group.finish();
}

/// `write_churn`: inserts of never-seen keys into a full cache.
fn write_churn<Kd: Kind>(c: &mut Criterion, sizes: &Sizes, threads: &[usize]) {
    let group_name = format!("write_churn{}", Kd::SUFFIX);
    let capacity = sizes.mix_capacity;
    let kind = Kd::new(0);
    let larder = larder_cache(capacity, None);
    let moka = moka_cache(capacity, None);
    let quick = quick_cache(capacity);
    // Fill each cache to capacity with keys 0..capacity; the benchmark goes on
    // from there, every cache through the same sequence of fresh keys.
    for n in 0..capacity {
        kind.insert_fresh(&larder, n);
        kind.insert_fresh(&moka, n);
        kind.insert_fresh(&quick, n);
    }
    larder.run_pending_tasks();
    moka.run_pending_tasks();
    let next = [
        AtomicU64::new(capacity),
        AtomicU64::new(capacity),
        AtomicU64::new(capacity),
    ];

    let mut group = c.benchmark_group(&group_name);
    configure(&mut group);
    for &t in threads {
        bench_fresh(&mut group, "larder", t, &next[0], |n| {
            kind.insert_fresh(&larder, n);
        });
        bench_fresh(&mut group, "moka", t, &next[1], |n| {
            kind.insert_fresh(&moka, n);
        });
        bench_fresh(&mut group, "quick_cache", t, &next[2], |n| {
            kind.insert_fresh(&quick, n);
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------
// TODO(get_with): `larder::sync::Cache::get_with(key, || value)` is not in the
// API yet. When it lands, add a `mix_get_with` group here, shaped like
// `mix_cache_aside` (same Zipf(0.9) keys over `sizes.mix_keys`, capacity
// `sizes.mix_capacity`), with one op per cache:
//
//   larder:      black_box(larder.get_with(k, || k));
//   moka:        black_box(moka.get_with(k, || k));
//   quick_cache: black_box(quick.get_or_insert_with(&k, || Ok::<_, ()>(k)));
//
// and register it in `benches()` below (for both kinds: with `Kind`, the key is
// the rank for `U64Kind` and a clone of `StringKind::keys[rank]` otherwise).
// ---------------------------------------------------------------------------

fn groups_for<Kd: Kind>(c: &mut Criterion, sizes: &Sizes, threads: &[usize]) {
    read_hits_group::<Kd>(c, "read_hits", None, sizes, threads);
    mix_cache_aside::<Kd>(c, sizes, threads);
    mix_blind_insert::<Kd>(c, sizes, threads, 10);
    mix_blind_insert::<Kd>(c, sizes, threads, 50);
    write_churn::<Kd>(c, sizes, threads);
    read_hits_group::<Kd>(c, "read_hits_ttl", Some(TTL), sizes, threads);
    // TODO(get_with): mix_get_with::<Kd>(c, sizes, threads);
}

fn benches(c: &mut Criterion) {
    let sizes = Sizes::from_env();
    let threads = thread_counts();
    groups_for::<U64Kind>(c, &sizes, &threads);
    groups_for::<StringKind>(c, &sizes, &threads);
}

criterion_group!(throughput, benches);
criterion_main!(throughput);
