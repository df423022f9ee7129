//! An entry of the cache: one heap node per key, published in the table and
//! tracked by the eviction policy.
//!
//! A node is immutable once published, apart from three atomics: its expiry
//! deadline (a read under time-to-idle pushes it forward), and the slot index
//! the policy assigned it (written by maintenance, read by readers that record
//! an access). Updating a key publishes a *new* node; readers that still hold
//! the old one see the old value, never a torn one.
//!
//! # Life cycle
//! 1. **Alive**: linked in the table. Readers may find it.
//! 2. **Unlinked**: a writer (update, remove) or maintenance (eviction,
//!    expiry) removed it from the table under the stripe lock. New readers
//!    cannot find it; readers that found it earlier may still hold `&Node`.
//! 3. **Retired**: maintenance, after the policy has forgotten it (its slab
//!    slot is freed and no pending write event names it), adds it to the
//!    run's retirement batch; at the end of the run the batch is sealed and
//!    one `crossbeam-epoch` deferred closure per batch marks when its grace
//!    period is over (`RetiredBatch` in `core.rs`).
//! 4. **Dead**: after the grace period no reader can hold it; a later
//!    maintenance run (or dropping the cache) frees it, outside the
//!    maintenance lock, and its key and value are dropped, exactly once.
//!
//! Only maintenance retires nodes, and only after step 2 and after removing
//! every policy reference to them; this is the invariant that makes every
//! [`NodePtr`] dereference in the policy sound.

use crate::shim::{AtomicU32, AtomicU64, Ordering};
use std::ptr::NonNull;
use std::sync::Arc;

/// `Node::slot` before maintenance has seen the node.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// One cached entry.
pub(crate) struct Node<K, V> {
    /// The key's full hash (from the cache's `BuildHasher`).
    pub(crate) hash: u64,
    /// The key; an `Arc` because listeners and iterators hand out `Arc<K>`.
    pub(crate) key: Arc<K>,
    /// The value; cloned out on every read.
    pub(crate) value: V,
    /// Expiry deadline in clock nanoseconds ([`crate::clock::NEVER`] if none).
    pub(crate) deadline: AtomicU64,
    /// When this value was written (clock nanoseconds); for TTL and `Expiry`.
    pub(crate) written: u64,
    /// The deadline the user's `Expiry` set ([`crate::clock::NEVER`] if none
    /// or no `Expiry`); `deadline` is the earliest of this, TTL and TTI.
    pub(crate) custom: AtomicU64,
    /// The policy's slab index, or [`NO_SLOT`]. Written by maintenance only.
    pub(crate) slot: AtomicU32,
    /// The weigher's verdict for this key and value.
    pub(crate) weight: u32,
}

impl<K, V> Node<K, V> {
    /// A node not yet known to the policy.
    pub(crate) fn new(
        hash: u64,
        key: Arc<K>,
        value: V,
        weight: u32,
        written: u64,
        custom: u64,
        deadline: u64,
    ) -> Self {
        Self {
            hash,
            key,
            value,
            deadline: AtomicU64::new(deadline),
            written,
            custom: AtomicU64::new(custom),
            slot: AtomicU32::new(NO_SLOT),
            weight,
        }
    }

    /// Whether the node has expired at `now` (deadlines are inclusive).
    #[inline]
    pub(crate) fn is_expired(&self, now: u64) -> bool {
        let deadline = self.deadline.load(Ordering::Relaxed);
        // `NEVER` (u64::MAX) must stay unexpired even when a mock clock has
        // been advanced to the end of time.
        deadline != crate::clock::NEVER && now >= deadline
    }
}

/// A raw reference to a node held by the policy (slab entries, write events).
///
/// It carries no lifetime: soundness rests on the life-cycle invariant in the
/// module docs (a node is retired only by maintenance, after every `NodePtr`
/// to it has been dropped from the policy and the write buffers).
pub(crate) struct NodePtr<K, V>(NonNull<Node<K, V>>);

impl<K, V> Clone for NodePtr<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for NodePtr<K, V> {}

impl<K, V> PartialEq for NodePtr<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<K, V> Eq for NodePtr<K, V> {}

// SAFETY: a `NodePtr` is only a handle; the node it points to is `Send + Sync`
// when `K` and `V` are, and access through it follows the life-cycle protocol.
unsafe impl<K: Send + Sync, V: Send + Sync> Send for NodePtr<K, V> {}
// SAFETY: as above; shared access only hands out `&Node`.
unsafe impl<K: Send + Sync, V: Send + Sync> Sync for NodePtr<K, V> {}

impl<K, V> NodePtr<K, V> {
    /// Wraps a pointer to a published node.
    pub(crate) fn from_ref(node: &Node<K, V>) -> Self {
        Self(NonNull::from(node))
    }

    /// The raw pointer (for identity comparisons).
    pub(crate) fn as_ptr(self) -> *const Node<K, V> {
        self.0.as_ptr()
    }

    /// Dereferences the node.
    ///
    /// # Safety
    /// The node must not have been retired yet: the caller holds the
    /// maintenance lock (or owns the cache exclusively) and the pointer comes
    /// from the policy's slab or a write event that has not been processed.
    #[inline]
    pub(crate) unsafe fn get<'a>(self) -> &'a Node<K, V> {
        // SAFETY: the caller guarantees the node is alive (not yet retired).
        unsafe { self.0.as_ref() }
    }
}
