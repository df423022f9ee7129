//! W-TinyLFU: which entries stay when the cache is over capacity.
//!
//! The policy is owned by maintenance (under the maintenance lock) and is
//! single-threaded. It tracks every entry the table holds in a *slab*: a dense
//! array of slots indexed by `u32`, each with a pointer to its node, its links
//! in one of the queues below, and which queue that is.
//!
//! * **window**: a small LRU (starts at 1% of the capacity) that every new
//!   entry enters. It gives new keys a chance to prove themselves and absorbs
//!   bursts of recency.
//! * **main**: a segmented LRU of **probation** (entries that left the window,
//!   or were demoted) and **protected** (entries hit while on probation; up to
//!   70% of main).
//! * **recency without reordering on reads**: a read hit only sets its slot's
//!   *referenced* bit (and counts in the sketch); the queues are reordered
//!   lazily, CLOCK-style, when their heads are examined: a referenced window
//!   head goes back to the window's tail, a referenced probation entry is
//!   promoted to protected, a referenced protected head gets another round.
//!   Every such step clears a bit, so the scans are amortised O(1) per read,
//!   and applying a read costs two memory writes instead of relinking three
//!   list nodes (this is what keeps draining the read buffer cheap).
//! * **admission**: when the window overflows, its oldest entries become
//!   *candidates* (a queue of their own, counted as part of main). While the
//!   cache is over capacity the oldest candidate is compared with main's
//!   *victim* (the head of probation, else of protected) using a 4-bit
//!   count-min sketch of recent access frequency (`sketch`); the candidate
//!   replaces the victim only if it leads by more than one count. Its count
//!   already includes the access that brought it in, while an equally
//!   popular victim's next access is still ahead, so a lead of one is a tie:
//!   without the margin, loops and scans over more keys than fit churn main
//!   on every pass instead of keeping a stable share of them. Candidates
//!   left when the cache fits again join probation. A candidate that does
//!   not win is still admitted, rarely and at random, when it is warm
//!   (frequency >= 6), so that an attacker who floods the sketch with
//!   collisions cannot pin the victim forever.
//! * **hill climbing** (`climber`): every sample period the hit rate is
//!   compared with the previous one and the window share is moved in the
//!   direction that improved it, so recency-biased workloads get a large
//!   window and frequency-biased ones a small one (never below the initial
//!   1%, so that keys reused within a few accesses still hit).
//! * entries of **weight zero** are never evicted for size; they live in a
//!   queue of their own.
//!
//! Capacity is in weight units (the weigher's `u32` per entry, 1 by default);
//! every total is a `u64` and all arithmetic on capacities saturates.

pub(crate) mod climber;
pub(crate) mod deque;
pub(crate) mod sketch;

use crate::node::{NodePtr, NO_SLOT};
use crate::shim::Ordering;
use climber::Climber;
use deque::{Deque, Link, NIL};
use sketch::FrequencySketch;

/// Which queue a slot is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Queue {
    /// Not in use (on the free list).
    Free,
    Window,
    Probation,
    Protected,
    /// Left the window in this eviction round, awaiting admission.
    Candidate,
    /// Weight-zero entries: never evicted for size.
    Zero,
}

/// The eviction policy's state.
pub(crate) struct Policy<K, V> {
    nodes: Vec<Option<NodePtr<K, V>>>,
    links: Vec<Link>,
    queue: Vec<Queue>,
    /// Referenced since the slot's queue head last looked at it (CLOCK bit).
    referenced: Vec<bool>,
    /// Head of the free-slot chain (threaded through `links[i].next`).
    free: u32,

    window: Deque,
    probation: Deque,
    protected: Deque,
    candidates: Deque,
    zero: Deque,

    window_weight: u64,
    probation_weight: u64,
    protected_weight: u64,
    candidate_weight: u64,
    /// Live entries.
    entries: u64,

    bounded: bool,
    max: u64,
    window_max: u64,
    protected_max: u64,

    sketch: FrequencySketch,
    sketch_sized_for: u64,
    climber: Climber,
    rng: u64,
}

/// The sketch is keyed by the low 32 bits of the hash, which is what the
/// read buffer's records carry.
#[inline]
fn sketch_key(hash: u64) -> u64 {
    hash & 0xffff_ffff
}

/// `pct` percent of `max`, without overflow.
fn percent(max: u64, pct: u64) -> u64 {
    (max / 100) * pct + (max % 100) * pct / 100
}

/// The window's initial share, and the least the climber may leave it, in
/// percent of the capacity.
const MIN_WINDOW_PERCENT: u64 = 1;

impl<K, V> Policy<K, V> {
    /// A policy for `max` weight units; `None` means unbounded (no eviction).
    pub(crate) fn new(max: Option<u64>) -> Self {
        let bounded = max.is_some();
        let max = max.unwrap_or(u64::MAX);
        let mut p = Self {
            nodes: Vec::new(),
            links: Vec::new(),
            queue: Vec::new(),
            referenced: Vec::new(),
            free: NIL,
            window: Deque::default(),
            probation: Deque::default(),
            protected: Deque::default(),
            candidates: Deque::default(),
            zero: Deque::default(),
            window_weight: 0,
            probation_weight: 0,
            protected_weight: 0,
            candidate_weight: 0,
            entries: 0,
            bounded,
            max,
            window_max: 0,
            protected_max: 0,
            sketch: FrequencySketch::new(),
            sketch_sized_for: 0,
            climber: Climber::new(max),
            rng: 0x2545_F491_4F6C_DD1D,
        };
        p.set_window_max(percent(max, MIN_WINDOW_PERCENT));
        p
    }

    /// Total weight of the live entries.
    pub(crate) fn weighted_size(&self) -> u64 {
        self.window_weight + self.probation_weight + self.protected_weight + self.candidate_weight
    }

    /// Number of live entries.
    pub(crate) fn entries(&self) -> u64 {
        self.entries
    }

    /// The current maximum weight of the window (for tests and docs).
    #[cfg(test)]
    pub(crate) fn window_max(&self) -> u64 {
        self.window_max
    }

    fn set_window_max(&mut self, w: u64) {
        self.window_max = w.min(self.max);
        self.protected_max = percent(self.max - self.window_max, 70);
    }

    /// The node in slot `i`.
    pub(crate) fn node(&self, i: u32) -> NodePtr<K, V> {
        self.nodes[i as usize].expect("live slot")
    }

    /// The node in slot `i`, if the slot is in use.
    pub(crate) fn try_node(&self, i: u32) -> Option<NodePtr<K, V>> {
        self.nodes.get(i as usize).copied().flatten()
    }

    /// The queue of slot `i`.
    #[cfg(test)]
    pub(crate) fn queue_of(&self, i: u32) -> Queue {
        self.queue[i as usize]
    }

    fn weight(&self, i: u32) -> u64 {
        // SAFETY: slots hold live nodes (life-cycle invariant, node.rs); we
        // run under the maintenance lock.
        u64::from(unsafe { self.node(i).get() }.weight)
    }

    fn hash(&self, i: u32) -> u64 {
        // SAFETY: as in `weight`.
        unsafe { self.node(i).get() }.hash
    }

    fn alloc_slot(&mut self, node: NodePtr<K, V>) -> u32 {
        if self.free != NIL {
            let i = self.free;
            self.free = self.links[i as usize].next;
            self.links[i as usize] = Link::UNLINKED;
            self.nodes[i as usize] = Some(node);
            self.referenced[i as usize] = false;
            i
        } else {
            let i = u32::try_from(self.nodes.len())
                .ok()
                .filter(|&i| i < NO_SLOT - 1)
                .expect("more than 4 billion entries");
            self.nodes.push(Some(node));
            self.links.push(Link::UNLINKED);
            self.queue.push(Queue::Free);
            self.referenced.push(false);
            i
        }
    }

    fn free_slot(&mut self, i: u32) {
        self.nodes[i as usize] = None;
        self.queue[i as usize] = Queue::Free;
        self.links[i as usize] = Link {
            prev: NIL,
            next: self.free,
        };
        self.free = i;
    }

    fn deque_mut(&mut self, q: Queue) -> (&mut Deque, &mut Vec<Link>) {
        let d = match q {
            Queue::Window => &mut self.window,
            Queue::Probation => &mut self.probation,
            Queue::Protected => &mut self.protected,
            Queue::Candidate => &mut self.candidates,
            Queue::Zero => &mut self.zero,
            Queue::Free => unreachable!("free slots are in no queue"),
        };
        (d, &mut self.links)
    }

    fn weight_mut(&mut self, q: Queue) -> Option<&mut u64> {
        match q {
            Queue::Window => Some(&mut self.window_weight),
            Queue::Probation => Some(&mut self.probation_weight),
            Queue::Protected => Some(&mut self.protected_weight),
            Queue::Candidate => Some(&mut self.candidate_weight),
            Queue::Zero | Queue::Free => None,
        }
    }

    /// Takes slot `i` out of its queue (keeps the slot).
    fn detach(&mut self, i: u32) {
        let q = self.queue[i as usize];
        let w = self.weight(i);
        if let Some(total) = self.weight_mut(q) {
            *total -= w;
        }
        let (d, links) = self.deque_mut(q);
        d.unlink(links, i);
        self.queue[i as usize] = Queue::Free;
    }

    /// Puts slot `i` (in no queue) at the tail of `q`.
    fn attach(&mut self, i: u32, q: Queue) {
        let w = self.weight(i);
        if let Some(total) = self.weight_mut(q) {
            *total += w;
        }
        let (d, links) = self.deque_mut(q);
        d.push_back(links, i);
        self.queue[i as usize] = q;
    }

    /// Sizes the sketch as the cache fills. Growing the sketch forgets its
    /// counts, so it grows by doubling while the cache is less than half
    /// full, and then once to its expected full size (as Caffeine does):
    /// history gathered after that is kept.
    fn ensure_sketch(&mut self) {
        if !self.bounded || self.entries <= self.sketch_sized_for {
            return;
        }
        let weight = self.weighted_size();
        let want = if weight.saturating_mul(2) >= self.max && weight > 0 {
            // Entries expected at capacity, from the average weight so far.
            let expected =
                (u128::from(self.entries) * u128::from(self.max) / u128::from(weight)) as u64;
            expected.max(self.entries)
        } else {
            self.entries
        };
        let want = want.max(64).checked_next_power_of_two().unwrap_or(u64::MAX);
        self.sketch.ensure_capacity(want);
        self.sketch_sized_for = want;
    }

    /// A new entry (its Insert event). Returns its slot.
    pub(crate) fn on_insert(&mut self, node: NodePtr<K, V>) -> u32 {
        let i = self.alloc_slot(node);
        // SAFETY: the node was just published and its event is being applied.
        let n = unsafe { node.get() };
        n.slot.store(i, Ordering::Relaxed);
        self.entries += 1;
        if n.weight == 0 {
            self.attach(i, Queue::Zero);
        } else {
            self.attach(i, Queue::Window);
        }
        if self.bounded {
            self.ensure_sketch();
            self.sketch.increment(sketch_key(n.hash));
            self.climber.record_miss();
        }
        i
    }

    /// `old` was replaced by `new` in the table (an Update event). `new`
    /// takes over `old`'s slot and counts as an access.
    pub(crate) fn on_update(&mut self, old: NodePtr<K, V>, new: NodePtr<K, V>) -> u32 {
        // SAFETY: `old` is unlinked but not retired (its event is being
        // applied now); `new` is alive.
        let (o, n) = unsafe { (old.get(), new.get()) };
        let i = o.slot.load(Ordering::Relaxed);
        if i == NO_SLOT {
            // Not reachable (the Insert event comes first), but harmless.
            return self.on_insert(new);
        }
        if (o.weight == 0) == (n.weight == 0) {
            // Same kind of queue: keep the position, fix the weight total.
            if let Some(total) = self.weight_mut(self.queue[i as usize]) {
                *total = *total - u64::from(o.weight) + u64::from(n.weight);
            }
            self.nodes[i as usize] = Some(new);
        } else {
            self.detach(i);
            self.nodes[i as usize] = Some(new);
            self.attach(
                i,
                if n.weight == 0 {
                    Queue::Zero
                } else {
                    Queue::Window
                },
            );
        }
        n.slot.store(i, Ordering::Relaxed);
        // An update is an access.
        self.referenced[i as usize] = true;
        if self.bounded {
            self.sketch.increment(sketch_key(n.hash));
        }
        i
    }

    /// The entry `node` left the table (a Remove event, or eviction).
    pub(crate) fn on_remove(&mut self, node: NodePtr<K, V>) {
        // SAFETY: the node is unlinked but not yet retired.
        let i = unsafe { node.get() }.slot.load(Ordering::Relaxed);
        if i == NO_SLOT || self.nodes.get(i as usize).copied().flatten() != Some(node) {
            return;
        }
        self.remove_slot(i);
    }

    /// Forgets slot `i` (after maintenance evicted its node).
    pub(crate) fn remove_slot(&mut self, i: u32) {
        self.detach(i);
        self.free_slot(i);
        self.entries -= 1;
    }

    /// A read hit recorded in the read buffer: `rec` packs the slot + 1 and
    /// the low 32 bits of the hash. Sets the slot's referenced bit and counts
    /// the key in the sketch; touches no node and no list links. A stale
    /// record (the slot was reused) marks the wrong slot, which costs that
    /// entry one extra round in its queue at worst.
    #[inline]
    pub(crate) fn on_read_record(&mut self, rec: u64) {
        if !self.bounded {
            return;
        }
        let i = (rec >> 32) as usize - 1;
        if let Some(r) = self.referenced.get_mut(i) {
            *r = true;
        }
        self.sketch.increment(rec & 0xffff_ffff);
        self.climber.record_hit();
    }

    /// Gives slot `i` (referenced, at the head of `q`) another round: the
    /// bit is cleared and the slot moves to the tail (or, from probation or
    /// the candidates, is promoted to protected).
    fn second_chance(&mut self, i: u32) {
        self.referenced[i as usize] = false;
        match self.queue[i as usize] {
            Queue::Window => self.window.move_to_back(&mut self.links, i),
            Queue::Protected => self.protected.move_to_back(&mut self.links, i),
            Queue::Probation | Queue::Candidate => {
                self.detach(i);
                self.attach(i, Queue::Protected);
                self.rebalance_protected();
            }
            Queue::Zero | Queue::Free => {}
        }
    }

    /// Demotes protected's oldest entries to probation while it is too big.
    fn rebalance_protected(&mut self) {
        let mut rounds = self.protected.len();
        while self.protected_weight > self.protected_max {
            let Some(i) = self.protected.front() else {
                break;
            };
            if self.referenced[i as usize] && rounds > 0 {
                rounds -= 1;
                self.referenced[i as usize] = false;
                self.protected.move_to_back(&mut self.links, i);
                continue;
            }
            self.detach(i);
            self.attach(i, Queue::Probation);
        }
    }

    /// Applies the climber's verdict, if a sample is complete.
    pub(crate) fn climb(&mut self) {
        if !self.bounded {
            return;
        }
        let delta = self.climber.adjust();
        if delta == 0 {
            return;
        }
        let target = if delta > 0 {
            self.window_max.saturating_add(delta.unsigned_abs())
        } else {
            self.window_max.saturating_sub(delta.unsigned_abs())
        };
        // The window never shrinks below its initial 1%: an empty window
        // sends every new key straight to admission, which loses the hits of
        // keys reused within a few accesses.
        self.set_window_max(target.max(percent(self.max, MIN_WINDOW_PERCENT)));
        if delta > 0 {
            // Grow: pull main's least recently used entries into the window.
            while let Some(i) = self.probation.front().or_else(|| self.protected.front()) {
                if self.window_weight + self.weight(i) > self.window_max {
                    break;
                }
                self.detach(i);
                self.attach(i, Queue::Window);
            }
        } else {
            // Shrink: the window's oldest entries move to probation.
            while self.window_weight > self.window_max {
                let Some(i) = self.window.front() else { break };
                self.detach(i);
                self.attach(i, Queue::Probation);
            }
        }
        self.rebalance_protected();
    }

    /// Starts an eviction round: the window's overflow (its least recently
    /// used, unreferenced entries) becomes admission candidates.
    pub(crate) fn begin_eviction(&mut self) {
        let mut rounds = self.window.len();
        while self.window_weight > self.window_max {
            let Some(i) = self.window.front() else { break };
            if self.referenced[i as usize] && rounds > 0 {
                rounds -= 1;
                self.second_chance(i);
                continue;
            }
            self.referenced[i as usize] = false;
            self.detach(i);
            self.attach(i, Queue::Candidate);
        }
    }

    /// Ends an eviction round: candidates that were neither evicted nor
    /// promoted join probation.
    pub(crate) fn end_eviction(&mut self) {
        while let Some(i) = self.candidates.front() {
            self.detach(i);
            self.attach(i, Queue::Probation);
        }
    }

    /// The next slot to evict while over capacity, or `None` when the cache
    /// fits. The caller unlinks its node from the table and then calls
    /// [`remove_slot`](Self::remove_slot) (or applies pending events if the
    /// node had been replaced meanwhile, and asks again).
    pub(crate) fn next_victim(&mut self) -> Option<u32> {
        loop {
            if !self.bounded || self.weighted_size() <= self.max {
                return None;
            }
            let candidate = self.candidates.front().unwrap_or(NIL);
            if candidate != NIL && self.referenced[candidate as usize] {
                // Read since it left the window: admitted and promoted.
                self.second_chance(candidate);
                continue;
            }
            let victim = self
                .probation
                .front()
                .or_else(|| self.protected.front())
                .unwrap_or(NIL);
            if victim != NIL && self.referenced[victim as usize] {
                self.second_chance(victim);
                continue;
            }
            return Some(match (candidate, victim) {
                (NIL, NIL) => self.window.front()?,
                (NIL, v) => v,
                (c, NIL) => c,
                (c, v) => {
                    if self.admit(c, v) {
                        v
                    } else {
                        c
                    }
                }
            });
        }
    }

    /// Whether candidate `c` should replace victim `v`: it must lead by more
    /// than one count (see the module docs), else a warm one wins 1 time in
    /// 128.
    fn admit(&mut self, c: u32, v: u32) -> bool {
        if self.weight(c) > self.max {
            return false;
        }
        let cf = self.sketch.frequency(sketch_key(self.hash(c)));
        let vf = self.sketch.frequency(sketch_key(self.hash(v)));
        if cf > vf.saturating_add(1) {
            return true;
        }
        if cf < 6 {
            return false;
        }
        // xorshift64: a warm candidate is admitted 1 time in 128.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng & 127 == 0
    }

    /// Every live slot (for tests).
    #[cfg(test)]
    pub(crate) fn live_slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.is_some())
            .map(|(i, _)| i as u32)
    }

    /// Heap bytes held by the policy.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Option<NodePtr<K, V>>>()
            + self.links.capacity() * std::mem::size_of::<Link>()
            + self.queue.capacity()
            + self.sketch.heap_bytes()
    }

    /// Checks the policy's internal invariants (tests and debug builds).
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let mut seen = 0u64;
        for (q, d, w) in [
            (Queue::Window, &self.window, Some(self.window_weight)),
            (
                Queue::Probation,
                &self.probation,
                Some(self.probation_weight),
            ),
            (
                Queue::Protected,
                &self.protected,
                Some(self.protected_weight),
            ),
            (Queue::Zero, &self.zero, None),
        ] {
            let mut sum = 0;
            for i in d.iter(&self.links) {
                assert_eq!(self.queue[i as usize], q);
                sum += self.weight(i);
                seen += 1;
            }
            if let Some(w) = w {
                assert_eq!(sum, w, "{q:?} weight");
            } else {
                assert_eq!(sum, 0);
            }
        }
        assert_eq!(seen, self.entries);
        assert_eq!(self.live_slots().count() as u64, self.entries);
    }
}
