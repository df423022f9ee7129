//! Crate-internal types exposed to the fuzz targets in `fuzz/` only.
//!
//! Compiled only under `--cfg fuzzing` (which `cargo fuzz` sets), hidden from
//! the docs, and not part of the API: thin `pub` wrappers that forward to the
//! `pub(crate)` timer wheel and frequency sketch, so the targets can drive
//! them against simple models without the types themselves becoming public.

use crate::expiry::timer_wheel;
use crate::policy::sketch;

/// The hierarchical timer wheel (see `expiry::timer_wheel`).
pub struct TimerWheel(timer_wheel::TimerWheel);

impl TimerWheel {
    /// A wheel whose current time is `now`.
    pub fn new(now: u64) -> Self {
        Self(timer_wheel::TimerWheel::new(now))
    }

    /// Schedules or moves timer `id` to `deadline`.
    pub fn schedule(&mut self, id: u32, deadline: u64) {
        self.0.schedule(id, deadline);
    }

    /// Unschedules timer `id` (no-op if it is not scheduled).
    pub fn cancel(&mut self, id: u32) {
        self.0.cancel(id);
    }

    /// Whether timer `id` is scheduled.
    pub fn is_scheduled(&self, id: u32) -> bool {
        self.0.is_scheduled(id)
    }

    /// The deadline timer `id` is scheduled for.
    pub fn deadline(&self, id: u32) -> Option<u64> {
        self.0.deadline(id)
    }

    /// Moves time to `now`, appending every due id to `expired`.
    pub fn advance(&mut self, now: u64, expired: &mut Vec<u32>) {
        self.0.advance(now, expired);
    }

    /// Number of scheduled timers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no timer is scheduled.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

/// The 4-bit count-min frequency sketch (see `policy::sketch`).
pub struct FrequencySketch(sketch::FrequencySketch);

impl Default for FrequencySketch {
    fn default() -> Self {
        Self::new()
    }
}

impl FrequencySketch {
    /// An unsized sketch.
    pub fn new() -> Self {
        Self(sketch::FrequencySketch::new())
    }

    /// Sizes the table for about `max_entries` keys (only grows; discards counts).
    pub fn ensure_capacity(&mut self, max_entries: u64) {
        self.0.ensure_capacity(max_entries);
    }

    /// Counts one occurrence of `hash`.
    pub fn increment(&mut self, hash: u64) {
        self.0.increment(hash);
    }

    /// The estimated frequency of `hash` (0..=15).
    pub fn frequency(&self, hash: u64) -> u8 {
        self.0.frequency(hash)
    }
}
