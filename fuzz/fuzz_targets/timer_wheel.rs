//! The timer wheel against a `BTreeMap` model: every timer fires exactly at
//! its deadline (inclusive), never early, never twice, never left behind; a
//! cancelled or rescheduled timer never fires for its old deadline; `len` and
//! `deadline` agree with the model after every operation.
#![no_main]

use larder::__fuzz::TimerWheel;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

#[derive(Arbitrary, Debug)]
enum When {
    /// `now + n`, a near deadline.
    Near(u8),
    /// `now + n`.
    Mid(u32),
    /// `now + n`, anything up to the end of time.
    Far(u64),
    /// An absolute deadline (may be in the past).
    At(u64),
    /// `u64::MAX`, "never".
    Max,
    /// `now - n`: already due.
    Past(u16),
    /// A power-of-two boundary (`2^k` and its neighbours), relative to now.
    Boundary(u8, i8),
}

#[derive(Arbitrary, Debug)]
enum Op {
    Schedule { id: u8, when: When },
    /// A sparse id, so the wheel's node vector grows.
    ScheduleSparse { id: u16, when: When },
    Cancel { id: u8 },
    /// Advances to a time given like a deadline.
    Advance(When),
    /// Advances to the `nth` scheduled deadline plus `offset` (boundaries).
    AdvanceToDeadline { nth: u8, offset: i8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    start: u64,
    ops: Vec<Op>,
}

fn resolve(now: u64, when: &When) -> u64 {
    match *when {
        When::Near(n) => now.saturating_add(u64::from(n)),
        When::Mid(n) => now.saturating_add(u64::from(n)),
        When::Far(n) => now.saturating_add(n),
        When::At(t) => t,
        When::Max => u64::MAX,
        When::Past(n) => now.saturating_sub(u64::from(n)),
        When::Boundary(k, off) => {
            let base = 1u64.checked_shl(u32::from(k % 64)).unwrap_or(0);
            now.saturating_add(base).saturating_add_signed(i64::from(off))
        }
    }
}

struct Model {
    now: u64,
    timers: BTreeMap<u32, u64>,
}

impl Model {
    fn advance(&mut self, to: u64) -> Vec<u32> {
        self.now = self.now.max(to);
        let now = self.now;
        let due: Vec<u32> = self
            .timers
            .iter()
            .filter(|(_, &d)| d <= now)
            .map(|(&id, _)| id)
            .collect();
        for id in &due {
            self.timers.remove(id);
        }
        due
    }
}

fn check(wheel: &TimerWheel, model: &Model, touched: u32) {
    assert_eq!(wheel.len(), model.timers.len(), "len disagrees");
    for (&id, &d) in &model.timers {
        assert_eq!(wheel.deadline(id), Some(d), "deadline of {id}");
    }
    if !model.timers.contains_key(&touched) {
        assert!(!wheel.is_scheduled(touched), "{touched} should not be scheduled");
    }
}

fuzz_target!(|input: Input| {
    let mut wheel = TimerWheel::new(input.start);
    let mut model = Model {
        now: input.start,
        timers: BTreeMap::new(),
    };
    let mut expired = Vec::new();
    for op in input.ops.iter().take(2_000) {
        let mut touched = 0;
        match op {
            Op::Schedule { id, when } => {
                let d = resolve(model.now, when);
                touched = u32::from(*id);
                wheel.schedule(touched, d);
                model.timers.insert(touched, d);
            }
            Op::ScheduleSparse { id, when } => {
                let d = resolve(model.now, when);
                touched = u32::from(*id);
                wheel.schedule(touched, d);
                model.timers.insert(touched, d);
            }
            Op::Cancel { id } => {
                touched = u32::from(*id);
                wheel.cancel(touched);
                model.timers.remove(&touched);
            }
            Op::Advance(when) => {
                let to = resolve(model.now, when);
                advance(&mut wheel, &mut model, &mut expired, to);
            }
            Op::AdvanceToDeadline { nth, offset } => {
                let mut ds: Vec<u64> = model.timers.values().copied().collect();
                if !ds.is_empty() {
                    ds.sort_unstable();
                    let d = ds[usize::from(*nth) % ds.len()];
                    let to = d.saturating_add_signed(i64::from(*offset));
                    advance(&mut wheel, &mut model, &mut expired, to);
                }
            }
        }
        check(&wheel, &model, touched);
    }
    // Draining to the end of time reports everything that is left, once.
    expired.clear();
    wheel.advance(u64::MAX, &mut expired);
    expired.sort_unstable();
    let want = model.advance(u64::MAX);
    assert_eq!(expired, want, "final drain");
    assert!(wheel.is_empty());
});

/// Advances both and compares what fired.
fn advance(wheel: &mut TimerWheel, model: &mut Model, expired: &mut Vec<u32>, to: u64) {
    expired.clear();
    wheel.advance(to, expired);
    let mut got = expired.clone();
    got.sort_unstable();
    let fired = got.len();
    got.dedup();
    assert_eq!(got.len(), fired, "a timer fired twice in one advance");
    let want = model.advance(to);
    assert_eq!(got, want, "advance to {to} (now {})", model.now);
}
