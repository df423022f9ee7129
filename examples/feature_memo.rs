//! Memoizing recommendation features with larder.
//!
//! A recommender scores candidate items for a user from the user's feature
//! vector, which is expensive to compute: here, a weighted mean of the
//! embeddings of the items the user interacted with (real floating-point work
//! over a generated embedding table). Requests follow a Zipf distribution over
//! users, as real traffic does. The cache memoizes feature vectors with
//! `get_with` (concurrent requests for one user compute it once), weighs each
//! vector by its bytes and keeps within a byte budget.
//!
//! `cargo run --release --example feature_memo` (add `-- --help` for the knobs;
//! `-- --small` finishes in a second or two).

use clap::Parser;
use larder::sync::Cache;
use rand::prelude::*;
use rand_distr::Zipf;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Workload knobs.
#[derive(Parser, Debug, Clone)]
pub struct Config {
    /// Distinct users.
    #[arg(long, default_value_t = 50_000)]
    pub users: u64,
    /// Requests to serve.
    #[arg(long, default_value_t = 400_000)]
    pub requests: usize,
    /// Embedding dimension.
    #[arg(long, default_value_t = 64)]
    pub dim: usize,
    /// Items each user interacted with (the cost of one feature computation).
    #[arg(long, default_value_t = 256)]
    pub history: usize,
    /// Zipf exponent of the user popularity.
    #[arg(long, default_value_t = 1.0)]
    pub zipf: f64,
    /// Cache budget in bytes (default: room for 10% of the users' vectors).
    #[arg(long)]
    pub budget_bytes: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// A small run for CI (overrides users, requests and history).
    #[arg(long)]
    pub small: bool,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub requests: usize,
    pub loads: u64,
    pub hit_ratio: f64,
    pub bytes_held: u64,
    pub budget: u64,
    pub entries_that_fit: u64,
    pub wall: Duration,
    pub mean_load: Duration,
    pub checksum: f64,
}

const ITEMS: usize = 4_096;

/// Bytes a cached vector accounts for: the floats plus the `Arc` header.
fn vector_bytes(dim: usize) -> u64 {
    (dim * std::mem::size_of::<f32>() + 16) as u64
}

fn embeddings(dim: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(7);
    (0..ITEMS * dim).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// The expensive part: a recency-weighted mean of the embeddings of the
/// user's history, normalised.
fn user_features(user: u64, table: &[f32], dim: usize, history: usize) -> Arc<[f32]> {
    let mut rng = StdRng::seed_from_u64(user.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut acc = vec![0f32; dim];
    for h in 0..history {
        let item = rng.gen_range(0..ITEMS);
        let w = 1.0 / (1.0 + h as f32);
        for (a, e) in acc.iter_mut().zip(&table[item * dim..(item + 1) * dim]) {
            *a += w * e;
        }
    }
    let norm = acc.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
    acc.iter().map(|x| x / norm).collect()
}

/// Runs the workload and returns what it measured.
pub fn run(mut cfg: Config) -> Report {
    if cfg.small {
        cfg.users = 5_000;
        cfg.requests = 40_000;
        cfg.history = 16;
    }
    let budget = cfg
        .budget_bytes
        .unwrap_or(cfg.users / 10 * vector_bytes(cfg.dim));
    let table = Arc::new(embeddings(cfg.dim));
    let cache: Cache<u64, Arc<[f32]>> = Cache::builder()
        .max_capacity(budget)
        .weigher(|_user, v: &Arc<[f32]>| (v.len() * std::mem::size_of::<f32>() + 16) as u32)
        .record_stats()
        .build();
    let mut rng = StdRng::seed_from_u64(11);
    let zipf = Zipf::new(cfg.users, cfg.zipf).expect("valid zipf parameters");
    let stream: Vec<u64> = (0..cfg.requests)
        .map(|_| zipf.sample(&mut rng) as u64 - 1)
        .collect();
    let query: Vec<f32> = embeddings(cfg.dim)[..cfg.dim].to_vec();
    let loads = AtomicU64::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .expect("thread pool");
    let start = Instant::now();
    let checksum: f64 = pool.install(|| {
        stream
            .par_iter()
            .map(|&user| {
                let f = cache.get_with(user, || {
                    loads.fetch_add(1, Ordering::Relaxed);
                    user_features(user, &table, cfg.dim, cfg.history)
                });
                f.iter()
                    .zip(&query)
                    .map(|(a, b)| f64::from(a * b))
                    .sum::<f64>()
            })
            .sum()
    });
    let wall = start.elapsed();
    cache.run_pending_tasks();
    let stats = cache.stats();
    let loads = loads.load(Ordering::Relaxed);
    Report {
        requests: cfg.requests,
        loads,
        hit_ratio: stats.hit_rate(),
        bytes_held: cache.weighted_size(),
        budget,
        entries_that_fit: budget / vector_bytes(cfg.dim),
        wall,
        mean_load: stats
            .total_load_time
            .checked_div(loads.max(1) as u32)
            .unwrap_or_default(),
        checksum,
    }
}

/// The best hit ratio any cache holding `fit` users can reach on an
/// independent Zipf(s) stream over `users` users: the probability mass of
/// the `fit` most popular users (first requests are misses for any cache, so
/// a finite run lands a little below it).
pub fn ideal_hit_ratio(users: u64, fit: u64, s: f64) -> f64 {
    let h = |n: u64| (1..=n).map(|k| (k as f64).powf(-s)).sum::<f64>();
    h(fit.min(users)) / h(users)
}

#[allow(dead_code)]
fn main() {
    let cfg = Config::parse();
    let threads = cfg
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let r = run(cfg.clone());
    let users = if cfg.small { 5_000 } else { cfg.users };
    let ideal = ideal_hit_ratio(users, r.entries_that_fit, cfg.zipf);
    let no_cache = r.mean_load * r.requests as u32 / threads as u32;
    println!(
        "feature memoization: {} requests over {} users (Zipf {}), {} threads",
        r.requests, users, cfg.zipf, threads
    );
    println!(
        "  hit ratio          {:>10.2}%   (ideal for this budget: {:.2}%)",
        r.hit_ratio * 100.0,
        ideal * 100.0
    );
    println!(
        "  loads              {:>10}    (avoided: {})",
        r.loads,
        r.requests as u64 - r.loads
    );
    println!("  mean load          {:>10.1?}", r.mean_load);
    println!(
        "  wall time          {:>10.1?}   (without a cache, about {:.1?})",
        r.wall, no_cache
    );
    println!(
        "  bytes held         {:>10}    (budget {}, {:.1}% used)",
        r.bytes_held,
        r.budget,
        r.bytes_held as f64 * 100.0 / r.budget as f64
    );
    println!("  checksum           {:>10.3}", r.checksum);
}
