//! A hierarchical timer wheel for per-entry expiration.
//!
//! # Structure
//!
//! Time is a `u64` count of nanoseconds on the cache's own clock. The wheel
//! resolves a deadline six bits at a time: there are 11 levels of 64 buckets each, and a bucket of level `L` spans `2^(6L)` ns, so a
//! whole turn of level `L` spans `2^(6L + 6)` ns:
//!
//! | level | bucket width        | one turn            |
//! |-------|---------------------|---------------------|
//! | 0     | 1 ns                | 64 ns               |
//! | 1     | 64 ns               | 4.1 µs              |
//! | 2     | 4.1 µs              | 262 µs              |
//! | 3     | 262 µs              | 16.8 ms             |
//! | 4     | 16.8 ms             | 1.07 s              |
//! | 5     | 1.07 s              | 1.14 min            |
//! | 6     | 1.14 min            | 1.22 h              |
//! | 7     | 1.22 h              | 3.26 days           |
//! | 8     | 3.26 days           | 208 days            |
//! | 9     | 208 days            | 36.5 years          |
//! | 10    | 36.5 years          | the rest of `u64`   |
//!
//! Eleven levels of six bits cover 66 bits, so every `u64` deadline, up to and
//! including `u64::MAX`, has a bucket: the top level plays the role of the
//! usual "overflow" bucket and cascades down like any other level. No
//! arithmetic in this module can overflow.
//!
//! A timer whose deadline `d` is later than the current time `now` lives at
//! the level of the highest bit in which `d` and `now` differ (divided by six),
//! in the slot given by `d`'s six bits of that level. Because `d > now`, that
//! slot is always strictly ahead of `now`'s slot on the same level, and `d`
//! agrees with `now` on every bit above the level. A bucket therefore "comes
//! due" when the clock reaches the start of its range. One extra bucket, the
//! *due* bucket, holds timers scheduled with a deadline that has already
//! passed; they are reported on the next [`TimerWheel::advance`].
//!
//! # Advancing and cascading
//!
//! [`TimerWheel::advance`] looks at each level once. Per level, a 64-bit
//! occupancy mask tells which buckets hold timers; the buckets that come due
//! between the old and the new time are those from the current slot up to the
//! new time's slot (or the whole turn, if the new time lies beyond the end of
//! the current turn), so the walk never visits more than one turn of a level
//! and never iterates elapsed ticks. Every bucket that came due is spliced, in
//! O(1), onto the due bucket; the due bucket is then drained: a timer whose
//! deadline is at or before the new time is reported and unscheduled, and any
//! other is re-placed (cascaded) relative to the new time. A cascaded timer
//! lands strictly lower than the level it came from, because it shares the
//! whole aligned range of its old bucket with the new time; so over its life a
//! timer is touched at most once per level, and schedule, reschedule, cancel
//! and advance are all amortised O(1). In practice it is touched far fewer
//! times: one advance that spans a whole turn of the fine levels skips them,
//! so with maintenance every few hundred milliseconds a timer minutes away is
//! typically re-placed two or three times before it fires. Reporting is exact to the nanosecond:
//! no timer is reported before its deadline and none is left behind after it.
//!
//! # Why indexes
//!
//! Timers are identified by the cache's dense `u32` slab indexes. Each bucket
//! is a circular doubly linked list threaded through one `Vec` of nodes (a
//! `prev` and a `next` index plus the deadline, 16 bytes, so touching a timer
//! costs one cache line): positions `0..SENTINELS` are the buckets' sentinels
//! and timer `id` lives at position `SENTINELS + id`. A timer that is not
//! scheduled has `next == NIL`. All links are `u32` indexes into a vector
//! that only grows, so even a logic error could at worst name the wrong
//! timer, never freed memory, and there is no `unsafe` here. (A
//! pointer-linked wheel can dangle when an entry's expiry is removed while the
//! wheel still links it, as in moka issue #565.) Cancelling, or scheduling an
//! id that was cancelled, unlinks and relinks it in O(1) with no allocation.
//!
//! Memory is 16 bytes per id up to the highest id ever scheduled (8 bytes of
//! links, 8 bytes of deadline) plus 11 KiB of sentinels.

/// Deadline bits resolved by one level.
const LEVEL_BITS: u32 = 6;
/// Buckets per level.
const SLOTS: usize = 1 << LEVEL_BITS;
/// Mask extracting a slot number from a shifted deadline.
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Number of levels; `LEVELS * LEVEL_BITS >= 64`, so every `u64` has a bucket.
const LEVELS: usize = 11;
/// Index of the bucket holding timers whose deadline has already passed.
const DUE: usize = LEVELS * SLOTS;
/// Number of sentinels (one per bucket), stored at the front of `nodes`.
const SENTINELS: usize = DUE + 1;
/// "No link": marks an unscheduled timer.
const NIL: u32 = u32::MAX;
/// Ids must be below this so that `SENTINELS + id` is a valid, non-`NIL` link.
const ID_LIMIT: u32 = NIL - SENTINELS as u32;

/// One node of a circular bucket list: a sentinel or a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Node {
    prev: u32,
    next: u32,
    /// The timer's deadline, meaningful only while it is scheduled (unused
    /// by sentinels).
    deadline: u64,
}

/// A timer that is not scheduled.
const UNLINKED: Node = Node {
    prev: NIL,
    next: NIL,
    deadline: 0,
};

/// The sentinel of `bucket` with an empty list.
const fn empty_sentinel(bucket: usize) -> Node {
    Node {
        prev: bucket as u32,
        next: bucket as u32,
        deadline: 0,
    }
}

/// A hierarchical timer wheel keyed by dense `u32` ids, with nanosecond
/// deadlines; see the module documentation for the layout.
///
/// Single-threaded: the cache keeps it behind its maintenance lock.
#[derive(Debug)]
pub(crate) struct TimerWheel {
    /// The wheel's current time; every timer outside the due bucket has a
    /// deadline later than this.
    now: u64,
    /// Sentinels at `0..SENTINELS`, then timer `id` at `SENTINELS + id`.
    nodes: Vec<Node>,
    /// Per level, bit `s` is set iff bucket `s` of that level is non-empty.
    occupied: [u64; LEVELS],
    /// Number of scheduled timers.
    len: usize,
}

impl TimerWheel {
    /// A wheel whose current time is `now`.
    pub(crate) fn new(now: u64) -> Self {
        TimerWheel {
            now,
            nodes: (0..SENTINELS).map(empty_sentinel).collect(),
            occupied: [0; LEVELS],
            len: 0,
        }
    }

    /// Schedules (or moves, if already scheduled) timer `id` to fire at
    /// `deadline`.
    ///
    /// A deadline at or before the current time fires on the next
    /// [`advance`](Self::advance).
    ///
    /// # Panics
    ///
    /// If `id >= u32::MAX - 705` (such ids cannot be linked; a slab that
    /// large would need 64 GiB for the wheel alone).
    pub(crate) fn schedule(&mut self, id: u32, deadline: u64) {
        assert!(id < ID_LIMIT, "timer id {id} is out of range");
        let node = SENTINELS + id as usize;
        if node >= self.nodes.len() {
            self.nodes.resize(node + 1, UNLINKED);
        }
        if self.nodes[node].next == NIL {
            self.len += 1;
        } else if self.nodes[node].deadline == deadline {
            // Its bucket is still the right one.
            return;
        } else {
            self.unlink(node);
        }
        self.nodes[node].deadline = deadline;
        let bucket = self.bucket_for(deadline);
        self.link(bucket, node);
    }

    /// Removes timer `id` if scheduled; no-op otherwise.
    pub(crate) fn cancel(&mut self, id: u32) {
        if let Some(node) = self.scheduled_node(id) {
            self.unlink(node);
            self.len -= 1;
        }
    }

    /// Whether timer `id` is scheduled.
    #[cfg_attr(not(test), allow(dead_code))] // used by tests and invariant checks
    pub(crate) fn is_scheduled(&self, id: u32) -> bool {
        self.scheduled_node(id).is_some()
    }

    /// The deadline `id` is scheduled for, if any.
    #[cfg_attr(not(test), allow(dead_code))] // used by tests and invariant checks
    pub(crate) fn deadline(&self, id: u32) -> Option<u64> {
        self.scheduled_node(id)
            .map(|node| self.nodes[node].deadline)
    }

    /// Moves time forward to `now` (a `now` earlier than the current time is
    /// treated as the current time) and appends to `expired` every scheduled id
    /// whose deadline is at or before it, unscheduling them.
    ///
    /// Exact: an id is never reported before its deadline, and never left
    /// behind once its deadline is at or before `now`. Timers in buckets that
    /// come due but whose own deadline is still in the future are re-placed
    /// (cascaded) into the right finer bucket.
    pub(crate) fn advance(&mut self, now: u64, expired: &mut Vec<u32>) {
        if now > self.now {
            for level in 0..LEVELS {
                let due = self.occupied[level] & self.due_slots(level, now);
                if due == 0 {
                    continue;
                }
                self.occupied[level] &= !due;
                let mut rest = due;
                while rest != 0 {
                    let slot = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    self.splice_into_due(level * SLOTS + slot);
                }
            }
            self.now = now;
        }
        self.drain_due(expired);
    }

    /// Number of scheduled timers.
    #[cfg_attr(not(test), allow(dead_code))] // used by tests and invariant checks
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes used.
    #[cfg_attr(not(test), allow(dead_code))] // used by tests and invariant checks
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
    }

    /// The node of `id` if it is scheduled.
    fn scheduled_node(&self, id: u32) -> Option<usize> {
        if id >= ID_LIMIT {
            return None;
        }
        let node = SENTINELS + id as usize;
        match self.nodes.get(node) {
            Some(link) if link.next != NIL => Some(node),
            _ => None,
        }
    }

    /// The bucket a timer with `deadline` belongs in at the current time.
    fn bucket_for(&self, deadline: u64) -> usize {
        if deadline <= self.now {
            return DUE;
        }
        // Non-zero since `deadline > now`; the highest differing bit picks the level.
        let top_bit = u64::BITS - 1 - (deadline ^ self.now).leading_zeros();
        let level = top_bit / LEVEL_BITS;
        let slot = (deadline >> (level * LEVEL_BITS)) & SLOT_MASK;
        level as usize * SLOTS + slot as usize
    }

    /// Mask of the slots of `level` whose buckets come due by time `to`
    /// (`to > self.now`). Slots at or behind the current slot are always empty,
    /// so including them is harmless.
    fn due_slots(&self, level: usize, to: u64) -> u64 {
        let shift = level as u32 * LEVEL_BITS;
        let turn_shift = shift + LEVEL_BITS;
        if turn_shift < u64::BITS && (self.now >> turn_shift) != (to >> turn_shift) {
            // `to` is past the end of the current turn of this level: all of it is due.
            return u64::MAX;
        }
        let to_slot = ((to >> shift) & SLOT_MASK) as u32;
        u64::MAX >> (SLOT_MASK as u32 - to_slot)
    }

    /// Appends `node` to the list of `bucket`.
    fn link(&mut self, bucket: usize, node: usize) {
        let tail = self.nodes[bucket].prev;
        self.nodes[node].prev = tail;
        self.nodes[node].next = bucket as u32;
        self.nodes[tail as usize].next = node as u32;
        self.nodes[bucket].prev = node as u32;
        if bucket < DUE {
            self.occupied[bucket / SLOTS] |= 1 << (bucket % SLOTS);
        }
    }

    /// Takes `node` out of its bucket and marks it unscheduled.
    fn unlink(&mut self, node: usize) {
        let Node { prev, next, .. } = self.nodes[node];
        self.nodes[prev as usize].next = next;
        self.nodes[next as usize].prev = prev;
        self.nodes[node] = UNLINKED;
        // A node whose neighbours are one and the same was the only timer of
        // its bucket, and that neighbour is the bucket's sentinel.
        if prev == next && (prev as usize) < DUE {
            let bucket = prev as usize;
            self.occupied[bucket / SLOTS] &= !(1 << (bucket % SLOTS));
        }
    }

    /// Moves the whole (non-empty) list of `bucket` onto the end of the due
    /// bucket, in O(1). The caller clears the occupancy bit.
    fn splice_into_due(&mut self, bucket: usize) {
        let Node {
            prev: last,
            next: first,
            ..
        } = self.nodes[bucket];
        if first as usize == bucket {
            return;
        }
        let due_tail = self.nodes[DUE].prev;
        self.nodes[due_tail as usize].next = first;
        self.nodes[first as usize].prev = due_tail;
        self.nodes[last as usize].next = DUE as u32;
        self.nodes[DUE].prev = last;
        self.nodes[bucket] = empty_sentinel(bucket);
    }

    /// Empties the due bucket: reports and unschedules the timers whose
    /// deadline has passed and re-places the others relative to `self.now`.
    fn drain_due(&mut self, expired: &mut Vec<u32>) {
        let mut node = self.nodes[DUE].next;
        self.nodes[DUE] = empty_sentinel(DUE);
        while node as usize != DUE {
            let Node { next, deadline, .. } = self.nodes[node as usize];
            if deadline <= self.now {
                self.nodes[node as usize] = UNLINKED;
                self.len -= 1;
                expired.push(node - SENTINELS as u32);
            } else {
                let bucket = self.bucket_for(deadline);
                self.link(bucket, node as usize);
            }
            node = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngCore};
    use std::collections::{BTreeSet, HashMap};

    /// Checks every structural invariant of the wheel: list integrity,
    /// placement of each timer relative to `now`, occupancy masks and `len`.
    fn check_invariants(w: &TimerWheel) {
        let mut seen = 0usize;
        for bucket in 0..SENTINELS {
            let marked = bucket == DUE || w.occupied[bucket / SLOTS] >> (bucket % SLOTS) & 1 == 1;
            if !marked {
                // A bucket whose occupancy bit is clear must be empty.
                let empty = empty_sentinel(bucket);
                assert_eq!(w.nodes[bucket], empty, "unmarked bucket {bucket} not empty");
                continue;
            }
            let mut prev = bucket as u32;
            let mut node = w.nodes[bucket].next;
            let mut count = 0usize;
            while node as usize != bucket {
                assert!(
                    node as usize >= SENTINELS,
                    "sentinel {node} inside bucket {bucket}"
                );
                assert_eq!(w.nodes[node as usize].prev, prev, "broken prev link");
                let id = node as usize - SENTINELS;
                let d = w.nodes[node as usize].deadline;
                if bucket == DUE {
                    assert!(d <= w.now, "due timer {id} has future deadline");
                } else {
                    assert!(d > w.now, "timer {id} in wheel is overdue");
                    assert_eq!(w.bucket_for(d), bucket, "timer {id} misplaced");
                }
                count += 1;
                assert!(count <= w.len, "cycle in bucket {bucket}");
                prev = node;
                node = w.nodes[node as usize].next;
            }
            assert_eq!(w.nodes[bucket].prev, prev, "sentinel prev link");
            assert!(
                bucket == DUE || count > 0,
                "marked bucket {bucket} is empty"
            );
            seen += count;
        }
        assert_eq!(seen, w.len);
        let scheduled = w.nodes[SENTINELS..]
            .iter()
            .filter(|l| l.next != NIL)
            .count();
        assert_eq!(scheduled, w.len);
    }

    /// SplitMix64: a tiny seeded generator that, unlike the ChaCha-based
    /// `StdRng`, stays fast under miri.
    struct TestRng(u64);

    impl RngCore for TestRng {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn next_u32(&mut self) -> u32 {
            (self.next_u64() >> 32) as u32
        }

        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for chunk in dest.chunks_mut(8) {
                let bytes = self.next_u64().to_le_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
        }

        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    /// The obviously correct reference: an ordered set of (deadline, id).
    struct Model {
        now: u64,
        by_time: BTreeSet<(u64, u32)>,
        by_id: HashMap<u32, u64>,
    }

    impl Model {
        fn new(now: u64) -> Self {
            Model {
                now,
                by_time: BTreeSet::new(),
                by_id: HashMap::new(),
            }
        }

        fn schedule(&mut self, id: u32, deadline: u64) {
            self.cancel(id);
            self.by_time.insert((deadline, id));
            self.by_id.insert(id, deadline);
        }

        fn cancel(&mut self, id: u32) {
            if let Some(d) = self.by_id.remove(&id) {
                self.by_time.remove(&(d, id));
            }
        }

        fn advance(&mut self, now: u64) -> Vec<u32> {
            self.now = self.now.max(now);
            let mut out = Vec::new();
            while let Some(&(d, id)) = self.by_time.first() {
                if d > self.now {
                    break;
                }
                self.by_time.remove(&(d, id));
                self.by_id.remove(&id);
                out.push(id);
            }
            out.sort_unstable();
            out
        }
    }

    fn advance_sorted(w: &mut TimerWheel, now: u64) -> Vec<u32> {
        let mut out = Vec::new();
        w.advance(now, &mut out);
        out.sort_unstable();
        out
    }

    /// A distance drawn from one of many scales, nanoseconds to weeks; with
    /// `wild`, sometimes any magnitude up to `u64::MAX`.
    fn span(rng: &mut TestRng, wild: bool) -> u64 {
        let bits = match rng.gen_range(0..if wild { 9 } else { 8 }) {
            0 => 4,  // ns
            1 => 12, // µs
            2 => 24, // ms
            3 => 32, // seconds
            4 => 38, // minutes
            5 => 43, // hours
            6 => 48, // days
            7 => 51, // weeks
            _ => rng.gen_range(1..=64),
        };
        rng.gen_range(0..=(u64::MAX >> (64 - bits)))
    }

    fn random_deadline(rng: &mut TestRng, now: u64) -> u64 {
        match rng.gen_range(0..40) {
            0 | 1 => now,
            2 | 3 => now.saturating_sub(span(rng, true)),
            4 | 5 => u64::MAX - rng.gen_range(0..1024),
            6 => rng.gen(),
            7 => now.saturating_add(1),
            8 | 9 => now.saturating_add(span(rng, true)),
            _ => now.saturating_add(span(rng, false)),
        }
    }

    /// Mostly short steps, sometimes long ones (days, weeks), rarely huge
    /// jumps, so that the wheel stays populated on every level.
    fn random_advance(rng: &mut TestRng, now: u64) -> u64 {
        let bits = match rng.gen_range(0..1000) {
            0..=24 => return now.saturating_sub(span(rng, true)),
            25..=49 => return now,
            50..=74 => return now.saturating_add(1),
            75 => return now.saturating_add(rng.gen_range(0..=u64::MAX >> 4)),
            76 => return now.saturating_add(span(rng, true)),
            77..=280 => 4,   // ns
            281..=480 => 12, // µs
            481..=680 => 24, // ms
            681..=830 => 32, // seconds
            831..=910 => 38, // minutes
            911..=960 => 43, // hours
            961..=985 => 48, // days
            _ => 51,         // weeks
        };
        now.saturating_add(rng.gen_range(0..=u64::MAX >> (64 - bits)))
    }

    /// Random schedule / reschedule / cancel / advance against the model.
    /// Whenever time reaches `u64::MAX` the episode ends and a fresh wheel
    /// starts at one of `starts`. Returns the number of ids reported.
    fn run_against_model(
        seed: u64,
        starts: &[u64],
        ops: usize,
        ids: u32,
        check_every: usize,
    ) -> usize {
        let mut rng = TestRng(seed);
        let mut start = starts[seed as usize % starts.len()];
        let mut wheel = TimerWheel::new(start);
        let mut model = Model::new(start);
        let mut reported = 0;
        for step in 0..ops {
            let id = rng.gen_range(0..ids);
            match rng.gen_range(0..10) {
                0..=4 => {
                    let d = random_deadline(&mut rng, model.now);
                    wheel.schedule(id, d);
                    model.schedule(id, d);
                }
                5 => {
                    wheel.cancel(id);
                    model.cancel(id);
                }
                _ => {
                    let to = random_advance(&mut rng, model.now);
                    let got = advance_sorted(&mut wheel, to);
                    let want = model.advance(to);
                    assert_eq!(
                        got, want,
                        "seed {seed} start {start} step {step}: advance to {to}"
                    );
                    reported += got.len();
                }
            }
            assert_eq!(wheel.len(), model.by_id.len(), "seed {seed} step {step}");
            assert_eq!(wheel.deadline(id), model.by_id.get(&id).copied());
            assert_eq!(wheel.is_scheduled(id), model.by_id.contains_key(&id));
            if step % check_every == 0 {
                check_invariants(&wheel);
                for i in 0..ids {
                    assert_eq!(wheel.deadline(i), model.by_id.get(&i).copied());
                }
            }
            if model.now == u64::MAX {
                check_invariants(&wheel);
                start = starts[rng.gen_range(0..starts.len())];
                wheel = TimerWheel::new(start);
                model = Model::new(start);
            }
        }
        check_invariants(&wheel);
        let got = advance_sorted(&mut wheel, u64::MAX);
        assert_eq!(got, model.advance(u64::MAX));
        assert_eq!(wheel.len(), 0);
        check_invariants(&wheel);
        reported + got.len()
    }

    const STARTS: [u64; 5] = [
        0,
        1 << 40,
        u64::MAX >> 1,
        u64::MAX - (1 << 50),
        u64::MAX - (1 << 20),
    ];

    #[test]
    fn matches_model_on_random_operations() {
        let (seeds, ops) = if cfg!(miri) { (1, 40) } else { (12, 20_000) };
        for seed in 0..seeds {
            let reported =
                run_against_model(seed, &STARTS, ops, if cfg!(miri) { 40 } else { 300 }, 64);
            assert!(reported > ops / 10, "seed {seed}: only {reported} reported");
        }
    }

    #[test]
    fn matches_model_with_many_timers() {
        let (ops, ids) = if cfg!(miri) {
            (40, 20)
        } else {
            (200_000, 20_000)
        };
        let reported = run_against_model(99, &[12_345], ops, ids, 4096);
        assert!(reported > ops / 10, "only {reported} reported");
    }

    #[test]
    fn deadline_equal_to_now_expires_and_one_before_does_not() {
        for d in [1, 63, 64, 65, 1 << 30, (1 << 36) + 7, u64::MAX - 1] {
            let mut w = TimerWheel::new(0);
            w.schedule(7, d);
            assert!(advance_sorted(&mut w, d - 1).is_empty(), "deadline {d}");
            assert!(w.is_scheduled(7));
            assert_eq!(advance_sorted(&mut w, d), vec![7], "deadline {d}");
            assert!(!w.is_scheduled(7));
            assert_eq!(w.len(), 0);
        }
    }

    #[test]
    fn power_of_two_boundaries_fire_exactly() {
        let mut w = TimerWheel::new(0);
        let mut deadlines = Vec::new();
        let step = if cfg!(miri) { 7 } else { 1 };
        for k in (0..64u32).step_by(step) {
            let p = 1u64 << k;
            deadlines.extend([p - 1, p, p.saturating_add(1)]);
        }
        deadlines.push(u64::MAX);
        deadlines.sort_unstable();
        deadlines.dedup();
        for (i, &d) in deadlines.iter().enumerate() {
            w.schedule(i as u32, d);
        }
        check_invariants(&w);
        for (i, &d) in deadlines.iter().enumerate() {
            if d > 0 {
                assert!(advance_sorted(&mut w, d - 1).is_empty(), "early at {d}");
            }
            assert_eq!(advance_sorted(&mut w, d), vec![i as u32], "deadline {d}");
            if !cfg!(miri) || i % 64 == 0 {
                check_invariants(&w);
            }
        }
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn past_deadline_fires_on_next_advance() {
        let mut w = TimerWheel::new(1_000_000);
        w.schedule(1, 5);
        w.schedule(2, 999_999);
        w.schedule(3, 1_000_000);
        assert_eq!(w.len(), 3);
        assert_eq!(w.deadline(1), Some(5));
        // Even an advance that does not move time reports them.
        assert_eq!(advance_sorted(&mut w, 1_000_000), vec![1, 2, 3]);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn advance_backwards_is_treated_as_current_time() {
        let mut w = TimerWheel::new(0);
        assert!(advance_sorted(&mut w, 1 << 40).is_empty());
        w.schedule(1, (1 << 40) + 10);
        assert!(advance_sorted(&mut w, 5).is_empty());
        w.schedule(2, 100); // in the past relative to the wheel's time
        assert_eq!(advance_sorted(&mut w, 0), vec![2]);
        assert_eq!(advance_sorted(&mut w, (1 << 40) + 10), vec![1]);
    }

    #[test]
    fn max_deadline_fires_only_at_u64_max() {
        let mut w = TimerWheel::new(0);
        w.schedule(1, u64::MAX);
        w.schedule(2, u64::MAX - 1);
        let mut now = 0u64;
        for step in [1u64 << 30, 1 << 40, 1 << 50, 1 << 60, 1 << 62] {
            now += step;
            assert!(advance_sorted(&mut w, now).is_empty());
        }
        assert!(advance_sorted(&mut w, u64::MAX - 2).is_empty());
        assert_eq!(advance_sorted(&mut w, u64::MAX - 1), vec![2]);
        assert_eq!(advance_sorted(&mut w, u64::MAX), vec![1]);
        // Time cannot move further; scheduling at the end of time still works.
        w.schedule(3, u64::MAX);
        w.schedule(4, 0);
        assert_eq!(advance_sorted(&mut w, u64::MAX), vec![3, 4]);
        let mut w = TimerWheel::new(u64::MAX);
        w.schedule(5, u64::MAX);
        assert_eq!(advance_sorted(&mut w, 0), vec![5]);
        check_invariants(&w);
    }

    #[test]
    fn reschedule_between_far_and_near() {
        let mut w = TimerWheel::new(0);
        let day = 86_400_000_000_000u64;
        w.schedule(1, 30 * day);
        w.schedule(2, 30 * day);
        w.schedule(1, 1_000); // far -> near
        check_invariants(&w);
        assert_eq!(advance_sorted(&mut w, 999), Vec::<u32>::new());
        assert_eq!(advance_sorted(&mut w, 1_000), vec![1]);
        w.schedule(1, 2_000);
        w.schedule(1, 40 * day); // near -> far
        assert_eq!(w.deadline(1), Some(40 * day));
        assert!(advance_sorted(&mut w, 2_000).is_empty());
        assert_eq!(advance_sorted(&mut w, 30 * day), vec![2]);
        assert_eq!(advance_sorted(&mut w, 40 * day - 1), Vec::<u32>::new());
        assert_eq!(advance_sorted(&mut w, 40 * day), vec![1]);
        check_invariants(&w);
    }

    #[test]
    fn cancel_then_reschedule_leaves_no_dangling_link() {
        // moka #565: expiry Some -> None -> Some must not leave stale links behind.
        let mut w = TimerWheel::new(0);
        w.schedule(3, 500);
        w.schedule(4, 500);
        w.schedule(5, 500);
        w.cancel(4);
        w.cancel(4); // second cancel is a no-op
        w.cancel(77); // never scheduled, beyond the arrays
        assert!(!w.is_scheduled(4));
        assert_eq!(w.deadline(4), None);
        assert_eq!(w.len(), 2);
        check_invariants(&w);
        // The cancelled id's old neighbours are intact and fire.
        assert_eq!(advance_sorted(&mut w, 500), vec![3, 5]);
        // Re-scheduling the cancelled id works and fires once.
        w.schedule(4, 600);
        check_invariants(&w);
        w.cancel(4);
        w.schedule(4, 700);
        assert_eq!(advance_sorted(&mut w, 650), Vec::<u32>::new());
        assert_eq!(advance_sorted(&mut w, 700), vec![4]);
        assert_eq!(advance_sorted(&mut w, u64::MAX), Vec::<u32>::new());
        // Cancel of the only timer of a bucket clears its occupancy.
        w.schedule(9, u64::MAX - 3);
        w.cancel(9);
        check_invariants(&w);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn sparse_large_ids() {
        let big: u32 = if cfg!(miri) { 2_000 } else { 999_999 };
        let mut w = TimerWheel::new(0);
        w.schedule(big, 1 << 33);
        assert!(w.heap_bytes() >= 16 * (big as usize + 1));
        w.schedule(0, 1 << 20);
        w.schedule(big / 2, 1 << 40);
        assert!(!w.is_scheduled(big - 1));
        assert_eq!(w.deadline(big), Some(1 << 33));
        assert_eq!(advance_sorted(&mut w, 1 << 33), vec![0, big]);
        assert_eq!(advance_sorted(&mut w, 1 << 41), vec![big / 2]);
        assert!(!w.is_scheduled(u32::MAX));
        w.cancel(u32::MAX);
        assert_eq!(w.deadline(u32::MAX), None);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn id_that_cannot_be_linked_is_rejected() {
        TimerWheel::new(0).schedule(u32::MAX, 1);
    }

    #[test]
    fn long_gap_reports_every_level_in_one_call() {
        // A long gap must not walk elapsed ticks: advancing from 0 to near the
        // end of time with timers spread over all levels reports them all in
        // one call, and the wheel stays consistent.
        let mut w = TimerWheel::new(0);
        for k in 0..64u32 {
            w.schedule(k, 1u64 << k);
        }
        let mut out = Vec::new();
        w.advance(1 << 50, &mut out);
        out.sort_unstable();
        assert_eq!(out, (0..=50).collect::<Vec<u32>>());
        check_invariants(&w);
        assert_eq!(w.len(), 13);
    }
}
