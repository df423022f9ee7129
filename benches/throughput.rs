//! Multi-threaded throughput of `larder::sync::Cache` next to `moka::sync::Cache`
//! and `quick_cache::sync::Cache`, on identical pre-generated key sequences.
//!
//! Groups (each at thread counts 1, 2 and 4, 16, 64, ... up to
//! `available_parallelism()`):
//!
//! * `read_hits`        – 100k resident entries, Zipf(s = 1.0) reads, every read hits.
//! * `mix_90_10`        – cache-aside over 1M keys, Zipf(s = 0.9), capacity 100k:
//!   `get`, and `insert` on a miss.
//! * `mix_90_10_insert` – same key distribution; 90% `get`, 10% unconditional `insert`.
//! * `read_hits_ttl`    – as `read_hits`, with a one-hour time-to-live
//!   (quick_cache has no TTL and is left out).
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

use std::hint::black_box;
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

type Larder = larder::sync::Cache<u64, u64>;
type Moka = moka::sync::Cache<u64, u64>;
type Quick = quick_cache::sync::Cache<u64, u64>;

/// Top bit of a pre-generated key: "this op is an unconditional insert"
/// (`mix_90_10_insert` only). Key ranks never come near it.
const INSERT_FLAG: u64 = 1 << 63;

const TTL: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------
// Sizes and thread counts
// ---------------------------------------------------------------------------

struct Sizes {
    /// Resident entries in the read-hit groups.
    resident: u64,
    /// Key space of the mixed groups.
    mix_keys: u64,
    /// Capacity of the mixed groups.
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

/// 1 and 2, then every other power of two (4, 16, 64, ...) up to the
/// machine's parallelism; or the list in `LARDER_BENCH_THREADS`.
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
    let mut counts = vec![1, 2];
    let mut t = 4;
    while t <= max {
        counts.push(t);
        t *= 4;
    }
    counts
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
// Timed runner
// ---------------------------------------------------------------------------

#[inline(always)]
fn worker<F: Fn(u64)>(keys: &[u64], start: usize, iters: u64, op: &F) {
    let mask = keys.len() - 1;
    let mut i = start;
    for _ in 0..iters {
        op(keys[i & mask]);
        i = i.wrapping_add(1);
    }
}

/// Runs `iters` ops on each of `threads` threads, each thread walking the
/// shared key sequence from its own offset, and returns the wall time from
/// the first thread's start to the last thread's finish. `pos` advances
/// between calls so successive samples see different stretches of keys.
fn run_threads<F>(threads: usize, iters: u64, keys: &[u64], pos: &mut usize, op: &F) -> Duration
where
    F: Fn(u64) + Sync,
{
    let mask = keys.len() - 1;
    let base = *pos;
    *pos = base.wrapping_add(iters as usize) & mask;

    if threads == 1 {
        let start = Instant::now();
        worker(keys, base, iters, op);
        return start.elapsed();
    }

    let stride = keys.len() / threads;
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    worker(keys, base.wrapping_add(t * stride), iters, op);
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

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
}

// ---------------------------------------------------------------------------
// Cache construction and checks
// ---------------------------------------------------------------------------

fn larder_cache(capacity: u64, ttl: Option<Duration>) -> Larder {
    let builder = Larder::builder().max_capacity(capacity);
    match ttl {
        Some(ttl) => builder.time_to_live(ttl).build(),
        None => builder.build(),
    }
}

fn moka_cache(capacity: u64, ttl: Option<Duration>) -> Moka {
    let builder = Moka::builder().max_capacity(capacity);
    match ttl {
        Some(ttl) => builder.time_to_live(ttl).build(),
        None => builder.build(),
    }
}

fn quick_cache(capacity: u64) -> Quick {
    Quick::new(capacity as usize)
}

/// Asserts every key in `0..n` is resident, using `get` (so the check itself
/// also counts as an access in each cache's policy).
fn assert_all_hit(name: &str, n: u64, get: impl Fn(u64) -> Option<u64>) {
    let misses = (0..n).filter(|&k| get(k) != Some(k)).count();
    assert_eq!(
        misses, 0,
        "{name}: {misses} of {n} pre-loaded keys missing before the read-hit benchmark"
    );
}

// ---------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------

/// `read_hits` and `read_hits_ttl`.
fn read_hits_group(
    c: &mut Criterion,
    group_name: &str,
    ttl: Option<Duration>,
    sizes: &Sizes,
    threads: &[usize],
) {
    let n = sizes.resident;
    // Twice the resident set, so sharded/approximate capacities never evict.
    let capacity = n * 2;
    let keys = zipf_keys(n, 1.0, sizes.seq_len, None, 0x5EED_0001);

    let larder = larder_cache(capacity, ttl);
    let moka = moka_cache(capacity, ttl);
    let quick = ttl.is_none().then(|| quick_cache(capacity));
    for k in 0..n {
        larder.insert(k, k);
        moka.insert(k, k);
        if let Some(q) = &quick {
            q.insert(k, k);
        }
    }
    larder.run_pending_tasks();
    moka.run_pending_tasks();

    assert_all_hit("larder", n, |k| larder.get(&k));
    assert_all_hit("moka", n, |k| moka.get(&k));
    if let Some(q) = &quick {
        assert_all_hit("quick_cache", n, |k| q.get(&k));
    }
    larder.run_pending_tasks();
    moka.run_pending_tasks();
    assert_eq!(larder.entry_count(), n, "larder entry_count after pre-load");
    assert_eq!(moka.entry_count(), n, "moka entry_count after pre-load");

    let mut group = c.benchmark_group(group_name);
    configure(&mut group);
    for &t in threads {
        bench_op(&mut group, "larder", t, &keys, |k| {
            black_box(larder.get(&k));
        });
        bench_op(&mut group, "moka", t, &keys, |k| {
            black_box(moka.get(&k));
        });
        if let Some(q) = &quick {
            bench_op(&mut group, "quick_cache", t, &keys, |k| {
                black_box(q.get(&k));
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
macro_rules! cache_aside {
    ($cache:expr, $k:expr) => {{
        let k = $k;
        match $cache.get(&k) {
            Some(v) => {
                black_box(v);
                true
            }
            None => {
                $cache.insert(k, k);
                false
            }
        }
    }};
}

/// 90% `get` / 10% unconditional `insert`, chosen by [`INSERT_FLAG`].
/// Returns `Some(hit)` for a get, `None` for an insert.
macro_rules! get_or_blind_insert {
    ($cache:expr, $k:expr) => {{
        let raw: u64 = $k;
        let k = raw & !INSERT_FLAG;
        if raw & INSERT_FLAG != 0 {
            $cache.insert(k, k);
            None
        } else {
            Some(black_box($cache.get(&k)).is_some())
        }
    }};
}

fn mix_cache_aside(c: &mut Criterion, sizes: &Sizes, threads: &[usize]) {
    const GROUP: &str = "mix_90_10";
    let keys = zipf_keys(sizes.mix_keys, 0.9, sizes.seq_len, None, 0x5EED_0002);
    let larder = larder_cache(sizes.mix_capacity, None);
    let moka = moka_cache(sizes.mix_capacity, None);
    let quick = quick_cache(sizes.mix_capacity);

    warm_pass(GROUP, "larder", &keys, |k| Some(cache_aside!(larder, k)));
    warm_pass(GROUP, "moka", &keys, |k| Some(cache_aside!(moka, k)));
    warm_pass(GROUP, "quick_cache", &keys, |k| {
        Some(cache_aside!(quick, k))
    });
    larder.run_pending_tasks();
    moka.run_pending_tasks();

    let mut group = c.benchmark_group(GROUP);
    configure(&mut group);
    for &t in threads {
        bench_op(&mut group, "larder", t, &keys, |k| {
            black_box(cache_aside!(larder, k));
        });
        bench_op(&mut group, "moka", t, &keys, |k| {
            black_box(cache_aside!(moka, k));
        });
        bench_op(&mut group, "quick_cache", t, &keys, |k| {
            black_box(cache_aside!(quick, k));
        });
    }
    group.finish();
}

fn mix_blind_insert(c: &mut Criterion, sizes: &Sizes, threads: &[usize]) {
    const GROUP: &str = "mix_90_10_insert";
    let keys = zipf_keys(sizes.mix_keys, 0.9, sizes.seq_len, Some(0.1), 0x5EED_0003);
    let larder = larder_cache(sizes.mix_capacity, None);
    let moka = moka_cache(sizes.mix_capacity, None);
    let quick = quick_cache(sizes.mix_capacity);

    warm_pass(GROUP, "larder", &keys, |k| get_or_blind_insert!(larder, k));
    warm_pass(GROUP, "moka", &keys, |k| get_or_blind_insert!(moka, k));
    warm_pass(GROUP, "quick_cache", &keys, |k| {
        get_or_blind_insert!(quick, k)
    });
    larder.run_pending_tasks();
    moka.run_pending_tasks();

    let mut group = c.benchmark_group(GROUP);
    configure(&mut group);
    for &t in threads {
        bench_op(&mut group, "larder", t, &keys, |k| {
            black_box(get_or_blind_insert!(larder, k));
        });
        bench_op(&mut group, "moka", t, &keys, |k| {
            black_box(get_or_blind_insert!(moka, k));
        });
        bench_op(&mut group, "quick_cache", t, &keys, |k| {
            black_box(get_or_blind_insert!(quick, k));
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
// and register it in `benches()` below.
// ---------------------------------------------------------------------------

fn benches(c: &mut Criterion) {
    let sizes = Sizes::from_env();
    let threads = thread_counts();
    read_hits_group(c, "read_hits", None, &sizes, &threads);
    mix_cache_aside(c, &sizes, &threads);
    mix_blind_insert(c, &sizes, &threads);
    read_hits_group(c, "read_hits_ttl", Some(TTL), &sizes, &threads);
    // TODO(get_with): mix_get_with(c, &sizes, &threads);
}

criterion_group!(throughput, benches);
criterion_main!(throughput);
