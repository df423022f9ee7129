//! Loading and async benchmarks, larder side by side with moka (and
//! quick_cache where it has the operation):
//!
//! * `get_with_hits`: `get_with` on resident keys must cost about what `get`
//!   costs (Zipf 1.0 over 100k resident u64 keys).
//! * `miss_storm`: 8 threads ask for the same 1,000 cold keys at once, through
//!   `get_with` with a loader that does about 2 µs of work; one iteration is
//!   the whole storm on a fresh cache. Fewer loads and less waiting win.
//! * `async_get_hits`: `future::Cache::get` against `sync::Cache::get` and
//!   moka's `future::Cache::get`, awaited in a loop on a tokio current-thread
//!   runtime.
//!
//! `LARDER_BENCH_QUICK=1` shrinks the key counts tenfold (CI smoke:
//! `cargo bench --bench loading -- --test`).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::prelude::*;
use rand_distr::Zipf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

fn scale() -> u64 {
    if std::env::var_os("LARDER_BENCH_QUICK").is_some() {
        10
    } else {
        1
    }
}

fn zipf_keys(n: u64, s: f64, len: usize) -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64(42);
    let z = Zipf::new(n, s).expect("zipf");
    (0..len).map(|_| z.sample(&mut rng) as u64 - 1).collect()
}

/// About `micros` µs of real work (a loader's cost).
fn work(seed: u64, micros: u64) -> u64 {
    let end = Instant::now() + Duration::from_micros(micros);
    let mut x = seed | 1;
    while Instant::now() < end {
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
    }
    x
}

fn get_with_hits(c: &mut Criterion) {
    let n = 100_000 / scale();
    let keys = zipf_keys(n, 1.0, 1 << 20);
    let larder = larder::sync::Cache::<u64, u64>::new(n * 2);
    let moka = moka::sync::Cache::<u64, u64>::new(n * 2);
    let quick = quick_cache::sync::Cache::<u64, u64>::new(n as usize * 2);
    for k in 0..n {
        larder.insert(k, k);
        moka.insert(k, k);
        quick.insert(k, k);
    }
    larder.run_pending_tasks();
    moka.run_pending_tasks();
    let mut g = c.benchmark_group("get_with_hits");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    let mut next = || {
        i = (i + 1) & ((1 << 20) - 1);
        keys[i]
    };
    g.bench_function("larder_get", |b| b.iter(|| black_box(larder.get(&next()))));
    g.bench_function("larder_get_with", |b| {
        b.iter(|| black_box(larder.get_with(next(), || 0)))
    });
    g.bench_function("moka_get_with", |b| {
        b.iter(|| black_box(moka.get_with(next(), || 0)))
    });
    g.bench_function("quick_cache_get_or_insert_with", |b| {
        b.iter(|| {
            let k = next();
            black_box(quick.get_or_insert_with(&k, || Ok::<_, ()>(0)))
        })
    });
    g.finish();
}

/// Runs the storm; returns the number of loads.
fn storm(threads: usize, keys: u64, get_with: impl Fn(u64, &dyn Fn() -> u64) -> u64 + Sync) -> u64 {
    let loads = AtomicU64::new(0);
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (loads, barrier, get_with) = (&loads, &barrier, &get_with);
            s.spawn(move || {
                barrier.wait();
                // Each thread walks the keys from its own starting point.
                for i in 0..keys {
                    let k = (i + t as u64 * keys / threads as u64) % keys;
                    black_box(get_with(k, &|| {
                        loads.fetch_add(1, Ordering::Relaxed);
                        work(k, 2)
                    }));
                }
            });
        }
    });
    loads.load(Ordering::Relaxed)
}

fn miss_storm(c: &mut Criterion) {
    let keys = 1_000 / scale();
    let threads = 8;
    let mut g = c.benchmark_group("miss_storm");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(300));
    g.throughput(Throughput::Elements(keys * threads as u64));
    g.bench_function(BenchmarkId::new("larder", threads), |b| {
        b.iter(|| {
            let cache = larder::sync::Cache::<u64, u64>::new(keys * 2);
            let loads = storm(threads, keys, |k, f| cache.get_with(k, f));
            assert_eq!(loads, keys, "one load per key");
        })
    });
    g.bench_function(BenchmarkId::new("moka", threads), |b| {
        b.iter(|| {
            let cache = moka::sync::Cache::<u64, u64>::new(keys * 2);
            black_box(storm(threads, keys, |k, f| cache.get_with(k, f)));
        })
    });
    g.finish();
}

fn async_get_hits(c: &mut Criterion) {
    let n = 100_000 / scale();
    let keys = zipf_keys(n, 1.0, 1 << 20);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let lsync = larder::sync::Cache::<u64, u64>::new(n * 2);
    let lasync = larder::future::Cache::<u64, u64>::new(n * 2);
    let masync = moka::future::Cache::<u64, u64>::new(n * 2);
    rt.block_on(async {
        for k in 0..n {
            lsync.insert(k, k);
            lasync.insert(k, k).await;
            masync.insert(k, k).await;
        }
        lasync.run_pending_tasks().await;
        masync.run_pending_tasks().await;
    });
    let batch = 1024usize;
    let mut g = c.benchmark_group("async_get_hits");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    g.throughput(Throughput::Elements(batch as u64));
    let mut off = 0usize;
    g.bench_function("larder_sync_get", |b| {
        b.iter(|| {
            off = (off + batch) % (keys.len() - batch);
            for k in &keys[off..off + batch] {
                black_box(lsync.get(k));
            }
        })
    });
    g.bench_function("larder_future_get", |b| {
        b.iter(|| {
            off = (off + batch) % (keys.len() - batch);
            rt.block_on(async {
                for k in &keys[off..off + batch] {
                    black_box(lasync.get(k).await);
                }
            })
        })
    });
    g.bench_function("moka_future_get", |b| {
        b.iter(|| {
            off = (off + batch) % (keys.len() - batch);
            rt.block_on(async {
                for k in &keys[off..off + batch] {
                    black_box(masync.get(k).await);
                }
            })
        })
    });
    g.finish();
}

criterion_group!(loading, get_with_hits, miss_storm, async_get_hits);
criterion_main!(loading);
