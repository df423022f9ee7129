//! The lock-striped hash table whose readers never lock.
//!
//! The table is split into a power-of-two number of *stripes*, chosen by the
//! top bits of a key's hash. Each stripe has its own open-addressing bucket
//! array (linear probing) and its own `parking_lot` mutex, which writers hold
//! for the few loads and stores of one insert, replace or remove, and which
//! also guards the stripe's buffer of write events for the policy.
//!
//! # Reads
//! A reader pins a `crossbeam-epoch` guard, loads the stripe's current bucket
//! array (acquire), and probes it: a byte array of *tags* (7 bits of the hash,
//! or EMPTY / TOMBSTONE) lets it skip non-matching slots without touching
//! their nodes; on a tag match it loads the slot's node pointer (acquire) and
//! compares the full hash and then the key. An EMPTY tag ends the probe.
//!
//! # Writes
//! Under the stripe lock a writer probes the same way, then either
//! * stores a new node into a vacant slot: pointer first, then tag (both
//!   release), so a reader that sees the tag sees the node;
//! * replaces the node of an existing key with a single release store of the
//!   slot pointer (the tag stays): a reader sees the old node or the new one;
//! * removes a key: tag := TOMBSTONE, pointer := null.
//!
//! Tags only ever go EMPTY -> live -> TOMBSTONE -> live ... within one array,
//! so a key present throughout a read stays reachable from its home slot.
//!
//! # Resizing
//! When live entries plus tombstones pass 7/8 of a stripe's slots, the writer
//! builds a new array sized for the live entries (growing or shrinking, and
//! dropping tombstones), copies the node pointers into it (nodes themselves do
//! not move: no user code such as `Hash` runs, the stored hash is reused),
//! publishes it with a release store and retires the old array through the
//! epoch collector. A reader still probing the old array sees a consistent
//! earlier state of that stripe. Other stripes are not stopped.
//!
//! The table never frees a node it unlinks: the caller gets it back and hands
//! it to the policy, which retires it (see `node.rs`). Nodes still linked when
//! the table is dropped are freed by the table's `Drop`.

use crate::node::Node;
use crate::shim::{AtomicU64, AtomicU8, Mutex, MutexGuard, Ordering};
use crossbeam_epoch::{Atomic, Guard, Owned, Shared};
use std::borrow::Borrow;

const EMPTY: u8 = 0;
const TOMBSTONE: u8 = 1;
/// Smallest bucket array of a stripe.
const MIN_SLOTS: usize = 4;

/// The tag stored for a live entry: 7 hash bits that neither the stripe index
/// (top bits) nor the home slot (low bits) use, with the high bit set.
#[inline]
fn tag_of(hash: u64) -> u8 {
    0x80 | ((hash >> 40) as u8 & 0x7f)
}

/// One open-addressing array of a stripe.
struct Buckets<K, V> {
    tags: Box<[AtomicU8]>,
    slots: Box<[Atomic<Node<K, V>>]>,
}

impl<K, V> Buckets<K, V> {
    fn with_slots(n: usize) -> Self {
        debug_assert!(n.is_power_of_two());
        Self {
            tags: (0..n).map(|_| AtomicU8::new(EMPTY)).collect(),
            slots: (0..n).map(|_| Atomic::null()).collect(),
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }
}

/// What a stripe's lock guards besides its array.
pub(crate) struct StripeState<E> {
    /// Live entries in the current array.
    len: usize,
    /// Tombstones in the current array.
    tombstones: usize,
    /// Write events for the policy, in the order they happened.
    pub(crate) events: Vec<E>,
}

/// A stripe, padded to its own cache lines so stripes do not false-share.
#[repr(align(128))]
struct Stripe<K, V, E> {
    state: Mutex<StripeState<E>>,
    buckets: Atomic<Buckets<K, V>>,
}

/// The striped table. `E` is the type of the write events buffered per stripe.
pub(crate) struct Table<K, V, E> {
    stripes: Box<[Stripe<K, V, E>]>,
    /// `hash >> shift` is the stripe index (unused when there is one stripe).
    shift: u32,
    /// One bit per stripe whose event buffer is non-empty.
    dirty: Box<[AtomicU64]>,
}

/// Where a key is, or where it would go, in a locked stripe.
pub(crate) enum Probe {
    /// The key is in this slot.
    Found(usize),
    /// The key is absent; this is the slot an insert would use.
    Vacant(usize),
}

impl<K, V, E> Table<K, V, E> {
    /// A table with `stripes` stripes (rounded to a power of two, at most
    /// 4096), sized for about `initial_capacity` entries.
    pub(crate) fn new(stripes: usize, initial_capacity: usize) -> Self {
        let stripes = stripes.clamp(1, 4096).next_power_of_two();
        let per_stripe = slots_for(initial_capacity.div_ceil(stripes));
        let bits = stripes.trailing_zeros();
        Self {
            stripes: (0..stripes)
                .map(|_| Stripe {
                    state: Mutex::new(StripeState {
                        len: 0,
                        tombstones: 0,
                        events: Vec::new(),
                    }),
                    buckets: Atomic::new(Buckets::with_slots(per_stripe)),
                })
                .collect(),
            shift: 64 - bits,
            dirty: (0..stripes.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    /// Number of stripes.
    pub(crate) fn stripe_count(&self) -> usize {
        self.stripes.len()
    }

    #[inline]
    fn stripe_index(&self, hash: u64) -> usize {
        if self.shift >= 64 {
            0
        } else {
            (hash >> self.shift) as usize
        }
    }

    /// Finds the live node for `key`, without locking.
    #[inline]
    pub(crate) fn find<'g, Q>(&self, hash: u64, key: &Q, guard: &'g Guard) -> Option<&'g Node<K, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let stripe = &self.stripes[self.stripe_index(hash)];
        let buckets = stripe.buckets.load(Ordering::Acquire, guard);
        // SAFETY: a stripe's array pointer is never null, and an array is
        // destroyed only through `defer_destroy` after being replaced, so it
        // outlives `guard`, which was pinned before this load.
        let buckets = unsafe { buckets.deref() };
        let tag = tag_of(hash);
        let mask = buckets.mask();
        let mut i = hash as usize & mask;
        for _ in 0..=mask {
            let t = buckets.tags[i].load(Ordering::Acquire);
            if t == EMPTY {
                return None;
            }
            if t == tag {
                let p = buckets.slots[i].load(Ordering::Acquire, guard);
                // SAFETY: nodes are published with release stores after being
                // fully initialised, and freed only after an epoch grace
                // period that starts once they are unlinked (maintenance's
                // retirement batches, `RetiredBatch` in core.rs), so a node
                // loaded under `guard` stays valid for `'g`.
                if let Some(node) = unsafe { p.as_ref() } {
                    if node.hash == hash && node.key.as_ref().borrow() == key {
                        return Some(node);
                    }
                }
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Locks the stripe that owns `hash`.
    pub(crate) fn lock(&self, hash: u64) -> Locked<'_, K, V, E> {
        let index = self.stripe_index(hash);
        let stripe = &self.stripes[index];
        Locked {
            state: stripe.state.lock(),
            stripe,
            index,
            dirty: &self.dirty,
        }
    }

    /// Locks stripe number `index`.
    pub(crate) fn lock_stripe(&self, index: usize) -> Locked<'_, K, V, E> {
        let stripe = &self.stripes[index];
        Locked {
            state: stripe.state.lock(),
            stripe,
            index,
            dirty: &self.dirty,
        }
    }

    /// Clears and returns the dirty-stripe bits of word `w`.
    pub(crate) fn take_dirty_word(&self, w: usize) -> u64 {
        self.dirty[w].swap(0, Ordering::AcqRel)
    }

    /// Number of dirty-bit words.
    pub(crate) fn dirty_words(&self) -> usize {
        self.dirty.len()
    }

    /// Calls `f` on every live node of stripe `index` (lock-free, weakly
    /// consistent).
    pub(crate) fn for_each_in_stripe<'g>(
        &self,
        index: usize,
        guard: &'g Guard,
        mut f: impl FnMut(&'g Node<K, V>),
    ) where
        K: 'g,
        V: 'g,
    {
        let buckets = self.stripes[index].buckets.load(Ordering::Acquire, guard);
        // SAFETY: see `find`.
        let buckets = unsafe { buckets.deref() };
        for (t, slot) in buckets.tags.iter().zip(buckets.slots.iter()) {
            if t.load(Ordering::Acquire) >= 0x80 {
                // SAFETY: see `find`.
                if let Some(node) = unsafe { slot.load(Ordering::Acquire, guard).as_ref() } {
                    f(node);
                }
            }
        }
    }

    /// Takes every stripe's pending events, for `Drop` of the owner.
    pub(crate) fn drain_events_mut(&mut self) -> Vec<E> {
        let mut all = Vec::new();
        for s in self.stripes.iter_mut() {
            all.append(&mut s.state.get_mut().events);
        }
        all
    }

    /// Heap bytes of the bucket arrays (for memory reports).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        let guard = crossbeam_epoch::pin();
        self.stripes
            .iter()
            .map(|s| {
                // SAFETY: see `find`.
                let b = unsafe { s.buckets.load(Ordering::Acquire, &guard).deref() };
                b.slots.len() * (std::mem::size_of::<Atomic<Node<K, V>>>() + 1)
            })
            .sum()
    }
}

/// Slots for `entries` entries at a load factor of at most 3/4.
fn slots_for(entries: usize) -> usize {
    entries
        .saturating_mul(4)
        .div_ceil(3)
        .max(MIN_SLOTS)
        .checked_next_power_of_two()
        .unwrap_or(1 << (usize::BITS - 1))
}

impl<K, V, E> Drop for Table<K, V, E> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no reader or writer can access the table, so
        // the unprotected guard is sound; linked nodes are owned by the table
        // (unlinked ones were handed to the policy and are not in any array).
        unsafe {
            let guard = crossbeam_epoch::unprotected();
            for s in self.stripes.iter() {
                let b = s.buckets.load(Ordering::Relaxed, guard);
                let buckets = b.deref();
                for (t, slot) in buckets.tags.iter().zip(buckets.slots.iter()) {
                    if t.load(Ordering::Relaxed) >= 0x80 {
                        let p = slot.load(Ordering::Relaxed, guard);
                        if !p.is_null() {
                            drop(p.into_owned());
                        }
                    }
                }
                drop(b.into_owned());
            }
        }
    }
}

/// A locked stripe: the writer's view.
pub(crate) struct Locked<'a, K, V, E> {
    state: MutexGuard<'a, StripeState<E>>,
    stripe: &'a Stripe<K, V, E>,
    index: usize,
    dirty: &'a [AtomicU64],
}

impl<'a, K, V, E> Locked<'a, K, V, E> {
    fn buckets<'g>(&self, guard: &'g Guard) -> &'g Buckets<K, V> {
        // SAFETY: we hold the stripe lock, so the array cannot be replaced
        // and retired underneath us; `guard` protects it anyway.
        unsafe { self.stripe.buckets.load(Ordering::Acquire, guard).deref() }
    }

    /// Probes for `key`. Calls the key's `Eq` (user code) but changes nothing,
    /// so a panic leaves the stripe as it was.
    pub(crate) fn probe<Q>(&self, hash: u64, key: &Q, guard: &Guard) -> Probe
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let b = self.buckets(guard);
        let tag = tag_of(hash);
        let mask = b.mask();
        let mut i = hash as usize & mask;
        let mut vacant = None;
        for _ in 0..=mask {
            let t = b.tags[i].load(Ordering::Relaxed);
            if t == EMPTY {
                return Probe::Vacant(vacant.unwrap_or(i));
            }
            if t == TOMBSTONE {
                vacant.get_or_insert(i);
            } else if t == tag {
                // SAFETY: we hold the lock; linked nodes are alive.
                let node = unsafe { b.slots[i].load(Ordering::Relaxed, guard).deref() };
                if node.hash == hash && node.key.as_ref().borrow() == key {
                    return Probe::Found(i);
                }
            }
            i = (i + 1) & mask;
        }
        // The load-factor rule keeps an EMPTY slot, so a full wrap only
        // happens when the whole array is tombstones and live entries.
        Probe::Vacant(vacant.expect("stripe array has no vacant slot"))
    }

    /// The node in slot `i` (which `probe` reported as `Found`).
    pub(crate) fn node_at<'g>(&self, i: usize, guard: &'g Guard) -> &'g Node<K, V> {
        // SAFETY: slot `i` holds a live node (caller got it from `probe`
        // under this lock).
        unsafe {
            self.buckets(guard).slots[i]
                .load(Ordering::Relaxed, guard)
                .deref()
        }
    }

    /// Replaces the node in slot `i`; returns the old node, now unlinked.
    pub(crate) fn replace<'g>(
        &mut self,
        i: usize,
        new: Owned<Node<K, V>>,
        guard: &'g Guard,
    ) -> Shared<'g, Node<K, V>> {
        let b = self.buckets(guard);
        b.slots[i].swap(new, Ordering::AcqRel, guard)
    }

    /// Unlinks the node in slot `i`; returns it.
    pub(crate) fn remove_at<'g>(&mut self, i: usize, guard: &'g Guard) -> Shared<'g, Node<K, V>> {
        let b = self.buckets(guard);
        b.tags[i].store(TOMBSTONE, Ordering::Release);
        let old = b.slots[i].swap(Shared::null(), Ordering::AcqRel, guard);
        self.state.len -= 1;
        self.state.tombstones += 1;
        old
    }

    /// Inserts a node for a key that `probe` reported `Vacant(i)`. May
    /// rebuild the array first, in which case it finds a new vacant slot.
    /// Returns the published node.
    pub(crate) fn insert_vacant<'g>(
        &mut self,
        i: usize,
        node: Owned<Node<K, V>>,
        guard: &'g Guard,
    ) -> Shared<'g, Node<K, V>> {
        let hash = node.hash;
        let mut b = self.buckets(guard);
        let reuses_tombstone = b.tags[i].load(Ordering::Relaxed) == TOMBSTONE;
        let mut i = i;
        let occupied = self.state.len + self.state.tombstones + usize::from(!reuses_tombstone);
        if occupied * 8 > b.slots.len() * 7 {
            self.rebuild(self.state.len + 1, guard);
            b = self.buckets(guard);
            i = vacant_slot(b, hash);
        }
        let tag_was = b.tags[i].load(Ordering::Relaxed);
        let shared = node.into_shared(guard);
        b.slots[i].store(shared, Ordering::Release);
        b.tags[i].store(tag_of(hash), Ordering::Release);
        if tag_was == TOMBSTONE {
            self.state.tombstones -= 1;
        }
        self.state.len += 1;
        shared
    }

    /// The slot of `node` if it is still linked (found by identity, not key
    /// equality: no user code runs).
    pub(crate) fn find_node(
        &self,
        node: *const Node<K, V>,
        hash: u64,
        guard: &Guard,
    ) -> Option<usize> {
        let b = self.buckets(guard);
        let tag = tag_of(hash);
        let mask = b.mask();
        let mut i = hash as usize & mask;
        for _ in 0..=mask {
            let t = b.tags[i].load(Ordering::Relaxed);
            if t == EMPTY {
                return None;
            }
            if t == tag && b.slots[i].load(Ordering::Relaxed, guard).as_raw() == node {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Unlinks `node` if it is still linked (by identity). Returns whether
    /// it was.
    pub(crate) fn remove_node(
        &mut self,
        node: *const Node<K, V>,
        hash: u64,
        guard: &Guard,
    ) -> bool {
        match self.find_node(node, hash, guard) {
            Some(i) => {
                self.remove_at(i, guard);
                true
            }
            None => false,
        }
    }

    /// Unlinks every node, returning them, and installs a fresh small array.
    pub(crate) fn remove_all<'g>(&mut self, guard: &'g Guard) -> Vec<Shared<'g, Node<K, V>>> {
        let b = self.buckets(guard);
        let mut out = Vec::with_capacity(self.state.len);
        for (t, slot) in b.tags.iter().zip(b.slots.iter()) {
            if t.load(Ordering::Relaxed) >= 0x80 {
                out.push(slot.load(Ordering::Relaxed, guard));
            }
        }
        let old = self.stripe.buckets.swap(
            Owned::new(Buckets::with_slots(MIN_SLOTS)),
            Ordering::AcqRel,
            guard,
        );
        // SAFETY: the old array is unreachable for new readers; readers that
        // loaded it are pinned, and destruction waits for them.
        unsafe { guard.defer_destroy(old) };
        self.state.len = 0;
        self.state.tombstones = 0;
        out
    }

    /// Number of live entries in the stripe.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state.len
    }

    /// Appends a write event and marks the stripe dirty.
    pub(crate) fn push_event(&mut self, e: E) {
        if self.state.events.is_empty() {
            self.dirty[self.index / 64].fetch_or(1 << (self.index % 64), Ordering::AcqRel);
        }
        self.state.events.push(e);
    }

    /// Exchanges the stripe's pending events for `empty` (an empty buffer,
    /// recycled to avoid reallocating); returns the events.
    pub(crate) fn swap_events(&mut self, mut empty: Vec<E>) -> Vec<E> {
        debug_assert!(empty.is_empty());
        std::mem::swap(&mut self.state.events, &mut empty);
        empty
    }

    /// Builds a new array for `want` live entries, moves the live node
    /// pointers into it, publishes it and retires the old one.
    fn rebuild(&mut self, want: usize, guard: &Guard) {
        let old_shared = self.stripe.buckets.load(Ordering::Relaxed, guard);
        // SAFETY: we hold the lock; the current array is alive.
        let old = unsafe { old_shared.deref() };
        let new = Buckets::with_slots(slots_for(want));
        for (t, slot) in old.tags.iter().zip(old.slots.iter()) {
            if t.load(Ordering::Relaxed) >= 0x80 {
                let p = slot.load(Ordering::Relaxed, guard);
                // SAFETY: linked nodes are alive while we hold the lock.
                let hash = unsafe { p.deref() }.hash;
                let i = vacant_slot(&new, hash);
                new.slots[i].store(p, Ordering::Relaxed);
                new.tags[i].store(tag_of(hash), Ordering::Relaxed);
            }
        }
        // Release: the new array's contents are visible to whoever loads it.
        self.stripe
            .buckets
            .store(Owned::new(new), Ordering::Release);
        // SAFETY: the old array is now unreachable for new readers; current
        // readers are pinned and destruction waits for them. Its `Drop` does
        // not touch the nodes.
        unsafe { guard.defer_destroy(old_shared) };
        self.state.tombstones = 0;
    }
}

/// The first EMPTY or TOMBSTONE slot on `hash`'s probe path.
fn vacant_slot<K, V>(b: &Buckets<K, V>, hash: u64) -> usize {
    let mask = b.mask();
    let mut i = hash as usize & mask;
    loop {
        if b.tags[i].load(Ordering::Relaxed) < 0x80 {
            return i;
        }
        i = (i + 1) & mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    type T = Table<u64, u64, ()>;

    fn h(k: u64) -> u64 {
        // A cheap mixer for tests; collisions are tested separately.
        k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (k << 7)
    }

    fn node(hash: u64, k: u64, v: u64) -> Owned<Node<u64, u64>> {
        Owned::new(Node::new(hash, Arc::new(k), v, 1, 0, u64::MAX, u64::MAX))
    }

    fn insert(t: &T, hash: u64, k: u64, v: u64) {
        let guard = crossbeam_epoch::pin();
        let mut l = t.lock(hash);
        match l.probe(hash, &k, &guard) {
            Probe::Found(i) => {
                let old = l.replace(i, node(hash, k, v), &guard);
                // SAFETY: unlinked under the lock; nobody else retires it.
                unsafe { guard.defer_destroy(old) };
            }
            Probe::Vacant(i) => {
                l.insert_vacant(i, node(hash, k, v), &guard);
            }
        }
    }

    fn remove(t: &T, hash: u64, k: u64) -> bool {
        let guard = crossbeam_epoch::pin();
        let mut l = t.lock(hash);
        match l.probe(hash, &k, &guard) {
            Probe::Found(i) => {
                let old = l.remove_at(i, &guard);
                // SAFETY: unlinked under the lock; nobody else retires it.
                unsafe { guard.defer_destroy(old) };
                true
            }
            Probe::Vacant(_) => false,
        }
    }

    fn get(t: &T, hash: u64, k: u64) -> Option<u64> {
        let guard = crossbeam_epoch::pin();
        t.find(hash, &k, &guard).map(|n| n.value)
    }

    #[test]
    fn insert_get_replace_remove_against_a_model() {
        let n = if cfg!(miri) { 200 } else { 5000 };
        for stripes in [1, 4] {
            let t = T::new(stripes, 0);
            let mut model = std::collections::HashMap::new();
            let mut x = 12345u64;
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k = x % 300;
                match x % 5 {
                    0 | 1 => {
                        insert(&t, h(k), k, x);
                        model.insert(k, x);
                    }
                    2 => assert_eq!(remove(&t, h(k), k), model.remove(&k).is_some()),
                    _ => assert_eq!(get(&t, h(k), k), model.get(&k).copied()),
                }
            }
            for k in 0..300 {
                assert_eq!(get(&t, h(k), k), model.get(&k).copied());
            }
            let total: usize = (0..t.stripe_count()).map(|i| t.lock_stripe(i).len()).sum();
            assert_eq!(total, model.len());
        }
    }

    #[test]
    fn all_keys_colliding_still_work() {
        let t = T::new(2, 0);
        let n = if cfg!(miri) { 40 } else { 500 };
        for k in 0..n {
            insert(&t, 42, k, k * 10);
        }
        for k in 0..n {
            assert_eq!(get(&t, 42, k), Some(k * 10));
        }
        for k in (0..n).step_by(2) {
            assert!(remove(&t, 42, k));
        }
        for k in 0..n {
            assert_eq!(get(&t, 42, k), (k % 2 == 1).then_some(k * 10));
        }
    }

    #[test]
    fn tombstone_churn_rebuilds_instead_of_filling_up() {
        let t = T::new(1, 0);
        let n = if cfg!(miri) { 300 } else { 20_000 };
        for k in 0..n {
            insert(&t, h(k), k, k);
            assert!(remove(&t, h(k), k));
        }
        assert_eq!(get(&t, h(3), 3), None);
        assert!(t.heap_bytes() <= 64 * 9, "array should have shrunk back");
    }

    #[test]
    fn remove_node_uses_identity() {
        let t = T::new(1, 0);
        insert(&t, h(1), 1, 10);
        let guard = crossbeam_epoch::pin();
        let first = t.find(h(1), &1, &guard).unwrap() as *const _;
        insert(&t, h(1), 1, 11);
        let mut l = t.lock(h(1));
        assert!(
            !l.remove_node(first, h(1), &guard),
            "replaced node is no longer linked"
        );
        let second = t.find(h(1), &1, &guard).unwrap() as *const _;
        let removed = l.remove_node(second, h(1), &guard);
        assert!(removed);
        drop(l);
        assert_eq!(get(&t, h(1), 1), None);
        // SAFETY: `second` was unlinked above and is retired only here.
        unsafe { guard.defer_destroy(Shared::from(second)) };
    }

    #[test]
    fn concurrent_readers_see_old_or_new_value_never_neither() {
        let t = Arc::new(T::new(2, 0));
        let keys = if cfg!(miri) { 8 } else { 64 };
        for k in 0..keys {
            insert(&t, h(k), k, 0);
        }
        let rounds = if cfg!(miri) { 20 } else { 2000 };
        std::thread::scope(|s| {
            let w = Arc::clone(&t);
            s.spawn(move || {
                for r in 1..=rounds {
                    for k in 0..keys {
                        insert(&w, h(k), k, r);
                    }
                    // Churn other keys to force rebuilds of the same stripes.
                    for k in 1000..1000 + keys {
                        insert(&w, h(k), k, r);
                        remove(&w, h(k), k);
                    }
                }
            });
            for _ in 0..rounds {
                for k in 0..keys {
                    assert!(get(&t, h(k), k).is_some(), "key {k} vanished");
                }
            }
        });
    }
}
