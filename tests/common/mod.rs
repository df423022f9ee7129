//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts creations, clones and drops of [`Tracked`] values.
#[derive(Default, Debug)]
pub struct Counters {
    pub created: AtomicUsize,
    pub cloned: AtomicUsize,
    pub dropped: AtomicUsize,
}

impl Counters {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Values alive now: created + cloned - dropped.
    pub fn live(&self) -> isize {
        (self.created.load(Ordering::SeqCst) + self.cloned.load(Ordering::SeqCst)) as isize
            - self.dropped.load(Ordering::SeqCst) as isize
    }

    /// Waits (by nudging the epoch collector) until every value was dropped;
    /// returns the live count at the end (0 on success).
    pub fn settle(&self) -> isize {
        for _ in 0..10_000 {
            let live = self.live();
            assert!(live >= 0, "more drops than values: a double drop");
            if live == 0 {
                return 0;
            }
            crossbeam_epoch::pin().flush();
            std::thread::yield_now();
        }
        self.live()
    }
}

/// A value that counts its clones and drops.
#[derive(Debug)]
pub struct Tracked {
    pub id: u64,
    counters: Arc<Counters>,
}

impl Tracked {
    pub fn new(id: u64, counters: &Arc<Counters>) -> Self {
        counters.created.fetch_add(1, Ordering::SeqCst);
        Self {
            id,
            counters: Arc::clone(counters),
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        self.counters.cloned.fetch_add(1, Ordering::SeqCst);
        Self {
            id: self.id,
            counters: Arc::clone(&self.counters),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.counters.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// A small deterministic PRNG (xorshift64*), so tests need no seed plumbing.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Iterations scaled down under miri.
pub fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 100).max(10)
    } else {
        n
    }
}
