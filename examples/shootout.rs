//! larder vs moka vs quick_cache, side by side (first cut: read-hit and
//! cache-aside throughput; the hit-ratio and memory columns come with the
//! simulator).
//!
//! Run: `cargo run --release --example shootout`

use rand::prelude::*;
use rand_distr::Zipf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The operations a contender supports.
trait Contender: Send + Sync {
    fn get(&self, k: u64) -> Option<u64>;
    fn insert(&self, k: u64, v: u64);
}

impl Contender for larder::sync::Cache<u64, u64> {
    fn get(&self, k: u64) -> Option<u64> {
        larder::sync::Cache::get(self, &k)
    }
    fn insert(&self, k: u64, v: u64) {
        larder::sync::Cache::insert(self, k, v)
    }
}

impl Contender for moka::sync::Cache<u64, u64> {
    fn get(&self, k: u64) -> Option<u64> {
        moka::sync::Cache::get(self, &k)
    }
    fn insert(&self, k: u64, v: u64) {
        moka::sync::Cache::insert(self, k, v)
    }
}

impl Contender for quick_cache::sync::Cache<u64, u64> {
    fn get(&self, k: u64) -> Option<u64> {
        quick_cache::sync::Cache::get(self, &k)
    }
    fn insert(&self, k: u64, v: u64) {
        quick_cache::sync::Cache::insert(self, k, v)
    }
}

fn zipf_keys(n: usize, space: u64, s: f64, seed: u64) -> Arc<Vec<u64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let z = Zipf::new(space, s).expect("valid zipf");
    Arc::new((0..n).map(|_| z.sample(&mut rng) as u64 - 1).collect())
}

/// Runs `threads` threads for `dur`, each replaying `keys` from its own
/// offset; returns operations per second.
fn run(
    c: &Arc<dyn Contender>,
    keys: &Arc<Vec<u64>>,
    threads: usize,
    dur: Duration,
    cache_aside: bool,
) -> f64 {
    let barrier = Arc::new(std::sync::Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (c, keys, barrier) = (Arc::clone(c), Arc::clone(keys), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let mut ops = 0u64;
                let mut i = t * keys.len() / threads.max(1);
                while start.elapsed() < dur {
                    for _ in 0..1024 {
                        let k = keys[i % keys.len()];
                        if c.get(k).is_none() && cache_aside {
                            c.insert(k, k);
                        }
                        i += 1;
                    }
                    ops += 1024;
                }
                ops as f64 / start.elapsed().as_secs_f64()
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("bench thread"))
        .sum()
}

fn main() {
    let dur = Duration::from_millis(1500);
    let threads: Vec<usize> = {
        let max = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut t = vec![1];
        while *t.last().unwrap() * 2 <= max {
            t.push(t.last().unwrap() * 2);
        }
        t
    };
    let resident = 100_000u64;
    let hits = zipf_keys(1 << 20, resident, 1.0, 1);
    let mix = zipf_keys(1 << 20, resident * 10, 0.9, 2);
    println!(
        "larder shootout ({} cores available)\n",
        threads.last().unwrap()
    );
    println!("| workload | threads | larder Mops/s | moka Mops/s | quick_cache Mops/s | larder/moka | larder/quick_cache |");
    println!("|---|--:|--:|--:|--:|--:|--:|");
    for (name, keys, aside) in [
        ("read hits (Zipf 1.0, 100k resident)", &hits, false),
        ("cache-aside (Zipf 0.9, 1M keys, cap 100k)", &mix, true),
    ] {
        for &t in &threads {
            let make: [Arc<dyn Contender>; 3] = [
                Arc::new(larder::sync::Cache::new(resident)),
                Arc::new(moka::sync::Cache::new(resident)),
                Arc::new(quick_cache::sync::Cache::new(resident as usize)),
            ];
            let mut r = [0.0; 3];
            for (i, c) in make.iter().enumerate() {
                if !aside {
                    for k in 0..resident {
                        c.insert(k, k);
                    }
                }
                r[i] = run(c, keys, t, dur, aside) / 1e6;
            }
            println!(
                "| {name} | {t} | {:.2} | {:.2} | {:.2} | {:.2}x | {:.2}x |",
                r[0],
                r[1],
                r[2],
                r[0] / r[1],
                r[0] / r[2]
            );
        }
    }
}
