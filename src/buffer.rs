//! The read buffer: striped, lossy, bounded rings of access records.
//!
//! A cache hit must not write to a cache line that other threads' hits write
//! to, yet the policy wants to hear about every hit (to count frequency and
//! reorder its LRU queues). Hits are therefore recorded into one of several
//! small rings, picked per thread, and applied later in bulk by maintenance.
//!
//! * A producer claims a position with `fetch_add` on its ring's `tail` and
//!   stores its record (a non-zero `u64`) into that slot. If maintenance has
//!   fallen a whole ring behind, the slot's old record is overwritten: records
//!   are hints, and losing some under contention is the accepted price (the
//!   write buffer, which is never lossy, is elsewhere: per table stripe).
//! * The consumer (maintenance, one at a time under its lock) takes records
//!   with `swap(0)`, so no record is applied twice, and an atomic `u64` cannot
//!   be half-written. A slot claimed but not yet stored reads as empty and is
//!   picked up by a later drain.
//! * Every `DRAIN_EVERY` records on a ring, the producer is told to try to run
//!   maintenance (`try_lock`: it never waits).

use crate::shim::{AtomicU64, AtomicUsize, Ordering};

/// Slots per ring (a power of two).
#[cfg(not(any(miri, larder_loom)))]
pub(crate) const SLOTS: usize = 32;
/// Slots per ring (small under miri and loom so drains happen constantly).
#[cfg(any(miri, larder_loom))]
pub(crate) const SLOTS: usize = 4;
/// A producer asks for a drain after this many records on its ring.
pub(crate) const DRAIN_EVERY: usize = SLOTS / 2;

#[repr(align(128))]
struct Ring {
    tail: AtomicUsize,
    /// Next position to consume; only maintenance touches it.
    head: AtomicUsize,
    slots: [AtomicU64; SLOTS],
}

/// Striped lossy rings of non-zero `u64` records.
pub(crate) struct ReadBuffer {
    rings: Box<[Ring]>,
}

impl ReadBuffer {
    /// A buffer with `rings` rings (rounded up to a power of two).
    pub(crate) fn new(rings: usize) -> Self {
        let rings = rings.clamp(1, 1024).next_power_of_two();
        Self {
            rings: (0..rings)
                .map(|_| Ring {
                    tail: AtomicUsize::new(0),
                    head: AtomicUsize::new(0),
                    slots: std::array::from_fn(|_| AtomicU64::new(0)),
                })
                .collect(),
        }
    }

    /// Records `rec` (must be non-zero) on ring `ring % rings`. Returns true
    /// when the caller should try to drain.
    #[inline]
    pub(crate) fn record(&self, ring: usize, rec: u64) -> bool {
        debug_assert!(rec != 0);
        let ring = &self.rings[ring & (self.rings.len() - 1)];
        let t = ring.tail.fetch_add(1, Ordering::Relaxed);
        ring.slots[t & (SLOTS - 1)].store(rec, Ordering::Release);
        (t + 1) % DRAIN_EVERY == 0
    }

    /// Takes every available record, oldest first per ring. Only one thread
    /// may drain at a time (the caller holds the maintenance lock).
    pub(crate) fn drain(&self, mut f: impl FnMut(u64)) {
        for ring in self.rings.iter() {
            let tail = ring.tail.load(Ordering::Acquire);
            let head = ring.head.load(Ordering::Relaxed);
            if tail == head {
                continue;
            }
            // Positions older than one ring were overwritten: start at the
            // oldest that can still be there.
            let mut pos = if tail.wrapping_sub(head) > SLOTS {
                tail.wrapping_sub(SLOTS)
            } else {
                head
            };
            while pos != tail {
                let rec = ring.slots[pos & (SLOTS - 1)].swap(0, Ordering::Acquire);
                if rec != 0 {
                    f(rec);
                }
                pos = pos.wrapping_add(1);
            }
            ring.head.store(tail, Ordering::Relaxed);
        }
    }
}

#[cfg(all(test, not(larder_loom)))]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_record_is_drained_once_when_not_overrun() {
        let b = ReadBuffer::new(2);
        let mut due = 0;
        for r in 1..=(SLOTS as u64 - 1) {
            due += usize::from(b.record(0, r));
        }
        assert_eq!(due, (SLOTS - 1) / DRAIN_EVERY);
        let mut got = Vec::new();
        b.drain(|r| got.push(r));
        assert_eq!(got, (1..=(SLOTS as u64 - 1)).collect::<Vec<_>>());
        b.drain(|r| got.push(r));
        assert_eq!(got.len(), SLOTS - 1, "a second drain finds nothing");
    }

    #[test]
    fn overrun_loses_old_records_but_never_duplicates() {
        let b = ReadBuffer::new(1);
        for r in 1..=(3 * SLOTS as u64) {
            b.record(0, r);
        }
        let mut got = Vec::new();
        b.drain(|r| got.push(r));
        assert_eq!(
            got,
            ((2 * SLOTS as u64 + 1)..=(3 * SLOTS as u64)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn concurrent_producers_never_yield_a_record_twice() {
        let b = ReadBuffer::new(2);
        let per = if cfg!(miri) { 50 } else { 20_000 };
        let seen = std::sync::Mutex::new(HashMap::<u64, u32>::new());
        std::thread::scope(|s| {
            for t in 0..2u64 {
                let b = &b;
                s.spawn(move || {
                    for i in 0..per {
                        b.record(t as usize, (t << 32) | (i + 1));
                    }
                });
            }
            for _ in 0..per / 4 {
                b.drain(|r| *seen.lock().unwrap().entry(r).or_default() += 1);
            }
        });
        b.drain(|r| *seen.lock().unwrap().entry(r).or_default() += 1);
        let seen = seen.into_inner().unwrap();
        assert!(seen.values().all(|&c| c == 1), "a record was applied twice");
        assert!(!seen.is_empty());
    }
}
