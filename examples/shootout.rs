//! larder vs moka vs quick_cache, side by side, in one Markdown table:
//!
//! * **throughput** (Mops/s) of read hits (Zipf 1.0 over 100k resident `u64`
//!   keys) and of the 90/10 cache-aside mix (Zipf 0.9 over 1M keys, capacity
//!   100k: `get`, and `insert` on a miss), at 1 thread and at
//!   `available_parallelism` threads;
//! * **hit ratio** on bundled traces (through `larder::sim`, with LRU and OPT
//!   for scale);
//! * **memory**: bytes per entry on top of the 16 bytes of key and value, each
//!   cache measured in its own process with a counting global allocator;
//! * **tail latency** of `get` and `insert` in the cache-aside mix on 2 threads.
//!
//! Run: `cargo run --release --example shootout` (under 2 minutes
//! on 2 cores; built without the `sim` feature it leaves the hit-ratio rows out).
//! `-- --help` lists the knobs: `--threads 1,2,4`, `--duration-ms`, `--rounds`,
//! `--traces`, `--sizes`, `--memory-entries`, `--skip-*`, `--markdown-out PATH`.
//! `scripts/bench.sh` also uses it to summarize criterion's results
//! (`--criterion-summary target/criterion`) into `BENCHMARKS.md`.
//!
//! The three caches always run the same workload, on the same pre-generated
//! keys, in the same process, interleaved round by round (larder, moka,
//! quick_cache, larder, ...), and every throughput figure is the median of the
//! rounds: on a shared, noisy machine only the ratios in one run mean much.
//! Each cache uses its own default hasher (larder: ahash, moka: SipHash,
//! quick_cache: foldhash), i.e. what a user gets out of the box.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};

// ---------------------------------------------------------------------------
// Counting allocator (only switched on in `--memory-child` processes)
// ---------------------------------------------------------------------------

/// Wraps the system allocator; while [`COUNTING`] is on, keeps [`LIVE`] = bytes
/// requested and not yet freed. Off (one relaxed load of a never-written flag
/// per call) in the measuring process, so it costs the throughput runs nothing.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(delta, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator (i.e. from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller upholds `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

/// larder vs moka vs quick_cache: throughput, hit ratio, memory and tail
/// latency in one Markdown table (progress on stderr, the table on stdout).
#[derive(Parser, Debug)]
#[command(name = "shootout")]
struct Args {
    /// Thread counts for the throughput rows [default: 1 and available_parallelism].
    #[arg(long, value_delimiter = ',')]
    threads: Vec<usize>,
    /// Length of one throughput measurement (one cache, one round), in ms.
    #[arg(long, default_value_t = 400)]
    duration_ms: u64,
    /// Interleaved rounds per throughput cell (the median is reported); the
    /// latency run of each cache lasts duration-ms x rounds.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Bundled traces for the hit-ratio rows [default: arc/OLTP,lirs/gli].
    #[arg(long, value_delimiter = ',')]
    traces: Vec<String>,
    /// Cache sizes for every trace [default: arc/OLTP 1000,2000; lirs/gli
    /// 500,1000; any other trace its suggested sizes].
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<u64>,
    /// Entry counts for the memory rows.
    #[arg(long, value_delimiter = ',', default_values_t = [100_000u64, 1_000_000])]
    memory_entries: Vec<u64>,
    /// Threads for the latency rows.
    #[arg(long, default_value_t = 2)]
    latency_threads: usize,
    /// Skip the throughput rows.
    #[arg(long)]
    skip_throughput: bool,
    /// Skip the hit-ratio rows.
    #[arg(long)]
    skip_hit_ratio: bool,
    /// Skip the memory rows.
    #[arg(long)]
    skip_memory: bool,
    /// Skip the latency rows.
    #[arg(long)]
    skip_latency: bool,
    /// Also write the Markdown (header, table, notes) to this file.
    #[arg(long)]
    markdown_out: Option<PathBuf>,
    /// Instead of running anything: print a Markdown summary (median Mops/s per
    /// group and thread count, with ratios) of the criterion results under DIR
    /// (e.g. `target/criterion`, after `cargo bench --bench throughput`).
    #[arg(long, value_name = "DIR")]
    criterion_summary: Option<PathBuf>,
    /// With --criterion-summary: only results written at or after this Unix time.
    #[arg(long, value_name = "UNIX_SECS", requires = "criterion_summary")]
    criterion_since: Option<u64>,
    /// Internal: measure one cache's memory in this process and print it.
    #[arg(long, hide = true, num_args = 2, value_names = ["CACHE", "ENTRIES"])]
    memory_child: Option<Vec<String>>,
}

const CACHES: [&str; 3] = ["larder", "moka", "quick_cache"];

/// Read-hit workload: resident entries (the cache holds twice that, so no
/// cache's approximate capacity evicts any).
const RESIDENT: u64 = 100_000;
/// Cache-aside mix: key space and capacity.
const MIX_KEYS: u64 = 1_000_000;
const MIX_CAPACITY: u64 = 100_000;
/// Pre-generated keys per workload (a power of two; walked cyclically).
const SEQ_LEN: usize = 1 << 20;

// ---------------------------------------------------------------------------
// The contenders
// ---------------------------------------------------------------------------

trait Contender: Sync {
    fn get(&self, k: u64) -> Option<u64>;
    fn insert(&self, k: u64, v: u64);
    /// Applies pending maintenance (where the cache has any).
    fn settle(&self);
}

type LarderCache = larder::sync::Cache<u64, u64>;
type MokaCache = moka::sync::Cache<u64, u64>;
type QuickCache = quick_cache::sync::Cache<u64, u64>;

impl Contender for LarderCache {
    #[inline]
    fn get(&self, k: u64) -> Option<u64> {
        LarderCache::get(self, &k)
    }
    #[inline]
    fn insert(&self, k: u64, v: u64) {
        LarderCache::insert(self, k, v)
    }
    fn settle(&self) {
        self.run_pending_tasks();
    }
}

impl Contender for MokaCache {
    #[inline]
    fn get(&self, k: u64) -> Option<u64> {
        MokaCache::get(self, &k)
    }
    #[inline]
    fn insert(&self, k: u64, v: u64) {
        MokaCache::insert(self, k, v)
    }
    fn settle(&self) {
        self.run_pending_tasks();
    }
}

impl Contender for QuickCache {
    #[inline]
    fn get(&self, k: u64) -> Option<u64> {
        QuickCache::get(self, &k)
    }
    #[inline]
    fn insert(&self, k: u64, v: u64) {
        QuickCache::insert(self, k, v)
    }
    fn settle(&self) {}
}

/// One of each, with the same capacity.
struct Trio {
    larder: LarderCache,
    moka: MokaCache,
    quick: QuickCache,
}

impl Trio {
    fn new(capacity: u64) -> Self {
        Trio {
            larder: LarderCache::new(capacity),
            moka: MokaCache::new(capacity),
            quick: QuickCache::new(capacity as usize),
        }
    }

    /// Calls `f` with the cache at `i` (in [`CACHES`] order), monomorphized.
    fn with<R>(&self, i: usize, f: impl WithContender<R>) -> R {
        match i {
            0 => f.call(&self.larder),
            1 => f.call(&self.moka),
            _ => f.call(&self.quick),
        }
    }
}

/// A closure generic over the contender (Rust closures cannot be generic).
trait WithContender<R> {
    fn call<C: Contender>(self, c: &C) -> R;
}

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `get`; every key is expected to hit.
    ReadHit,
    /// `get`, and `insert` on a miss.
    CacheAside,
}

fn zipf_keys(space: u64, s: f64, seed: u64) -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let zipf = Zipf::new(space, s).expect("valid Zipf parameters");
    (0..SEQ_LEN)
        .map(|_| zipf.sample(&mut rng) as u64 - 1)
        .collect()
}

#[inline(always)]
fn do_op<C: Contender>(c: &C, op: Op, k: u64) -> bool {
    match c.get(k) {
        Some(v) => {
            black_box(v);
            true
        }
        None => {
            if op == Op::CacheAside {
                c.insert(k, k);
            }
            false
        }
    }
}

/// Ops, `get` hits and wall time of one run.
#[derive(Clone, Copy, Default)]
struct Run {
    ops: u64,
    hits: u64,
    secs: f64,
}

impl Run {
    fn mops(&self) -> f64 {
        self.ops as f64 / self.secs / 1e6
    }
}

/// Runs `threads` threads for about `dur`, each walking `keys` cyclically from
/// its own offset; the wall time runs from the first thread's start to the last
/// thread's finish.
struct Throughput<'a> {
    keys: &'a [u64],
    threads: usize,
    dur: Duration,
    op: Op,
    /// Where thread 0 starts; moves on between runs.
    offset: usize,
}

impl WithContender<Run> for Throughput<'_> {
    fn call<C: Contender>(self, c: &C) -> Run {
        let keys = self.keys;
        let mask = keys.len() - 1;
        let stop = AtomicBool::new(false);
        let barrier = Barrier::new(self.threads + 1);
        let results: Vec<(Instant, Instant, u64, u64)> = thread::scope(|s| {
            let handles: Vec<_> = (0..self.threads)
                .map(|t| {
                    let (stop, barrier) = (&stop, &barrier);
                    let mut i = self.offset + t * keys.len() / self.threads;
                    let op = self.op;
                    s.spawn(move || {
                        let (mut ops, mut hits) = (0u64, 0u64);
                        barrier.wait();
                        let start = Instant::now();
                        while !stop.load(Ordering::Relaxed) {
                            for _ in 0..256 {
                                hits += u64::from(do_op(c, op, keys[i & mask]));
                                i = i.wrapping_add(1);
                            }
                            ops += 256;
                        }
                        (start, Instant::now(), ops, hits)
                    })
                })
                .collect();
            barrier.wait();
            thread::sleep(self.dur);
            stop.store(true, Ordering::Relaxed);
            handles
                .into_iter()
                .map(|h| h.join().expect("benchmark thread panicked"))
                .collect()
        });
        let first = results.iter().map(|r| r.0).min().expect("a thread");
        let last = results.iter().map(|r| r.1).max().expect("a thread");
        Run {
            ops: results.iter().map(|r| r.2).sum(),
            hits: results.iter().map(|r| r.3).sum(),
            secs: (last - first).as_secs_f64(),
        }
    }
}

/// One untimed single-threaded cache-aside pass over `keys`, then maintenance.
struct Warm<'a>(&'a [u64]);

impl WithContender<()> for Warm<'_> {
    fn call<C: Contender>(self, c: &C) {
        for &k in self.0 {
            do_op(c, Op::CacheAside, k);
        }
        c.settle();
    }
}

/// Inserts `0..n`, reads each once, settles; returns how many of `0..n` miss.
struct Preload(u64);

impl WithContender<u64> for Preload {
    fn call<C: Contender>(self, c: &C) -> u64 {
        for k in 0..self.0 {
            c.insert(k, k);
        }
        c.settle();
        let misses = (0..self.0).filter(|&k| c.get(k) != Some(k)).count() as u64;
        c.settle();
        misses
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

// ---------------------------------------------------------------------------
// Latency
// ---------------------------------------------------------------------------

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// The cache-aside mix on `threads` threads for `dur`, every `get` and every
/// `insert` timed with `Instant` (the timing overhead is included).
struct Latency<'a> {
    keys: &'a [u64],
    threads: usize,
    dur: Duration,
}

impl WithContender<(Histogram<u64>, Histogram<u64>)> for Latency<'_> {
    fn call<C: Contender>(self, c: &C) -> (Histogram<u64>, Histogram<u64>) {
        let keys = self.keys;
        let mask = keys.len() - 1;
        let stop = AtomicBool::new(false);
        let barrier = Barrier::new(self.threads + 1);
        let per_thread: Vec<(Histogram<u64>, Histogram<u64>)> = thread::scope(|s| {
            let handles: Vec<_> = (0..self.threads)
                .map(|t| {
                    let (stop, barrier) = (&stop, &barrier);
                    let mut i = t * keys.len() / self.threads;
                    s.spawn(move || {
                        let (mut gets, mut inserts) = (new_histogram(), new_histogram());
                        barrier.wait();
                        while !stop.load(Ordering::Relaxed) {
                            for _ in 0..64 {
                                let k = keys[i & mask];
                                i = i.wrapping_add(1);
                                let t0 = Instant::now();
                                let hit = c.get(k);
                                let t1 = Instant::now();
                                gets.saturating_record((t1 - t0).as_nanos() as u64);
                                if hit.is_none() {
                                    c.insert(k, k);
                                    let t2 = Instant::now();
                                    inserts.saturating_record((t2 - t1).as_nanos() as u64);
                                } else {
                                    black_box(hit);
                                }
                            }
                        }
                        (gets, inserts)
                    })
                })
                .collect();
            barrier.wait();
            thread::sleep(self.dur);
            stop.store(true, Ordering::Relaxed);
            handles
                .into_iter()
                .map(|h| h.join().expect("latency thread panicked"))
                .collect()
        });
        let (mut gets, mut inserts) = (new_histogram(), new_histogram());
        for (g, i) in &per_thread {
            gets.add(g).expect("same bounds");
            inserts.add(i).expect("same bounds");
        }
        (gets, inserts)
    }
}

/// Median of what two back-to-back `Instant::now()` calls measure: what an
/// empty timed operation reports.
fn instant_overhead_ns() -> u64 {
    let mut h = new_histogram();
    for _ in 0..200_000 {
        let a = Instant::now();
        let b = Instant::now();
        h.saturating_record((b - a).as_nanos() as u64);
    }
    h.value_at_quantile(0.5)
}

// ---------------------------------------------------------------------------
// Memory (child processes)
// ---------------------------------------------------------------------------

/// In a `--memory-child` process: builds `cache`, inserts `0..n`, settles,
/// and prints "<live bytes after - before> <resident entries>".
fn memory_child(cache: &str, n: u64) {
    COUNTING.store(true, Ordering::SeqCst);
    let before = LIVE.load(Ordering::SeqCst);
    let (after, resident) = match cache {
        "larder" => {
            let c = LarderCache::new(n);
            for k in 0..n {
                c.insert(k, k);
            }
            c.run_pending_tasks();
            // Let the epoch collector free what the table retired (old arrays).
            for _ in 0..8 {
                crossbeam_epoch::pin().flush();
            }
            let after = LIVE.load(Ordering::SeqCst);
            (after, c.entry_count())
        }
        "moka" => {
            let c = MokaCache::new(n);
            for k in 0..n {
                c.insert(k, k);
            }
            c.run_pending_tasks();
            let after = LIVE.load(Ordering::SeqCst);
            (after, c.entry_count())
        }
        "quick_cache" => {
            let c = QuickCache::new(n as usize);
            for k in 0..n {
                c.insert(k, k);
            }
            let after = LIVE.load(Ordering::SeqCst);
            (after, c.len() as u64)
        }
        other => {
            eprintln!("unknown cache {other:?}; expected one of {CACHES:?}");
            std::process::exit(2);
        }
    };
    println!("{} {}", after - before, resident);
}

/// Runs a child process; returns (bytes per entry over 16, resident entries).
fn measure_memory(cache: &str, n: u64) -> Result<(f64, u64), String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let out = Command::new(exe)
        .args(["--memory-child", cache, &n.to_string()])
        .output()
        .map_err(|e| format!("spawning the memory child: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "memory child for {cache} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(str::parse::<i64>);
    match (it.next(), it.next()) {
        (Some(Ok(bytes)), Some(Ok(resident))) if resident > 0 => {
            Ok((bytes as f64 / resident as f64 - 16.0, resident as u64))
        }
        _ => Err(format!("unexpected memory child output {text:?}")),
    }
}

// ---------------------------------------------------------------------------
// Hit ratio
// ---------------------------------------------------------------------------

/// The hit-ratio rows, through `larder::sim` (the `sim` feature, which the
/// crate's dev-dependency on itself switches on for examples).
mod hit_ratio {
    use super::{fmt_value, Args, Row};
    use indicatif::ProgressBar;
    use larder::sim::{self, trace::TraceSpec, PolicyFactory, SimResult};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::thread;

    const DEFAULT_TRACES: [(&str, [u64; 2]); 2] =
        [("arc/OLTP", [1_000, 2_000]), ("lirs/gli", [500, 1_000])];

    /// The (trace, sizes) to replay; empty with `--skip-hit-ratio`.
    pub struct Plan(Vec<(TraceSpec, Vec<u64>)>);

    pub fn plan(args: &Args) -> Result<Plan, String> {
        if args.skip_hit_ratio {
            return Ok(Plan(Vec::new()));
        }
        let names: Vec<String> = if args.traces.is_empty() {
            DEFAULT_TRACES.iter().map(|t| t.0.to_string()).collect()
        } else {
            args.traces.clone()
        };
        let traces = names
            .iter()
            .map(|name| {
                let spec = sim::trace::bundled_trace(name).ok_or_else(|| {
                    let known: Vec<String> = sim::trace::bundled_traces()
                        .into_iter()
                        .map(|t| t.name)
                        .collect();
                    format!("no bundled trace {name:?}; known: {}", known.join(", "))
                })?;
                let sizes = if !args.sizes.is_empty() {
                    args.sizes.clone()
                } else if let Some((_, s)) = DEFAULT_TRACES.iter().find(|t| t.0 == name) {
                    s.to_vec()
                } else {
                    spec.sizes.clone()
                };
                Ok((spec, sizes))
            })
            .collect::<Result<_, String>>()?;
        Ok(Plan(traces))
    }

    /// Progress ticks: one per (trace, size, policy) cell.
    pub fn ticks(plan: &Plan) -> usize {
        plan.0
            .iter()
            .map(|(_, sizes)| sizes.len() * PolicyFactory::standard().len())
            .sum()
    }

    /// Replays the plan and adds one row per (trace, size).
    pub fn run(
        plan: &Plan,
        bar: &ProgressBar,
        rows: &mut Vec<Row>,
        notes: &mut Vec<String>,
    ) -> Result<(), String> {
        let traces = &plan.0;
        if traces.is_empty() {
            return Ok(());
        }
        let results = replay_all(traces, bar).map_err(|e| format!("hit ratio: {e}"))?;
        let find = |trace: &str, size: u64, policy: &str| {
            results
                .iter()
                .find(|r| r.trace == trace && r.capacity == size && r.policy == policy)
                .map(|r| 100.0 * r.hit_ratio())
        };
        for (spec, sizes) in traces {
            for &size in sizes {
                let name = &spec.name;
                let lru = fmt_value(find(name, size, PolicyFactory::LRU.name), 2);
                let opt = fmt_value(find(name, size, PolicyFactory::OPT.name), 2);
                rows.push(Row {
                    measure: "hit ratio % (higher is better)",
                    workload: format!("trace {name} @ {size} (LRU {lru}, OPT {opt})"),
                    values: [
                        find(name, size, PolicyFactory::LARDER.name),
                        find(name, size, PolicyFactory::MOKA.name),
                        find(name, size, PolicyFactory::QUICK_CACHE.name),
                    ],
                    decimals: 2,
                });
            }
        }
        notes.push(
            "Hit ratio: `larder::sim`, each trace replayed single-threaded and cache-aside \
             through a fresh cache per cell, cold misses included; LRU and OPT (Belady) for \
             scale. The full grid: `cargo run --release --example sim`."
                .to_string(),
        );
        Ok(())
    }

    /// Replays every (trace, size, policy) cell on `available_parallelism`
    /// threads, ticking `bar` per cell. Results come back in (trace, size,
    /// policy) order.
    fn replay_all(
        traces: &[(TraceSpec, Vec<u64>)],
        bar: &ProgressBar,
    ) -> std::io::Result<Vec<SimResult>> {
        let policies = PolicyFactory::standard();
        let mut loaded = Vec::new();
        for (spec, _) in traces {
            bar.set_message(format!("hit ratio: loading {}", spec.name));
            loaded.push(spec.load()?);
        }
        let cells: Vec<(usize, u64, PolicyFactory)> = traces
            .iter()
            .enumerate()
            .flat_map(|(t, (_, sizes))| {
                let policies = &policies;
                sizes
                    .iter()
                    .flat_map(move |&size| policies.iter().map(move |&p| (t, size, p)))
            })
            .collect();
        bar.set_message("hit ratio: replaying traces");
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<SimResult>>> = Mutex::new(vec![None; cells.len()]);
        let workers = thread::available_parallelism().map_or(1, |n| n.get());
        thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(t, size, factory)) = cells.get(i) else {
                        break;
                    };
                    let (spec, trace) = (&traces[t].0, &loaded[t]);
                    let mut policy = (factory.make)(size, spec.weighted);
                    let hits = sim::replay(policy.as_mut(), trace);
                    results.lock().expect("no poisoning")[i] = Some(SimResult {
                        trace: spec.name.clone(),
                        capacity: size,
                        policy: policy.name(),
                        hits,
                        requests: trace.len() as u64,
                    });
                    bar.inc(1);
                });
            }
        });
        Ok(results
            .into_inner()
            .expect("no poisoning")
            .into_iter()
            .map(|r| r.expect("every cell ran"))
            .collect())
    }
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

struct Row {
    measure: &'static str,
    workload: String,
    /// larder, moka, quick_cache (None: not applicable / failed).
    values: [Option<f64>; 3],
    decimals: usize,
}

fn fmt_value(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

fn fmt_ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => format!("{:.2}x", a / b),
        _ => "-".to_string(),
    }
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| measure | workload | larder | moka | quick_cache | larder / moka | larder / quick_cache |\n\
         |---|---|--:|--:|--:|--:|--:|\n",
    );
    for r in rows {
        let [l, m, q] = r.values;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.measure,
            r.workload,
            fmt_value(l, r.decimals),
            fmt_value(m, r.decimals),
            fmt_value(q, r.decimals),
            fmt_ratio(l, m),
            fmt_ratio(l, q),
        );
    }
    out
}

/// Versions of `name` in the Cargo.lock this example was built with.
fn locked_version(name: &str) -> String {
    const LOCK: &str = include_str!("../Cargo.lock");
    let needle = format!("name = \"{name}\"");
    let versions: Vec<&str> = LOCK
        .split("[[package]]")
        .filter(|block| block.lines().any(|l| l.trim() == needle))
        .filter_map(|block| {
            block
                .lines()
                .find_map(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        })
        .collect();
    if versions.is_empty() {
        "?".to_string()
    } else {
        versions.join("/")
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

// ---------------------------------------------------------------------------
// Criterion summary (for scripts/bench.sh)
// ---------------------------------------------------------------------------

/// The string value of `"key":"..."` in a flat JSON text (no escapes expected).
fn json_str<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

/// The number after the first `"key":` that follows `after` (or the start).
fn json_num(json: &str, after: &str, key: &str) -> Option<f64> {
    let from = json.find(after)?;
    let rest = &json[from..];
    let start = rest.find(&format!("\"{key}\":"))? + key.len() + 3;
    let end = rest[start..]
        .find([',', '}'])
        .map_or(rest.len(), |e| start + e);
    rest[start..end].trim().parse().ok()
}

/// Every `<dir>/**/new/benchmark.json`.
fn find_benchmarks(dir: &std::path::Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            find_benchmarks(&path, out)?;
        } else if path.file_name().is_some_and(|n| n == "benchmark.json")
            && path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|n| n == "new")
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Where `group` goes in the summary: the bench's order, `_string` variants
/// after their `u64` twins, anything else last.
fn group_rank(group: &str) -> (usize, bool, String) {
    const ORDER: [&str; 7] = [
        "read_hits",
        "mix_90_10",
        "mix_90_10_insert",
        "mix_50_50_insert",
        "mix_get_with",
        "write_churn",
        "read_hits_ttl",
    ];
    let (base, string) = match group.strip_suffix("_string") {
        Some(b) => (b, true),
        None => (group, false),
    };
    let rank = ORDER.iter().position(|g| *g == base).unwrap_or(ORDER.len());
    (rank, string, group.to_string())
}

fn criterion_summary(dir: &std::path::Path, since: Option<u64>) -> Result<String, String> {
    let mut files = Vec::new();
    find_benchmarks(dir, &mut files).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let since = since.map(|s| std::time::UNIX_EPOCH + Duration::from_secs(s));
    // (group, threads) -> [larder, moka, quick_cache] Mops/s
    type Cell = ((String, String), [Option<f64>; 3]);
    let mut cells: Vec<Cell> = Vec::new();
    let mut others = Vec::new();
    for file in files {
        let estimates = file.with_file_name("estimates.json");
        if let Some(since) = since {
            let modified = std::fs::metadata(&estimates).and_then(|m| m.modified());
            if modified.map_or(true, |m| m < since) {
                continue;
            }
        }
        let (Ok(bench), Ok(est)) = (
            std::fs::read_to_string(&file),
            std::fs::read_to_string(&estimates),
        ) else {
            continue;
        };
        let (Some(group), Some(function), Some(value), Some(median_ns)) = (
            json_str(&bench, "group_id"),
            json_str(&bench, "function_id"),
            json_str(&bench, "value_str"),
            json_num(&est, "\"median\"", "point_estimate"),
        ) else {
            continue;
        };
        let elements = json_num(&bench, "\"throughput\"", "Elements").unwrap_or(1.0);
        let mops = elements / median_ns * 1e3;
        let Some(col) = CACHES.iter().position(|c| *c == function) else {
            others.push(format!("{group}/{function}/{value}: {mops:.2} Mops/s"));
            continue;
        };
        let key = (group.to_string(), value.to_string());
        match cells.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v[col] = Some(mops),
            None => {
                let mut v = [None; 3];
                v[col] = Some(mops);
                cells.push((key, v));
            }
        }
    }
    if cells.is_empty() && others.is_empty() {
        return Err(format!("no criterion results under {}", dir.display()));
    }
    cells.sort_by(|a, b| {
        let threads = |k: &(String, String)| k.1.parse::<u64>().unwrap_or(u64::MAX);
        (group_rank(&a.0 .0), threads(&a.0))
            .cmp(&(group_rank(&b.0 .0), threads(&b.0)))
            .then_with(|| a.0 .1.cmp(&b.0 .1))
    });
    let mut out = String::from(
        "| group | threads | larder Mops/s | moka Mops/s | quick_cache Mops/s | larder / moka | larder / quick_cache |\n\
         |---|--:|--:|--:|--:|--:|--:|\n",
    );
    for ((group, threads), [l, m, q]) in &cells {
        let _ = writeln!(
            out,
            "| {group} | {threads} | {} | {} | {} | {} | {} |",
            fmt_value(*l, 2),
            fmt_value(*m, 2),
            fmt_value(*q, 2),
            fmt_ratio(*l, *m),
            fmt_ratio(*l, *q),
        );
    }
    if !others.is_empty() {
        out.push('\n');
        for o in others {
            let _ = writeln!(out, "* {o}");
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

fn main() {
    let args = Args::parse();
    if let Some(child) = &args.memory_child {
        let n = child[1].parse().unwrap_or_else(|_| {
            eprintln!("--memory-child: bad entry count {:?}", child[1]);
            std::process::exit(2);
        });
        memory_child(&child[0], n);
        return;
    }
    if let Some(dir) = &args.criterion_summary {
        match criterion_summary(dir, args.criterion_since) {
            Ok(md) => print!("{md}"),
            Err(e) => {
                eprintln!("shootout: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if let Err(e) = shootout(&args) {
        eprintln!("shootout: {e}");
        std::process::exit(1);
    }
}

fn shootout(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = args.threads.clone();
    if threads.is_empty() {
        threads = vec![1, cores];
    }
    threads.retain(|&t| t > 0);
    threads.dedup();
    let rounds = args.rounds.max(1);
    let dur = Duration::from_millis(args.duration_ms.max(1));
    let latency_threads = args.latency_threads.max(1);

    let hit_plan = hit_ratio::plan(args)?;

    // One tick per measurement.
    let throughput_ticks = if args.skip_throughput {
        0
    } else {
        2 * threads.len() * CACHES.len() * rounds
    };
    let latency_ticks = if args.skip_latency { 0 } else { CACHES.len() };
    let hit_ticks = hit_ratio::ticks(&hit_plan);
    let memory_ticks = if args.skip_memory {
        0
    } else {
        args.memory_entries.len() * CACHES.len()
    };
    let bar =
        ProgressBar::new((throughput_ticks + latency_ticks + hit_ticks + memory_ticks) as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));

    let mut rows: Vec<Row> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // --- throughput (and the warmed cache-aside caches, reused for latency)
    let mut mix: Option<(Trio, Vec<u64>)> = None;
    let need_mix = !args.skip_throughput || !args.skip_latency;
    if need_mix {
        bar.set_message("generating keys, warming the cache-aside caches");
        let keys = zipf_keys(MIX_KEYS, 0.9, 0x5EED_0002);
        let trio = Trio::new(MIX_CAPACITY);
        for i in 0..CACHES.len() {
            trio.with(i, Warm(&keys));
        }
        mix = Some((trio, keys));
    }
    if !args.skip_throughput {
        bar.set_message("generating keys, pre-loading the read-hit caches");
        let hit_keys = zipf_keys(RESIDENT, 1.0, 0x5EED_0001);
        let hit_trio = Trio::new(RESIDENT * 2);
        for (i, name) in CACHES.iter().enumerate() {
            let misses = hit_trio.with(i, Preload(RESIDENT));
            if misses > 0 {
                notes.push(format!(
                    "{name} lost {misses} of the {RESIDENT} pre-loaded keys before the read-hit runs \
                     (those reads miss)."
                ));
            }
        }
        let (mix_trio, mix_keys) = mix.as_ref().expect("built above");
        let workloads: [(&str, &Trio, &[u64], Op); 2] = [
            (
                "read hits, Zipf 1.0 over 100k resident",
                &hit_trio,
                &hit_keys,
                Op::ReadHit,
            ),
            (
                "90/10 cache-aside, Zipf 0.9 over 1M keys, capacity 100k",
                mix_trio,
                mix_keys,
                Op::CacheAside,
            ),
        ];
        let mut mix_hits = [(0u64, 0u64); 3];
        for (label, trio, keys, op) in workloads {
            for &t in &threads {
                let mut samples: [Vec<f64>; 3] = Default::default();
                let mut offset = 0usize;
                for round in 0..rounds {
                    for (i, name) in CACHES.iter().enumerate() {
                        bar.set_message(format!(
                            "throughput: {} x{t}, {name}, round {}/{rounds}",
                            if op == Op::ReadHit {
                                "read hits"
                            } else {
                                "cache-aside"
                            },
                            round + 1
                        ));
                        let run = trio.with(
                            i,
                            Throughput {
                                keys,
                                threads: t,
                                dur,
                                op,
                                offset,
                            },
                        );
                        samples[i].push(run.mops());
                        if op == Op::CacheAside {
                            mix_hits[i].0 += run.hits;
                            mix_hits[i].1 += run.ops;
                        }
                        bar.inc(1);
                    }
                    offset = offset.wrapping_add(SEQ_LEN / 3 + 12_345);
                }
                let values = samples.map(|mut s| Some(median(&mut s)));
                rows.push(Row {
                    measure: "throughput, Mops/s (higher is better)",
                    workload: format!("{label}, {t} thread{}", if t == 1 { "" } else { "s" }),
                    values,
                    decimals: 2,
                });
            }
        }
        rows.push(Row {
            measure: "hit ratio % (higher is better)",
            workload:
                "in the 90/10 cache-aside throughput runs above (all rounds, all thread counts)"
                    .to_string(),
            values: mix_hits.map(|(h, o)| Some(100.0 * h as f64 / o.max(1) as f64)),
            decimals: 2,
        });
        notes.push(format!(
            "Throughput: each cell is the median of {rounds} interleaved rounds of {} ms \
             (larder, moka, quick_cache, larder, ...), {} pre-generated keys walked from a \
             different offset per thread. Read hits: the caches hold twice the resident set \
             (so none evicts). Cache-aside: one untimed warm-up pass over the keys first; \
             the same caches then serve every thread count and the latency rows.",
            dur.as_millis(),
            SEQ_LEN
        ));
    }

    // --- latency
    if !args.skip_latency {
        let (trio, keys) = mix.as_ref().expect("built above");
        let overhead = instant_overhead_ns();
        let lat_dur = dur * rounds as u32;
        let mut get_q = [[None; 3]; 3];
        let mut ins_q = [[None; 3]; 3];
        const QUANTILES: [(f64, &str); 3] = [(0.5, "p50"), (0.99, "p99"), (0.999, "p99.9")];
        for (i, name) in CACHES.iter().enumerate() {
            bar.set_message(format!("latency: {name}, {latency_threads} threads"));
            let (gets, inserts) = trio.with(
                i,
                Latency {
                    keys,
                    threads: latency_threads,
                    dur: lat_dur,
                },
            );
            for (q, (quantile, _)) in QUANTILES.iter().enumerate() {
                get_q[q][i] = Some(gets.value_at_quantile(*quantile) as f64);
                if !inserts.is_empty() {
                    ins_q[q][i] = Some(inserts.value_at_quantile(*quantile) as f64);
                }
            }
            bar.inc(1);
        }
        for (what, qs) in [("get", &get_q), ("insert", &ins_q)] {
            for (q, (_, label)) in QUANTILES.iter().enumerate() {
                rows.push(Row {
                    measure: "latency, ns (lower is better)",
                    workload: format!(
                        "`{what}` {label}, 90/10 cache-aside, {latency_threads} threads"
                    ),
                    values: qs[q],
                    decimals: 0,
                });
            }
        }
        notes.push(format!(
            "Latency: every `get` (and every `insert` after a miss) of the cache-aside mix is \
             timed with `std::time::Instant` into an HdrHistogram, {} ms per cache on \
             {latency_threads} threads; the timing overhead is included (two back-to-back \
             `Instant::now()` calls measure {overhead} ns here).",
            lat_dur.as_millis()
        ));
    }
    drop(mix);

    // --- hit ratio
    hit_ratio::run(&hit_plan, &bar, &mut rows, &mut notes)?;

    // --- memory
    if !args.skip_memory {
        for &n in &args.memory_entries {
            let mut values = [None; 3];
            for (i, name) in CACHES.iter().enumerate() {
                bar.set_message(format!("memory: {name}, {n} entries (child process)"));
                match measure_memory(name, n) {
                    Ok((bytes, resident)) => {
                        values[i] = Some(bytes);
                        if resident != n {
                            notes.push(format!(
                                "Memory: {name} kept {resident} of {n} inserted entries; \
                                 its row is divided by {resident}."
                            ));
                        }
                    }
                    Err(e) => notes.push(format!("Memory: {e}")),
                }
                bar.inc(1);
            }
            rows.push(Row {
                measure: "memory, bytes/entry over key+value (lower is better)",
                workload: format!("{n} entries u64 -> u64, capacity {n}"),
                values,
                decimals: 1,
            });
        }
        notes.push(
            "Memory: each cache in its own process (this binary re-run with `--memory-child`), \
             a counting global allocator: (bytes requested and still live after building the \
             cache with capacity N, inserting keys 0..N and running pending maintenance, minus \
             those before) / resident entries - 16. Allocator slack is not counted."
                .to_string(),
        );
    }
    bar.finish_and_clear();

    let mut md = String::new();
    let _ = writeln!(md, "## larder shootout\n");
    let _ = writeln!(
        md,
        "Machine: {cores} cores (available_parallelism), {}. Crates: larder {}, moka {} (sync), \
         quick_cache {}; each cache with its default hasher. Settings: throughput threads {}, \
         {} ms x {rounds} rounds, latency on {latency_threads} threads. Took {:.0} s.\n",
        cpu_model(),
        env!("CARGO_PKG_VERSION"),
        locked_version("moka"),
        locked_version("quick_cache"),
        threads
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(","),
        dur.as_millis(),
        started.elapsed().as_secs_f64()
    );
    md.push_str(&table(&rows));
    if !notes.is_empty() {
        md.push('\n');
        for n in &notes {
            let _ = writeln!(md, "* {n}");
        }
    }
    print!("{md}");
    if let Some(path) = &args.markdown_out {
        std::fs::write(path, &md).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}
