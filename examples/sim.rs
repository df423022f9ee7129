//! Hit-ratio simulator: replays the bundled traces through larder, LRU, OPT,
//! moka and quick_cache, in parallel, and prints a Markdown table.
//!
//! `cargo run --release --example sim -- [--traces a,b] [--sizes 1000,2000]`
//! Without `--traces` it runs every bundled trace at its suggested sizes
//! (several minutes on 2 cores).

use clap::Parser;
use larder::sim::{self, trace, PolicyFactory};

#[derive(Parser)]
struct Args {
    /// Comma-separated trace names (e.g. `arc/OLTP,lirs/gli`); default: all.
    #[arg(long, value_delimiter = ',')]
    traces: Vec<String>,
    /// Comma-separated sizes; default: each trace's suggested sizes.
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<u64>,
    /// Comma-separated policies (larder, lru, opt, moka, quick_cache); default: all.
    #[arg(long, value_delimiter = ',')]
    policies: Vec<String>,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let specs: Vec<_> = trace::bundled_traces()
        .into_iter()
        .filter(|t| args.traces.is_empty() || args.traces.iter().any(|n| n == &t.name))
        .collect();
    if specs.is_empty() {
        eprintln!(
            "no such trace; known: {:?}",
            trace::bundled_traces()
                .iter()
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
        );
        std::process::exit(2);
    }
    let policies: Vec<PolicyFactory> = PolicyFactory::standard()
        .into_iter()
        .filter(|p| args.policies.is_empty() || args.policies.iter().any(|n| n == p.name))
        .collect();
    let sizes = args.sizes.clone();
    let results = sim::run_grid(
        &specs,
        |t| {
            if sizes.is_empty() {
                t.sizes.clone()
            } else {
                sizes.clone()
            }
        },
        &policies,
    )?;
    println!("{}", sim::markdown_table(&results));
    Ok(())
}
