//! The examples do what they claim, on small inputs.

#[allow(dead_code)]
#[path = "../examples/feature_memo.rs"]
mod feature_memo;

#[test]
fn feature_memo_hit_ratio_matches_the_workload() {
    let cfg = feature_memo::Config {
        users: 0,
        requests: 0,
        dim: 32,
        history: 0,
        zipf: 1.0,
        budget_bytes: None,
        threads: Some(2),
        small: true,
    };
    let r = feature_memo::run(cfg);
    let ideal = feature_memo::ideal_hit_ratio(5_000, r.entries_that_fit, 1.0);
    assert!(
        r.bytes_held <= r.budget,
        "{} bytes held over a budget of {}",
        r.bytes_held,
        r.budget
    );
    assert!(
        r.hit_ratio <= ideal + 0.01,
        "hit ratio {} above the ideal {}",
        r.hit_ratio,
        ideal
    );
    assert!(
        r.hit_ratio >= ideal - 0.12,
        "hit ratio {} far below the ideal {}",
        r.hit_ratio,
        ideal
    );
    // Every load is a miss; a few misses waited for another thread's load.
    let misses = ((1.0 - r.hit_ratio) * r.requests as f64).round() as u64;
    assert!(
        r.loads <= misses && r.loads * 100 >= misses * 95,
        "{} loads for {misses} misses",
        r.loads
    );
}
