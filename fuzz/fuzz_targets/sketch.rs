//! The frequency sketch against exact counts. Invariants checked after every
//! operation, for every key seen so far:
//! * an estimate never exceeds 15 and never "underflows" (wraps to a large
//!   value after aging);
//! * before any aging, an estimate is never below the key's true count
//!   (count-min never underestimates); after aging, never below the true
//!   count halved once per aging (tracked as a lower bound);
//! * an increment raises the key's estimate by exactly one (unless it is
//!   saturated at 15), other keys' by at most one (collisions);
//! * an aging pass halves every estimate (floor), so it is detected exactly:
//!   the incremented key then reads `(old + 1) / 2` instead of `old + 1`;
//! * `ensure_capacity` either changes nothing or discards every count.
#![no_main]

use larder::__fuzz::FrequencySketch;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    /// One of a few hot keys (hashes spread by a mixer).
    Hot(u8),
    /// Many increments of one hot key.
    Burst(u8, u8),
    /// A raw caller hash (may be 0, u64::MAX, sequential...).
    Raw(u64),
    /// Sizes the table (discards counts if it grows).
    Ensure(u16),
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// `None`: start unsized (every call must be an inert no-op until sized).
    capacity: Option<u16>,
    ops: Vec<Op>,
}

/// A key the model follows.
struct Tracked {
    hash: u64,
    /// Increments since the counts were last discarded.
    truth: u64,
    /// A proven lower bound of the estimate.
    lower: u8,
    /// The estimate after the previous operation.
    last: u8,
}

struct Model {
    keys: Vec<Tracked>,
    sized: bool,
    aged: bool,
}

impl Model {
    fn index(&mut self, hash: u64, sketch: &FrequencySketch) -> Option<usize> {
        if let Some(i) = self.keys.iter().position(|k| k.hash == hash) {
            return Some(i);
        }
        if self.keys.len() >= 96 {
            return None;
        }
        let est = sketch.frequency(hash);
        self.keys.push(Tracked {
            hash,
            truth: 0,
            lower: 0,
            last: est,
        });
        Some(self.keys.len() - 1)
    }

    fn increment(&mut self, sketch: &mut FrequencySketch, hash: u64) {
        let me = self.index(hash, sketch);
        let old = sketch.frequency(hash);
        sketch.increment(hash);
        let new = sketch.frequency(hash);
        assert!(new <= 15, "estimate {new} above 15");
        if !self.sized {
            assert_eq!(new, 0, "an unsized sketch counted");
            return;
        }
        let aged = if old == 15 {
            assert_eq!(new, 15, "a saturated estimate moved");
            false
        } else if new == old + 1 {
            false
        } else {
            assert_eq!(new, (old + 1) / 2, "increment of {hash:#x}: {old} -> {new}");
            true
        };
        self.aged |= aged;
        for (i, k) in self.keys.iter_mut().enumerate() {
            let now = sketch.frequency(k.hash);
            assert!(now <= 15);
            if Some(i) == me {
                k.truth += 1;
                if old < 15 {
                    k.lower = (k.lower + 1).min(15);
                }
            } else if aged {
                assert!(
                    now == k.last / 2 || now == (k.last + 1) / 2,
                    "aging took {:#x} from {} to {now}",
                    k.hash,
                    k.last
                );
            } else {
                assert!(
                    now == k.last || now == k.last + 1,
                    "an increment of another key took {:#x} from {} to {now}",
                    k.hash,
                    k.last
                );
            }
            if aged {
                k.lower /= 2;
            }
            assert!(
                now >= k.lower,
                "{:#x}: estimate {now} below its lower bound {}",
                k.hash,
                k.lower
            );
            if !self.aged {
                assert!(
                    u64::from(now) >= k.truth.min(15),
                    "{:#x}: estimate {now} below the true count {} before any aging",
                    k.hash,
                    k.truth
                );
            }
            k.last = now;
        }
    }

    fn estimates(&self, sketch: &FrequencySketch) -> Vec<u8> {
        self.keys.iter().map(|k| sketch.frequency(k.hash)).collect()
    }

    fn reset(&mut self, sketch: &FrequencySketch) {
        for k in &mut self.keys {
            k.truth = 0;
            k.lower = 0;
            k.last = sketch.frequency(k.hash);
        }
        self.aged = false;
    }
}

fn spread(k: u8) -> u64 {
    // Not the sketch's own mixer: just distinct, well-spread hashes.
    (u64::from(k) + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93).rotate_left(29)
}

fuzz_target!(|input: Input| {
    let mut sketch = FrequencySketch::new();
    let mut model = Model {
        keys: Vec::new(),
        sized: false,
        aged: false,
    };
    if let Some(cap) = input.capacity {
        sketch.ensure_capacity(u64::from(cap));
        model.sized = true;
    }
    for op in input.ops.iter().take(3_000) {
        match *op {
            Op::Hot(k) => model.increment(&mut sketch, spread(k % 32)),
            Op::Burst(k, n) => {
                for _ in 0..(n % 40) {
                    model.increment(&mut sketch, spread(k % 32));
                }
            }
            Op::Raw(h) => model.increment(&mut sketch, h),
            Op::Ensure(cap) => {
                let before = model.estimates(&sketch);
                sketch.ensure_capacity(u64::from(cap));
                model.sized = true;
                let after = model.estimates(&sketch);
                if after != before {
                    assert!(
                        after.iter().all(|&e| e == 0),
                        "ensure_capacity changed counts without discarding them"
                    );
                    model.reset(&sketch);
                }
            }
        }
    }
});
