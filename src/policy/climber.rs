//! Hill climbing for the size of W-TinyLFU's admission window.
//!
//! W-TinyLFU puts a small LRU "window" in front of the frequency-filtered main
//! space. The best share for the window depends on the workload: traces where
//! recency predicts reuse want a large window, traces where frequency does
//! want a tiny one. Following "Adaptive Software Cache Management" (Einziger,
//! Eytan, Friedman and Manes, Middleware 2018), the [`Climber`] tunes the share
//! online by simple hill climbing on the observed hit rate:
//!
//! 1. The cache reports every hit and miss. Once a sample of about ten
//!    accesses per unit of capacity (clamped to [`MIN_SAMPLE`, `MAX_SAMPLE`])
//!    has been seen, its hit rate is compared with the previous sample's.
//!    The first eight samples are a warm-up of one access per unit of
//!    capacity (same clamp), so that the window can grow before a short
//!    workload is over.
//! 2. If the hit rate rose (by more than a rounding-level tolerance), the last
//!    move helped and the window keeps moving the same way; otherwise the
//!    direction flips. The first sample has nothing to compare with and moves
//!    in the initial direction, which is to grow, because the window starts
//!    at 1% of the capacity.
//! 3. The step starts at 3% of the capacity and decays by 2% per sample
//!    down to a floor of 0.25%, so the window settles near the optimum while
//!    still probing it. A hit-rate swing of more than 5 percentage points
//!    means the workload changed, and the step restarts at full size.
//!
//! The climber only returns signed deltas; the caller applies them to the
//! window's maximum weight and clamps the result to `0..=capacity`, so the
//! climber needs no knowledge of the current window size. Deltas are
//! computed in `f64` and saturate on conversion, so no capacity, including
//! `0` and `u64::MAX`, can overflow.

/// Initial (and restart) step, as a fraction of the capacity.
/// (Caffeine uses 6.25%; on the bundled traces the smaller step wastes less
/// hit rate on probing moves and still reaches a large window in time.)
const INITIAL_STEP_FRACTION: f64 = 0.03;

/// Smallest step the decay reaches, as a fraction of the capacity.
const MIN_STEP_FRACTION: f64 = 0.0025;

/// Factor applied to the step after every completed sample.
const STEP_DECAY: f64 = 0.98;

/// Hit-rate change (absolute, as a fraction) that restarts the step.
const RESTART_THRESHOLD: f64 = 0.05;

/// Hit-rate gain that is too small to count as an improvement.
const IMPROVEMENT_TOLERANCE: f64 = 1e-9;

/// Accesses per unit of capacity in one sample.
const SAMPLE_PER_UNIT: u64 = 10;

/// Fewest accesses in a sample; fewer would make the hit rate too noisy.
const MIN_SAMPLE: u64 = 2048;

/// Completed samples at the start that use the shorter warm-up size, so
/// that the window leaves its initial 1% before a short workload ends.
const WARM_UP_SAMPLES: u32 = 8;

/// Accesses per unit of capacity in a warm-up sample (clamped like
/// [`SAMPLE_PER_UNIT`]'s samples).
const WARM_UP_PER_UNIT: u64 = 1;

/// Most accesses in a sample, so huge caches still adapt in reasonable time.
const MAX_SAMPLE: u64 = 1 << 24;

/// Hill climber that proposes changes to the admission window's size.
pub(crate) struct Climber {
    /// Cache capacity in weight units.
    capacity: u64,
    /// Accesses that complete a sample.
    sample_size: u64,
    /// Hits in the current sample.
    hits: u64,
    /// Misses in the current sample.
    misses: u64,
    /// Hit rate of the previous complete sample, if any.
    previous_hit_rate: Option<f64>,
    /// Magnitude of the next move, in weight units.
    step: f64,
    /// Whether the window is currently being grown (else shrunk).
    growing: bool,
    /// Warm-up samples still to run.
    warm_up_left: u32,
}

impl Climber {
    /// A climber for a cache of `max_capacity` weight units (may be 0 or
    /// `u64::MAX`: no overflow, no panic).
    pub(crate) fn new(max_capacity: u64) -> Self {
        Self {
            capacity: max_capacity,
            sample_size: sample_size_for(max_capacity),
            hits: 0,
            misses: 0,
            previous_hit_rate: None,
            step: initial_step(max_capacity),
            growing: true,
            warm_up_left: WARM_UP_SAMPLES,
        }
    }

    /// Records a cache hit in the current sample.
    pub(crate) fn record_hit(&mut self) {
        self.hits = self.hits.saturating_add(1);
    }

    /// Records a cache miss in the current sample.
    pub(crate) fn record_miss(&mut self) {
        self.misses = self.misses.saturating_add(1);
    }

    /// When the current sample is complete, compares its hit rate with the
    /// previous sample's and returns the signed change to apply to the
    /// window's maximum weight (positive grows the window), then starts a new
    /// sample. Returns 0 while the sample is incomplete or the capacity is 0.
    pub(crate) fn adjust(&mut self) -> i64 {
        let total = self.hits.saturating_add(self.misses);
        if total < self.current_sample_size() {
            return 0;
        }
        self.warm_up_left = self.warm_up_left.saturating_sub(1);
        let hit_rate = self.hits as f64 / total as f64;
        self.hits = 0;
        self.misses = 0;

        let previous = self.previous_hit_rate.replace(hit_rate);
        let step = match previous {
            None => self.step,
            Some(previous) => {
                if hit_rate <= previous + IMPROVEMENT_TOLERANCE {
                    self.growing = !self.growing;
                }
                if (hit_rate - previous).abs() > RESTART_THRESHOLD {
                    initial_step(self.capacity)
                } else {
                    self.step
                }
            }
        };
        self.step = (step * STEP_DECAY).max(min_step(self.capacity));
        self.signed(step)
    }

    /// Accesses that complete the current sample: shorter while warming up.
    fn current_sample_size(&self) -> u64 {
        if self.warm_up_left > 0 {
            warm_up_size_for(self.capacity).min(self.sample_size)
        } else {
            self.sample_size
        }
    }

    /// Re-targets the sample size and restarts the step when the cache's
    /// capacity changes; the current sample and direction are kept.
    // The cache has no capacity-changing API yet, so only tests call this.
    #[allow(dead_code)]
    pub(crate) fn set_capacity(&mut self, max_capacity: u64) {
        if max_capacity == self.capacity {
            return;
        }
        self.capacity = max_capacity;
        self.sample_size = sample_size_for(max_capacity);
        self.step = initial_step(max_capacity);
    }

    /// Rounds `step` to a whole number of weight units in `1..=capacity`
    /// (0 for an empty cache) and signs it with the current direction.
    fn signed(&self, step: f64) -> i64 {
        if self.capacity == 0 {
            return 0;
        }
        // Float-to-int `as` saturates, so even u64::MAX capacity is safe.
        let magnitude = step.round().clamp(1.0, self.capacity as f64) as i64;
        if self.growing {
            magnitude
        } else {
            -magnitude
        }
    }
}

/// Accesses per sample for a cache of `capacity` weight units.
fn sample_size_for(capacity: u64) -> u64 {
    capacity
        .saturating_mul(SAMPLE_PER_UNIT)
        .clamp(MIN_SAMPLE, MAX_SAMPLE)
}

/// Accesses per warm-up sample for a cache of `capacity` weight units.
fn warm_up_size_for(capacity: u64) -> u64 {
    capacity
        .saturating_mul(WARM_UP_PER_UNIT)
        .clamp(MIN_SAMPLE, MAX_SAMPLE)
}

/// Step at start and after a restart, in weight units.
fn initial_step(capacity: u64) -> f64 {
    capacity as f64 * INITIAL_STEP_FRACTION
}

/// Floor of the decaying step, in weight units.
fn min_step(capacity: u64) -> f64 {
    capacity as f64 * MIN_STEP_FRACTION
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hit rate of a recency-biased workload: best with the window at 80%.
    fn recency(window: f64) -> f64 {
        0.20 + 0.45 * (1.0 - (window - 0.8).abs() / 0.8)
    }

    /// Hit rate of a frequency-biased workload: best with the window at 1%.
    fn frequency(window: f64) -> f64 {
        0.55 - 0.40 * (window - 0.01).abs()
    }

    /// The cache side of the loop: a window clamped to the capacity that
    /// feeds the climber one sample at a time and applies its advice.
    struct Model {
        capacity: u64,
        window: u64,
        climber: Climber,
        /// State of the xorshift generator for noisy samples; 0 means exact.
        noise: u64,
    }

    impl Model {
        fn new(capacity: u64, noise: u64) -> Self {
            Self {
                capacity,
                window: capacity / 100,
                climber: Climber::new(capacity),
                noise,
            }
        }

        fn window_fraction(&self) -> f64 {
            self.window as f64 / self.capacity as f64
        }

        /// Uniform draw in [0, 1) from a xorshift64* generator.
        fn next_unit(&mut self) -> f64 {
            self.noise ^= self.noise >> 12;
            self.noise ^= self.noise << 25;
            self.noise ^= self.noise >> 27;
            (self.noise.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Feeds one full sample from `workload` and applies the adjustment.
        /// Exact samples are bulk-loaded into the counters (Miri would take
        /// minutes to replay them one access at a time), except for the last
        /// access, which goes through the recording API and completes the
        /// sample; noisy samples record every access.
        fn run_sample(&mut self, workload: fn(f64) -> f64) {
            let rate = workload(self.window_fraction());
            let n = self.climber.current_sample_size();
            let last_is_hit = if self.noise == 0 {
                let hits = (rate * n as f64).round() as u64;
                let last_is_hit = hits == n;
                self.climber.hits += hits - u64::from(last_is_hit);
                self.climber.misses += n - hits - u64::from(!last_is_hit);
                last_is_hit
            } else {
                for _ in 1..n {
                    if self.next_unit() < rate {
                        self.climber.record_hit();
                    } else {
                        self.climber.record_miss();
                    }
                }
                self.next_unit() < rate
            };
            assert_eq!(self.climber.adjust(), 0, "sample ended early");
            if last_is_hit {
                self.climber.record_hit();
            } else {
                self.climber.record_miss();
            }
            let delta = self.climber.adjust();
            assert_ne!(delta, 0, "a complete sample must move the window");
            let moved = i128::from(self.window) + i128::from(delta);
            self.window = moved.clamp(0, i128::from(self.capacity)) as u64;
        }

        /// Runs `samples` samples; returns the window's range over the last
        /// `tail` of them, as fractions of the capacity.
        fn run(&mut self, workload: fn(f64) -> f64, samples: u32, tail: u32) -> (f64, f64) {
            let (mut low, mut high) = (f64::MAX, f64::MIN);
            for s in 0..samples {
                self.run_sample(workload);
                if s + tail >= samples {
                    low = low.min(self.window_fraction());
                    high = high.max(self.window_fraction());
                }
            }
            (low, high)
        }
    }

    /// Samples per convergence run: enough for the step to reach its floor.
    const SAMPLES: u32 = 300;

    /// Capacity for the model runs (a sample of 10,000 accesses).
    const CAPACITY: u64 = 1000;

    #[test]
    fn recency_workload_grows_the_window() {
        let mut model = Model::new(CAPACITY, 0);
        let (low, high) = model.run(recency, SAMPLES, 20);
        assert!(low >= 0.75 && high <= 0.85, "window ended in {low}..{high}");
    }

    #[test]
    fn frequency_workload_keeps_the_window_small() {
        let mut model = Model::new(CAPACITY, 0);
        let (_, high) = model.run(frequency, SAMPLES, 20);
        assert!(high <= 0.03, "window ended at up to {high}");
    }

    #[test]
    #[cfg_attr(miri, ignore = "millions of simulated accesses")]
    fn converges_despite_sampling_noise() {
        let mut model = Model::new(1000, 0x9E37_79B9_7F4A_7C15);
        let (low, high) = model.run(recency, 400, 50);
        assert!(
            low >= 0.7 && high <= 0.9,
            "recency: window in {low}..{high}"
        );
        let mut model = Model::new(1000, 0xD1B5_4A32_D192_ED03);
        let (_, high) = model.run(frequency, 400, 50);
        assert!(high <= 0.08, "frequency: window up to {high}");
    }

    #[test]
    fn workload_shift_restarts_the_step() {
        let mut model = Model::new(CAPACITY, 0);
        model.run(recency, SAMPLES, 1);
        let settled = model.climber.step;
        assert!(settled < initial_step(CAPACITY) / 2.0);
        // The hit rate collapses by far more than the restart threshold.
        model.run_sample(frequency);
        assert!(model.climber.step > settled * 5.0, "step did not restart");
        let (_, high) = model.run(frequency, SAMPLES, 20);
        assert!(high <= 0.03, "window still at {high} after the shift");
    }

    #[test]
    fn adjust_waits_for_a_complete_sample() {
        let mut climber = Climber::new(1000);
        climber.warm_up_left = 0;
        assert_eq!(climber.sample_size, 10_000);
        assert_eq!(climber.adjust(), 0);
        // Bulk-load most of the sample, then record the rest one by one.
        climber.hits = 4_900;
        climber.misses = 4_900;
        for i in 0..199 {
            if i % 2 == 0 {
                climber.record_hit();
            } else {
                climber.record_miss();
            }
            assert_eq!(climber.adjust(), 0);
        }
        assert_eq!(climber.adjust(), 0);
        assert_eq!(climber.hits + climber.misses, 9_999, "kept the sample");
        climber.record_hit();
        // The first sample moves in the initial direction: grow by 3%.
        assert_eq!(climber.adjust(), 30);
        assert_eq!(climber.hits + climber.misses, 0, "started a new sample");
        assert_eq!(climber.adjust(), 0);
    }

    #[test]
    fn warm_up_samples_are_shorter() {
        let mut climber = Climber::new(10_000);
        for _ in 0..WARM_UP_SAMPLES {
            assert_eq!(climber.current_sample_size(), 10_000);
            climber.hits = 9_999;
            assert_eq!(climber.adjust(), 0);
            climber.record_miss();
            assert_ne!(climber.adjust(), 0);
        }
        assert_eq!(climber.current_sample_size(), 100_000);
        // Small caches keep the usual minimum.
        assert_eq!(Climber::new(100).current_sample_size(), MIN_SAMPLE);
    }

    #[test]
    fn direction_follows_the_hit_rate() {
        let mut climber = Climber::new(1000);
        let mut sample = |hits: u64| {
            climber.hits = hits;
            climber.misses = 10_000 - hits;
            climber.adjust()
        };
        assert!(sample(5_000) > 0, "first sample grows");
        assert!(sample(5_100) > 0, "improved: keep growing");
        assert!(sample(5_000) < 0, "worse: reverse");
        assert!(sample(5_000) > 0, "unchanged counts as worse: reverse");
        assert!(sample(5_050) > 0, "improved: keep direction");
    }

    #[test]
    fn step_decays_to_a_floor_and_restarts_on_big_swings() {
        let mut climber = Climber::new(10_000);
        let mut sample = |hits: u64| {
            climber.hits = hits;
            climber.misses = 100_000 - hits;
            climber.adjust().unsigned_abs()
        };
        assert_eq!(sample(50_000), 300);
        assert_eq!(sample(50_001), (300.0 * STEP_DECAY).round() as u64);
        let mut last = 0;
        for i in 0..400 {
            last = sample(50_000 + i % 2);
        }
        assert_eq!(last, 25, "floor of 0.25% of 10000");
        // A swing of 6 points restarts the step at 3%.
        assert_eq!(sample(56_000), 300);
        assert!(sample(56_001) < 300, "decays again afterwards");
    }

    #[test]
    fn extreme_capacities_do_not_panic() {
        let mut empty = Climber::new(0);
        assert_eq!(empty.sample_size, MIN_SAMPLE);
        let mut huge = Climber::new(u64::MAX);
        assert_eq!(huge.sample_size, MAX_SAMPLE);
        let mut one = Climber::new(1);
        for (i, hits) in [0, MIN_SAMPLE, 0, MIN_SAMPLE / 2].into_iter().enumerate() {
            empty.hits = hits;
            empty.misses = MIN_SAMPLE - hits;
            assert_eq!(empty.adjust(), 0, "nothing to resize");
            one.hits = hits;
            one.misses = MIN_SAMPLE - hits;
            assert_eq!(one.adjust().abs(), 1, "moves by at least one unit");
            huge.hits = hits;
            huge.misses = MAX_SAMPLE - hits;
            let delta = huge.adjust();
            assert!(delta != 0 && delta != i64::MIN, "sample {i}: {delta}");
        }
        // Counters saturate instead of overflowing.
        huge.hits = u64::MAX;
        huge.misses = u64::MAX;
        huge.record_hit();
        huge.record_miss();
        assert_ne!(huge.adjust(), 0);
        huge.set_capacity(0);
        huge.set_capacity(u64::MAX);
        assert_eq!(huge.sample_size, MAX_SAMPLE);
    }

    #[test]
    fn set_capacity_retargets_the_sample_and_step() {
        let mut climber = Climber::new(1000);
        climber.record_hit();
        climber.set_capacity(1000);
        assert_eq!(climber.hits, 1);
        climber.set_capacity(100_000);
        assert_eq!(climber.sample_size, 1_000_000);
        assert_eq!(climber.step, 3000.0);
        assert_eq!(climber.hits, 1, "the current sample is kept");
        climber.set_capacity(10);
        assert_eq!(climber.sample_size, MIN_SAMPLE);
        climber.hits = MIN_SAMPLE;
        assert_eq!(climber.adjust(), 1, "step of 0.3 rounds up to one unit");
    }
}
