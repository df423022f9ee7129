//! A trace-driven hit-ratio simulator.
//!
//! The simulator answers one question: for a recorded sequence of cache requests
//! (a *trace*) and a cache of a given size, how many requests would each eviction
//! policy serve from the cache? It is the tool for checking larder's W-TinyLFU
//! against published numbers and against other Rust caches.
//!
//! # Model
//!
//! Every cache is driven **cache-aside** and **single-threaded**: for each request
//! the policy is asked for the key ([`Policy::access`]); a hit counts, and on a miss
//! the policy is given the key to admit or reject as it sees fit. The hit ratio is
//! hits over requests, cold misses included (no warm-up is discounted).
//!
//! Sizes are counted in entries (every request weighs 1), except for traces marked
//! [`TraceSpec::weighted`](trace::TraceSpec::weighted), where each request carries
//! its object's size and the capacity is a weight (byte) budget.
//!
//! # Pieces
//!
//! - [`trace`]: streaming readers for the trace formats (ARC, LIRS, address traces,
//!   big-endian binary keys, AdaptSize, libCacheSim `oracleGeneral`, plain keys),
//!   transparently decompressing `.gz`, `.xz` and `.zst`, and the table of traces
//!   bundled under `traces/` ([`trace::bundled_traces`]); `traces/README.md`
//!   describes each file and its licence.
//! - [`lru`]: plain LRU, the baseline.
//! - [`opt`]: Belady's OPT, the upper bound (it is shown the whole trace first,
//!   through [`Policy::prepare`]).
//! - [`peers`]: adapters for `moka` and `quick_cache`.
//! - The larder adapter lives in `src/sim/larder_policy.rs` (added by the cache core,
//!   not part of this module set yet).
//!
//! [`run_grid`] replays every (trace × size × policy) cell in parallel with rayon,
//! each cell through a fresh policy on one thread, every trace loaded into memory
//! once and shared by its cells; [`markdown_table`] turns the results into a table.
//! Results are deterministic: the peer adapters use fixed hash seeds and settle
//! their caches' pending work after every insert.
//!
//! ```no_run
//! # use larder::sim::{run_grid, markdown_table, PolicyFactory, trace::bundled_trace};
//! let traces = vec![bundled_trace("lirs/gli").unwrap()];
//! let results = run_grid(&traces, |t| t.sizes.clone(), &PolicyFactory::standard()).unwrap();
//! println!("{}", markdown_table(&results));
//! ```

use std::io;

use rayon::prelude::*;

pub mod larder_policy;
pub mod lru;
pub mod opt;
pub mod peers;
pub mod trace;

use trace::TraceSpec;

/// An eviction policy (or a whole cache) under simulation.
pub trait Policy {
    /// The name shown in result tables.
    fn name(&self) -> String;

    /// Called once with the whole trace before it is replayed. Only policies that
    /// look ahead (OPT) or size themselves from the trace need it; the default does
    /// nothing.
    fn prepare(&mut self, trace: &[(u64, u32)]) {
        let _ = trace;
    }

    /// Serves one request for `key` whose object weighs `weight` (at least 1; only
    /// meaningful to a policy built as weighted). Returns true on a hit. On a miss
    /// the policy decides whether to admit the key (cache-aside: the caller has
    /// loaded the value and offers it).
    fn access(&mut self, key: u64, weight: u32) -> bool;
}

/// Builds a fresh policy for one simulation cell.
#[derive(Debug, Clone, Copy)]
pub struct PolicyFactory {
    /// The column name used before any policy is built.
    pub name: &'static str,
    /// Makes a policy of `capacity` entries, or weight units when `weighted`.
    pub make: fn(capacity: u64, weighted: bool) -> Box<dyn Policy + Send>,
}

impl PolicyFactory {
    /// [`larder_policy::Larder`]: this crate's cache.
    pub const LARDER: PolicyFactory = PolicyFactory {
        name: larder_policy::Larder::NAME,
        make: make_larder,
    };
    /// [`lru::Lru`].
    pub const LRU: PolicyFactory = PolicyFactory {
        name: lru::Lru::NAME,
        make: make_lru,
    };
    /// [`opt::Opt`].
    pub const OPT: PolicyFactory = PolicyFactory {
        name: opt::Opt::NAME,
        make: make_opt,
    };
    /// [`peers::Moka`].
    pub const MOKA: PolicyFactory = PolicyFactory {
        name: peers::Moka::NAME,
        make: make_moka,
    };
    /// [`peers::QuickCache`].
    pub const QUICK_CACHE: PolicyFactory = PolicyFactory {
        name: peers::QuickCache::NAME,
        make: make_quick_cache,
    };

    /// larder, LRU, OPT, moka and quick_cache, in that order.
    pub fn standard() -> Vec<PolicyFactory> {
        vec![
            Self::LARDER,
            Self::LRU,
            Self::OPT,
            Self::MOKA,
            Self::QUICK_CACHE,
        ]
    }
}

fn make_larder(capacity: u64, weighted: bool) -> Box<dyn Policy + Send> {
    Box::new(larder_policy::Larder::new(capacity, weighted))
}

fn make_lru(capacity: u64, weighted: bool) -> Box<dyn Policy + Send> {
    Box::new(lru::Lru::new(capacity, weighted))
}

fn make_opt(capacity: u64, weighted: bool) -> Box<dyn Policy + Send> {
    Box::new(opt::Opt::new(capacity, weighted))
}

fn make_moka(capacity: u64, weighted: bool) -> Box<dyn Policy + Send> {
    Box::new(peers::Moka::new(capacity, weighted))
}

fn make_quick_cache(capacity: u64, weighted: bool) -> Box<dyn Policy + Send> {
    Box::new(peers::QuickCache::new(capacity, weighted))
}

/// Replays `trace` through `policy` (calling [`Policy::prepare`] first) and returns
/// the number of hits.
pub fn replay<P: Policy + ?Sized>(policy: &mut P, trace: &[(u64, u32)]) -> u64 {
    policy.prepare(trace);
    let mut hits = 0;
    for &(key, weight) in trace {
        if policy.access(key, weight) {
            hits += 1;
        }
    }
    hits
}

/// The outcome of one (trace, size, policy) cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimResult {
    /// The trace's name ([`TraceSpec::name`]).
    pub trace: String,
    /// The cache size: entries, or weight units for a weighted trace.
    pub capacity: u64,
    /// The policy's name ([`Policy::name`]).
    pub policy: String,
    /// Requests served from the cache.
    pub hits: u64,
    /// Requests replayed.
    pub requests: u64,
}

impl SimResult {
    /// Hits over requests, in `[0, 1]` (0 for an empty trace).
    pub fn hit_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.hits as f64 / self.requests as f64
        }
    }
}

/// Runs every (trace × size × policy) cell, in parallel on rayon's pool.
///
/// Each trace is read once into memory (all traces at the same time, so mind the
/// memory: 16 bytes a request) and shared by its cells; `capacities_for` gives the
/// sizes to try for a trace (e.g. `|t| t.sizes.clone()`). Each cell replays the
/// trace on one thread through a fresh policy from its factory. The results come
/// back ordered by trace, then size (as `capacities_for` lists them), then policy
/// (as `policies` lists them), whatever the scheduling.
///
/// Fails if any trace cannot be read.
pub fn run_grid(
    traces: &[TraceSpec],
    capacities_for: impl Fn(&TraceSpec) -> Vec<u64> + Sync,
    policies: &[PolicyFactory],
) -> io::Result<Vec<SimResult>> {
    let loaded: Vec<Vec<(u64, u32)>> = traces
        .par_iter()
        .map(TraceSpec::load)
        .collect::<io::Result<_>>()?;
    let cells: Vec<(usize, u64, &PolicyFactory)> = traces
        .iter()
        .enumerate()
        .flat_map(|(t, spec)| {
            capacities_for(spec)
                .into_iter()
                .flat_map(move |capacity| policies.iter().map(move |p| (t, capacity, p)))
        })
        .collect();
    Ok(cells
        .into_par_iter()
        .map(|(t, capacity, factory)| {
            let spec = &traces[t];
            let trace = &loaded[t];
            let mut policy = (factory.make)(capacity, spec.weighted);
            let hits = replay(policy.as_mut(), trace);
            SimResult {
                trace: spec.name.clone(),
                capacity,
                policy: policy.name(),
                hits,
                requests: trace.len() as u64,
            }
        })
        .collect())
}

/// Formats results as a Markdown table: one row per `trace @ size`, one column per
/// policy (both in order of first appearance), each cell the hit ratio in percent
/// with two decimals. In each row the best policy other than OPT is in **bold**
/// (every one of them, on a tie); a missing cell shows `-`.
pub fn markdown_table(results: &[SimResult]) -> String {
    let mut policies: Vec<&str> = Vec::new();
    let mut rows: Vec<(&str, u64)> = Vec::new();
    for r in results {
        if !policies.contains(&r.policy.as_str()) {
            policies.push(&r.policy);
        }
        if !rows.contains(&(r.trace.as_str(), r.capacity)) {
            rows.push((&r.trace, r.capacity));
        }
    }
    let mut out = String::from("| trace @ size |");
    for p in &policies {
        out.push_str(&format!(" {p} |"));
    }
    out.push_str("\n|---|");
    for _ in &policies {
        out.push_str("--:|");
    }
    out.push('\n');
    for (trace, capacity) in rows {
        let cells: Vec<Option<&SimResult>> = policies
            .iter()
            .map(|p| {
                results
                    .iter()
                    .find(|r| r.trace == trace && r.capacity == capacity && r.policy == *p)
            })
            .collect();
        let best = cells
            .iter()
            .flatten()
            .filter(|r| r.policy != opt::Opt::NAME)
            .map(|r| r.hit_ratio())
            .fold(None, |best: Option<f64>, x| {
                Some(best.map_or(x, |b| b.max(x)))
            });
        out.push_str(&format!("| {trace} @ {capacity} |"));
        for cell in cells {
            match cell {
                None => out.push_str(" - |"),
                Some(r) => {
                    let pct = format!("{:.2}", r.hit_ratio() * 100.0);
                    if r.policy != opt::Opt::NAME && Some(r.hit_ratio()) == best {
                        out.push_str(&format!(" **{pct}** |"));
                    } else {
                        out.push_str(&format!(" {pct} |"));
                    }
                }
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::trace::{TraceFormat, TraceSpec};
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;

    fn result(trace: &str, capacity: u64, policy: &str, hits: u64) -> SimResult {
        SimResult {
            trace: trace.to_string(),
            capacity,
            policy: policy.to_string(),
            hits,
            requests: 400,
        }
    }

    #[test]
    fn hit_ratio() {
        assert_eq!(result("t", 1, "LRU", 100).hit_ratio(), 0.25);
        let empty = SimResult {
            requests: 0,
            ..result("t", 1, "LRU", 0)
        };
        assert_eq!(empty.hit_ratio(), 0.0);
    }

    #[test]
    fn markdown_table_format() {
        let results = vec![
            result("a", 10, "LRU", 100),
            result("a", 10, "OPT", 300),
            result("a", 10, "moka", 150),
            result("a", 20, "LRU", 200),
            result("a", 20, "OPT", 350),
            result("a", 20, "moka", 200),
            result("b", 10, "LRU", 1),
            result("b", 10, "OPT", 2),
        ];
        let expected = "\
| trace @ size | LRU | OPT | moka |
|---|--:|--:|--:|
| a @ 10 | 25.00 | 75.00 | **37.50** |
| a @ 20 | **50.00** | 87.50 | **50.00** |
| b @ 10 | **0.25** | 0.50 | - |
";
        assert_eq!(markdown_table(&results), expected);
        assert_eq!(markdown_table(&[]), "| trace @ size |\n|---|\n");
    }

    /// Writes a small LIRS trace to a temporary file and returns its spec.
    fn temp_trace(name: &str, keys: impl Iterator<Item = u64>) -> TraceSpec {
        let path: PathBuf =
            std::env::temp_dir().join(format!("larder-sim-{}-{name}.trace", std::process::id()));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for k in keys {
            writeln!(file, "{k}").unwrap();
        }
        file.flush().unwrap();
        TraceSpec::new(name, path, TraceFormat::Lirs)
    }

    #[test]
    fn run_grid_is_deterministic_and_ordered() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let skewed = temp_trace(
            "skewed",
            std::iter::repeat_with(move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let r = state % 2_000;
                r * r / 2_000
            })
            .take(30_000),
        );
        let looping = temp_trace("loop", (0..20).flat_map(|_| 0..300));
        let traces = vec![skewed.clone(), looping.clone()];
        let sizes = |t: &TraceSpec| {
            if t.name == "loop" {
                vec![100, 300]
            } else {
                vec![50, 200, 800]
            }
        };
        let policies = PolicyFactory::standard();
        let first = run_grid(&traces, sizes, &policies).unwrap();
        let second = run_grid(&traces, sizes, &policies).unwrap();
        std::fs::remove_file(&skewed.path).unwrap();
        std::fs::remove_file(&looping.path).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), (3 + 2) * 5);
        let order: Vec<(&str, u64, &str)> = first
            .iter()
            .map(|r| (r.trace.as_str(), r.capacity, r.policy.as_str()))
            .collect();
        assert_eq!(order[0], ("skewed", 50, "larder"));
        assert_eq!(order[1], ("skewed", 50, "LRU"));
        assert_eq!(order[2], ("skewed", 50, "OPT"));
        assert_eq!(order[3], ("skewed", 50, "moka"));
        assert_eq!(order[4], ("skewed", 50, "quick_cache"));
        assert_eq!(order[15], ("loop", 100, "larder"));
        for r in &first {
            let by = |p: &str| {
                first
                    .iter()
                    .find(|o| o.trace == r.trace && o.capacity == r.capacity && o.policy == p)
                    .unwrap()
                    .hits
            };
            // Nothing beats OPT (unweighted it is optimal).
            assert!(r.hits <= by("OPT"), "{r:?}");
        }
        let loop_at = |capacity, policy: &str| {
            first
                .iter()
                .find(|r| r.trace == "loop" && r.capacity == capacity && r.policy == policy)
                .unwrap()
                .clone()
        };
        assert_eq!(loop_at(100, "LRU").hits, 0);
        assert_eq!(loop_at(100, "OPT").hits, 19 * 100);
        assert_eq!(loop_at(300, "LRU").hits, 19 * 300);
        assert_eq!(loop_at(300, "LRU").requests, 6_000);
    }

    #[test]
    fn run_grid_reports_missing_trace() {
        let missing = TraceSpec::new("missing", "/nonexistent/larder.trace", TraceFormat::Keys);
        let err = run_grid(&[missing], |_| vec![10], &[PolicyFactory::LRU]).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/larder.trace"),
            "{err}"
        );
    }
}
