//! The shared core behind `sync::Cache` and `future::Cache`.
//!
//! # Concurrency
//! Reads are lock-free: a `get` pins a `crossbeam-epoch` guard, finds the node
//! in the striped [`Table`](crate::table), checks its deadline, clones its
//! value and records the access in a lossy striped [`ReadBuffer`]. It writes
//! to no cache line shared with other threads' reads (the ring it records
//! into is per thread, most of the time).
//!
//! Writes lock one stripe of the table for a probe and a few stores, and
//! append a *write event* (Insert, Update, Remove) to that stripe's buffer,
//! under the same lock. Write buffers are never lossy: a writer that finds the
//! cache too far behind runs maintenance itself, waiting for the lock.
//!
//! # Maintenance
//! The policy (W-TinyLFU, see `policy`) is single-threaded state behind the
//! maintenance mutex. Whoever takes it (a reader whose ring reached its drain
//! mark, a writer every few writes, `run_pending_tasks`) drains the read
//! buffer, then the write events of every dirty stripe, then evicts while the
//! cache is over capacity. Readers and writers only ever `try_lock` it, except
//! a writer that finds more than [`WRITE_BACKLOG_LIMIT`] events pending and
//! `run_pending_tasks`. So between maintenance runs at most about that many
//! writes are unapplied, which bounds the overshoot of the capacity.
//!
//! # Lock order
//! maintenance lock -> stripe lock -> notification queue lock. No user code
//! (hash, eq, weigher, listener) runs under the maintenance lock; the key's
//! `Eq` and the value's `Clone` run under a stripe lock, before anything is
//! changed, so a panic there leaves the stripe as it was. The listener runs
//! under no lock at all (see `notification`).
//!
//! # Entry life cycle
//! See `node.rs`: a node is retired only by maintenance, after it has been
//! unlinked from the table and the policy has forgotten it.

use crate::buffer::ReadBuffer;
use crate::clock::{deadline_after, Clock, NEVER};
use crate::expiry::{until, Expirer, Expiry};
use crate::loader::{Join, Loader, Outcome, WaitOutcome};
use crate::node::{Node, NodePtr, NO_SLOT};
use crate::notification::{Listener, Notifier, RemovalCause};
use crate::ops::compute::{CompResult, Op};
use crate::ops::Entry;
use crate::policy::Policy;
use crate::shim::{AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::stats::{CacheStats, StatsCounter};
use crate::table::{Probe, Table};
use crossbeam_epoch::{Guard, Owned};
use std::borrow::Borrow;
use std::collections::VecDeque;
use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Duration;

/// A writer runs maintenance itself, waiting for the lock, when this many
/// write events are pending.
pub(crate) const WRITE_BACKLOG_LIMIT: usize = 1024;
/// Writers try (without waiting) to run maintenance every this many writes.
const WRITE_DRAIN_EVERY: usize = 16;
/// A reader that drains its read ring also runs full maintenance when at
/// least this many write events are pending (the writers' own attempts lost
/// the lock race).
const READER_HELP_BACKLOG: usize = 4 * WRITE_DRAIN_EVERY;
/// When entries can expire, a reader that drains its ring also runs full
/// maintenance if this many clock nanoseconds have passed since the last
/// full run, so reads alone reclaim expired entries.
const READER_EXPIRE_EVERY_NANOS: u64 = 100_000_000;

/// The user's per-entry expiry.
pub(crate) type ExpiryFn<K, V> = Arc<dyn Expiry<K, V> + Send + Sync + 'static>;

/// The weigher.
pub(crate) type Weigher<K, V> = Arc<dyn Fn(&K, &V) -> u32 + Send + Sync + 'static>;

/// Everything the builder collected.
pub(crate) struct Config<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) max_capacity: Option<u64>,
    pub(crate) initial_capacity: usize,
    pub(crate) weigher: Option<Weigher<K, V>>,
    pub(crate) listener: Option<Listener<K, V>>,
    pub(crate) time_to_live: Option<Duration>,
    pub(crate) time_to_idle: Option<Duration>,
    pub(crate) expiry: Option<ExpiryFn<K, V>>,
    pub(crate) clock: Clock,
    pub(crate) record_stats: bool,
}

impl<K, V> Default for Config<K, V> {
    fn default() -> Self {
        Self {
            name: None,
            max_capacity: None,
            initial_capacity: 0,
            weigher: None,
            listener: None,
            time_to_live: None,
            time_to_idle: None,
            expiry: None,
            clock: Clock::default(),
            record_stats: false,
        }
    }
}

/// A write event, buffered per stripe until maintenance applies it.
pub(crate) enum WriteEvent<K, V> {
    /// A new key: the node is linked.
    Insert(NodePtr<K, V>),
    /// `old` (now unlinked) was replaced by `new`.
    Update {
        old: NodePtr<K, V>,
        new: NodePtr<K, V>,
    },
    /// The node was unlinked by a writer.
    Remove(NodePtr<K, V>),
}

/// State owned by whoever holds the maintenance lock.
struct Maintenance<K, V> {
    policy: Policy<K, V>,
    /// Finds expired entries (None when nothing can expire).
    expirer: Option<Expirer>,
    /// Scratch list of due slots.
    due: Vec<u32>,
    /// Spare event buffer swapped into stripes to avoid reallocating.
    spare: Vec<WriteEvent<K, V>>,
    /// Nodes retired by the current maintenance run (sealed into a batch at
    /// its end).
    retiring: Vec<NodePtr<K, V>>,
    /// Sealed batches, oldest first, waiting for their grace period.
    retired: VecDeque<RetiredBatch<K, V>>,
    /// Clock reading of the last full maintenance run's expiry pass
    /// (expiring caches; `expire` sets it from the reading it takes anyway).
    last_full_run: u64,
}

/// Nodes retired by one maintenance run.
///
/// Rather than one `defer_destroy` per node, which would make whichever
/// thread next collects epoch garbage (often a reader, inside `pin`) drop
/// keys and values and free nodes, maintenance defers one tiny closure per
/// batch that only raises `safe`; a later maintenance run frees the batch
/// itself, outside the maintenance lock. Reads stay cheap, and user `Drop`
/// code runs on the writers' side.
struct RetiredBatch<K, V> {
    /// Raised by the epoch collector once every thread that was pinned when
    /// the batch was sealed has unpinned; from then on no reader can hold a
    /// reference into these nodes.
    safe: Arc<AtomicBool>,
    nodes: Vec<NodePtr<K, V>>,
}

/// Nodes whose grace period has passed, freed when this is dropped (after
/// the maintenance lock is released, so `Drop` impls of keys and values may
/// use the cache).
#[must_use = "dropping this frees the nodes; drop it after unlocking"]
struct Reclaimed<K, V>(Vec<Vec<NodePtr<K, V>>>);

impl<K, V> Drop for Reclaimed<K, V> {
    fn drop(&mut self) {
        for batch in self.0.drain(..) {
            for ptr in batch {
                // SAFETY: the batch's grace period has passed (its `safe` flag
                // was raised by the epoch collector) or the cache is being
                // dropped; each node was unlinked, forgotten by the policy
                // and retired exactly once before joining a batch.
                unsafe { drop(Owned::from_raw(ptr.as_ptr() as *mut Node<K, V>)) };
            }
        }
    }
}

impl<K, V> Maintenance<K, V> {
    /// Seals this run's retired nodes into a batch whose grace period starts
    /// now, and takes every batch whose grace period has passed.
    fn seal_and_reclaim(&mut self, guard: &Guard) -> Reclaimed<K, V> {
        if !self.retiring.is_empty() {
            let safe = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&safe);
            guard.defer(move || flag.store(true, AtomicOrdering::Release));
            let nodes = std::mem::take(&mut self.retiring);
            self.retired.push_back(RetiredBatch { safe, nodes });
        }
        let mut ready = Vec::new();
        while let Some(b) = self.retired.front() {
            if !b.safe.load(AtomicOrdering::Acquire) {
                break;
            }
            if let Some(b) = self.retired.pop_front() {
                ready.push(b.nodes);
            }
        }
        Reclaimed(ready)
    }

    /// Every retired node, safe or not (only when the cache is dropped).
    fn reclaim_all(&mut self) -> Reclaimed<K, V> {
        let mut all: Vec<_> = self.retired.drain(..).map(|b| b.nodes).collect();
        all.push(std::mem::take(&mut self.retiring));
        Reclaimed(all)
    }
}

/// The shared core.
pub(crate) struct Core<K, V, S> {
    table: Table<K, V, WriteEvent<K, V>>,
    hasher: S,
    reads: ReadBuffer,
    maintenance: Mutex<Maintenance<K, V>>,
    /// Write events not yet applied.
    pending: AtomicUsize,
    entry_count: AtomicU64,
    weighted_size: AtomicU64,
    notifier: Notifier<K, V>,
    loader: Loader<K, V>,
    stats: Option<StatsCounter>,
    pub(crate) config: Config<K, V>,
    /// Whether any entry can expire (reads then check deadlines).
    expiring: bool,
    /// Whether reads can move deadlines (time-to-idle or `Expiry`).
    reads_move_deadlines: bool,
}

thread_local! {
    /// This thread's read-buffer ring (and stats stripe); `usize::MAX` until
    /// first use. Const-initialised, so reading it is a plain TLS load.
    static RING: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// This thread's stripe hint: threads are numbered round-robin on first use,
/// so up to `rings` threads each get a ring of their own.
#[inline]
fn ring_hint() -> usize {
    RING.with(|r| {
        let v = r.get();
        if v != usize::MAX {
            return v;
        }
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let v = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & (usize::MAX >> 1);
        r.set(v);
        v
    })
}

fn available_parallelism() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get())
}

impl<K, V, S> Core<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher,
{
    /// A core for `config`, hashing with `hasher`.
    pub(crate) fn new(config: Config<K, V>, hasher: S) -> Self {
        let cpus = available_parallelism();
        let stripes = (cpus * 16).clamp(32, 256);
        let ttl_only = config.time_to_idle.is_none() && config.expiry.is_none();
        let expiring = config.time_to_live.is_some() || !ttl_only;
        let now = config.clock.now_raising_floor();
        Self {
            table: Table::new(stripes, config.initial_capacity),
            hasher,
            reads: ReadBuffer::new(cpus * 4),
            maintenance: Mutex::new(Maintenance {
                policy: Policy::new(config.max_capacity),
                expirer: expiring.then(|| Expirer::new(ttl_only, now)),
                due: Vec::new(),
                spare: Vec::new(),
                retiring: Vec::new(),
                retired: VecDeque::new(),
                last_full_run: now,
            }),
            pending: AtomicUsize::new(0),
            entry_count: AtomicU64::new(0),
            weighted_size: AtomicU64::new(0),
            notifier: Notifier::new(config.listener.clone()),
            loader: Loader::new(64),
            stats: config.record_stats.then(|| StatsCounter::new(cpus * 4)),
            config,
            expiring,
            reads_move_deadlines: expiring && !ttl_only,
        }
    }

    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    #[inline]
    fn now(&self) -> u64 {
        if self.expiring {
            self.config.clock.now()
        } else {
            0
        }
    }

    /// Looks `key` up; the value if present and not expired. Records the
    /// access for the policy (and, under time-to-idle, refreshes the
    /// deadline).
    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.lookup(self.hash(key), key, |n| n.value.clone());
        self.count_lookup(found.is_some());
        found
    }

    /// Counts a hit or a miss (when statistics are on).
    #[inline]
    fn count_lookup(&self, hit: bool) {
        if let Some(stats) = &self.stats {
            let hint = ring_hint();
            if hit {
                stats.hit(hint);
            } else {
                stats.miss(hint);
            }
        }
    }

    /// Finds the live, unexpired node for `key`, records the access (and
    /// moves its deadline under time-to-idle / `Expiry`), and returns
    /// `read(node)`. No statistics.
    #[inline]
    fn lookup<Q, R>(&self, hash: u64, key: &Q, read: impl FnOnce(&Node<K, V>) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let guard = crossbeam_epoch::pin();
        let node = self.table.find(hash, key, &guard)?;
        if self.expiring {
            let now = self.config.clock.now();
            if node.is_expired(now) {
                return None;
            }
            if self.reads_move_deadlines {
                self.refresh_deadline(node, now);
            }
        }
        let out = read(node);
        self.record_read(node);
        Some(out)
    }

    /// The statistics so far (zero when `record_stats` is off).
    pub(crate) fn stats(&self) -> CacheStats {
        self.stats
            .as_ref()
            .map(StatsCounter::snapshot)
            .unwrap_or_default()
    }

    /// Loads in flight (tests: the registry must end empty).
    pub(crate) fn loads_in_flight(&self) -> usize {
        self.loader.in_flight()
    }

    /// A coalesced load of an owned key: the value if cached, else one
    /// caller runs `init` while the others wait (blocking). `read` turns the
    /// outcome into the caller's result (`None`: not an outcome for this
    /// kind of caller, look again). Returns the result and whether this call
    /// ran `init`.
    pub(crate) fn load_owned<R>(
        &self,
        key: K,
        init: impl FnOnce() -> Outcome<V>,
        read: impl Fn(Outcome<V>) -> Option<R>,
    ) -> (R, bool) {
        let hash = self.hash(&key);
        if let Some(v) = self.lookup(hash, &key, |n| n.value.clone()) {
            self.count_lookup(true);
            return (
                read(Outcome::Value(v)).expect("every loading call accepts a value"),
                false,
            );
        }
        self.count_lookup(false);
        let key = Arc::new(key);
        self.load_slow(hash, &*key, || Arc::clone(&key), init, read)
    }

    /// [`load_owned`](Self::load_owned) for a key already shared.
    pub(crate) fn load_arc<R>(
        &self,
        key: Arc<K>,
        init: impl FnOnce() -> Outcome<V>,
        read: impl Fn(Outcome<V>) -> Option<R>,
    ) -> (R, bool) {
        let hash = self.hash(&*key);
        if let Some(v) = self.lookup(hash, &*key, |n| n.value.clone()) {
            self.count_lookup(true);
            return (
                read(Outcome::Value(v)).expect("every loading call accepts a value"),
                false,
            );
        }
        self.count_lookup(false);
        self.load_slow(hash, &*key, || Arc::clone(&key), init, read)
    }

    /// [`load_owned`](Self::load_owned) for a borrowed key, cloned into the
    /// cache only if this call inserts.
    pub(crate) fn load_by_ref<Q, R>(
        &self,
        key: &Q,
        init: impl FnOnce() -> Outcome<V>,
        read: impl Fn(Outcome<V>) -> Option<R>,
    ) -> (R, bool)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let hash = self.hash(key);
        if let Some(v) = self.lookup(hash, key, |n| n.value.clone()) {
            self.count_lookup(true);
            return (
                read(Outcome::Value(v)).expect("every loading call accepts a value"),
                false,
            );
        }
        self.count_lookup(false);
        self.load_slow(hash, key, || Arc::new(key.to_owned()), init, read)
    }

    fn load_slow<Q, R>(
        &self,
        hash: u64,
        key: &Q,
        make_key: impl FnOnce() -> Arc<K>,
        init: impl FnOnce() -> Outcome<V>,
        read: impl Fn(Outcome<V>) -> Option<R>,
    ) -> (R, bool)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut make_key = Some(make_key);
        let mut init = Some(init);
        loop {
            let join = self.loader.join(
                hash,
                key,
                || (make_key.take().expect("one leader per call"))(),
                true,
            );
            match join {
                Join::Wait(flight) => {
                    if let Some(r) = read(flight.wait_blocking()) {
                        return (r, false);
                    }
                    // The leader failed or it was a compute: look again.
                    if let Some(v) = self.lookup(hash, key, |n| n.value.clone()) {
                        return (
                            read(Outcome::Value(v)).expect("every loading call accepts a value"),
                            false,
                        );
                    }
                }
                Join::Lead(guard) => {
                    // Someone may have finished just before we registered.
                    if let Some(v) = self.lookup(hash, key, |n| n.value.clone()) {
                        guard.complete(Outcome::Value(v.clone()));
                        return (
                            read(Outcome::Value(v)).expect("every loading call accepts a value"),
                            false,
                        );
                    }
                    let timer = LoadTimer::start(self.stats.as_ref());
                    let outcome = (init.take().expect("one load per call"))();
                    timer.finish(matches!(outcome, Outcome::Value(_)));
                    if let Outcome::Value(v) = &outcome {
                        self.insert_hashed(hash, Arc::clone(guard.key()), v.clone());
                    }
                    guard.complete(outcome.clone());
                    return (
                        read(outcome).expect("the leader accepts its own outcome"),
                        true,
                    );
                }
            }
        }
    }

    /// Atomically (with respect to other loads and computes of the same key)
    /// reads the entry, asks `f` what to do, and does it. Blocking.
    pub(crate) fn compute<Q, E>(
        &self,
        key: &Q,
        make_key: impl FnOnce() -> Arc<K>,
        f: impl FnOnce(Option<Entry<K, V>>) -> Result<Op<V>, E>,
    ) -> Result<CompResult<K, V>, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let mut make_key = Some(make_key);
        loop {
            match self.loader.join(
                hash,
                key,
                || (make_key.take().expect("one leader per call"))(),
                true,
            ) {
                Join::Wait(flight) => {
                    flight.wait_blocking();
                }
                Join::Lead(guard) => {
                    let current = self.compute_current(hash, key);
                    let op = f(current.clone().map(|(k, v)| Entry::new(k, v, false, false)));
                    let result =
                        op.map(|op| self.apply_op(hash, Arc::clone(guard.key()), current, op));
                    guard.complete(Outcome::Retry);
                    return result;
                }
            }
        }
    }

    /// The entry a compute starts from (counted as a lookup).
    pub(crate) fn compute_current<Q>(&self, hash: u64, key: &Q) -> Option<(Arc<K>, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let current = self.lookup(hash, key, |n| (Arc::clone(&n.key), n.value.clone()));
        self.count_lookup(current.is_some());
        current
    }

    /// Carries out a compute's `op` on `key`, whose value was `current`.
    pub(crate) fn apply_op(
        &self,
        hash: u64,
        key: Arc<K>,
        current: Option<(Arc<K>, V)>,
        op: Op<V>,
    ) -> CompResult<K, V> {
        match (op, current) {
            (Op::Put(v), current) => {
                self.insert_hashed(hash, Arc::clone(&key), v.clone());
                match current {
                    None => CompResult::Inserted(Entry::new(key, v, true, false)),
                    Some(_) => CompResult::ReplacedWith(Entry::new(key, v, true, true)),
                }
            }
            (Op::Remove, Some((k, v))) => {
                self.remove_hashed(hash, key.as_ref(), RemovalCause::Explicit, false);
                CompResult::Removed(Entry::new(k, v, false, false))
            }
            (Op::Nop, Some((k, v))) => CompResult::Unchanged(Entry::new(k, v, false, false)),
            (Op::Remove | Op::Nop, None) => CompResult::StillNone(key),
        }
    }

    /// The async twin of [`load_owned`](Self::load_owned): waiters await
    /// (a waker is registered) instead of parking. If this future is dropped
    /// while it runs `init` (cancellation), a waiter takes the load over.
    pub(crate) async fn load_owned_async<R>(
        &self,
        key: K,
        init: impl Future<Output = Outcome<V>>,
        read: impl Fn(Outcome<V>) -> Option<R>,
    ) -> (R, bool) {
        let hash = self.hash(&key);
        if let Some(v) = self.lookup(hash, &key, |n| n.value.clone()) {
            self.count_lookup(true);
            return (
                read(Outcome::Value(v)).expect("every loading call accepts a value"),
                false,
            );
        }
        self.count_lookup(false);
        let key = Arc::new(key);
        self.load_slow_async(hash, &*key, || Arc::clone(&key), init, read)
            .await
    }

    /// The async twin of [`load_arc`](Self::load_arc).
    pub(crate) async fn load_arc_async<R>(
        &self,
        key: Arc<K>,
        init: impl Future<Output = Outcome<V>>,
        read: impl Fn(Outcome<V>) -> Option<R>,
    ) -> (R, bool) {
        let hash = self.hash(&*key);
        if let Some(v) = self.lookup(hash, &*key, |n| n.value.clone()) {
            self.count_lookup(true);
            return (
                read(Outcome::Value(v)).expect("every loading call accepts a value"),
                false,
            );
        }
        self.count_lookup(false);
        self.load_slow_async(hash, &*key, || Arc::clone(&key), init, read)
            .await
    }

    /// The async twin of [`load_by_ref`](Self::load_by_ref).
    pub(crate) async fn load_by_ref_async<Q, R>(
        &self,
        key: &Q,
        init: impl Future<Output = Outcome<V>>,
        read: impl Fn(Outcome<V>) -> Option<R>,
    ) -> (R, bool)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let hash = self.hash(key);
        if let Some(v) = self.lookup(hash, key, |n| n.value.clone()) {
            self.count_lookup(true);
            return (
                read(Outcome::Value(v)).expect("every loading call accepts a value"),
                false,
            );
        }
        self.count_lookup(false);
        self.load_slow_async(hash, key, || Arc::new(key.to_owned()), init, read)
            .await
    }

    async fn load_slow_async<Q, R>(
        &self,
        hash: u64,
        key: &Q,
        make_key: impl FnOnce() -> Arc<K>,
        init: impl Future<Output = Outcome<V>>,
        read: impl Fn(Outcome<V>) -> Option<R>,
    ) -> (R, bool)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut make_key = Some(make_key);
        let mut init = Some(init);
        loop {
            let join = self.loader.join(
                hash,
                key,
                || (make_key.take().expect("one leader per call"))(),
                false,
            );
            match join {
                Join::Wait(flight) => {
                    if let Some(r) = read(WaitOutcome::new(flight).await) {
                        return (r, false);
                    }
                    if let Some(v) = self.lookup(hash, key, |n| n.value.clone()) {
                        return (
                            read(Outcome::Value(v)).expect("every loading call accepts a value"),
                            false,
                        );
                    }
                }
                Join::Lead(guard) => {
                    if let Some(v) = self.lookup(hash, key, |n| n.value.clone()) {
                        guard.complete(Outcome::Value(v.clone()));
                        return (
                            read(Outcome::Value(v)).expect("every loading call accepts a value"),
                            false,
                        );
                    }
                    let timer = LoadTimer::start(self.stats.as_ref());
                    let outcome = (init.take().expect("one load per call")).await;
                    timer.finish(matches!(outcome, Outcome::Value(_)));
                    if let Outcome::Value(v) = &outcome {
                        self.insert_hashed(hash, Arc::clone(guard.key()), v.clone());
                    }
                    guard.complete(outcome.clone());
                    return (
                        read(outcome).expect("the leader accepts its own outcome"),
                        true,
                    );
                }
            }
        }
    }

    /// The async twin of [`compute`](Self::compute).
    pub(crate) async fn compute_async<Q, E, Fut>(
        &self,
        key: &Q,
        make_key: impl FnOnce() -> Arc<K>,
        f: impl FnOnce(Option<Entry<K, V>>) -> Fut,
        skip_if_busy: bool,
    ) -> Result<CompResult<K, V>, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        Fut: Future<Output = Result<Op<V>, E>>,
    {
        let hash = self.hash(key);
        let mut make_key = Some(make_key);
        let mut f = Some(f);
        loop {
            let join = self.loader.join(
                hash,
                key,
                || (make_key.take().expect("one leader per call"))(),
                false,
            );
            match join {
                Join::Wait(flight) => {
                    if skip_if_busy {
                        // Someone else is loading or computing this key:
                        // report the current state without running `f`.
                        return Ok(match self.compute_current(hash, key) {
                            Some((k, v)) => CompResult::Unchanged(Entry::new(k, v, false, false)),
                            None => CompResult::StillNone((make_key
                                .take()
                                .expect("not consumed when waiting"))(
                            )),
                        });
                    }
                    WaitOutcome::new(flight).await;
                }
                Join::Lead(guard) => {
                    let current = self.compute_current(hash, key);
                    let entry = current.clone().map(|(k, v)| Entry::new(k, v, false, false));
                    let op = (f.take().expect("one compute per call"))(entry).await;
                    let result =
                        op.map(|op| self.apply_op(hash, Arc::clone(guard.key()), current, op));
                    guard.complete(Outcome::Retry);
                    return result;
                }
            }
        }
    }

    /// Whether `key` is present and not expired (not an access).
    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let guard = crossbeam_epoch::pin();
        match self.table.find(hash, key, &guard) {
            Some(node) => !node.is_expired(self.now()),
            None => false,
        }
    }

    /// A read at `now` may move the deadline: time-to-idle restarts, and
    /// the user's `Expiry::expire_after_read` decides the per-entry part.
    /// Runs the user's code with no lock held; on a panic nothing changed.
    fn refresh_deadline(&self, node: &Node<K, V>, now: u64) {
        let mut custom = node.custom.load(Ordering::Relaxed);
        if let Some(expiry) = &self.config.expiry {
            let clock = &self.config.clock;
            let left = until(custom, now);
            let new = expiry.expire_after_read(
                &node.key,
                &node.value,
                clock.to_instant(now),
                left,
                clock.to_instant(node.written),
            );
            custom = new.map_or(NEVER, |d| deadline_after(now, d));
            if node.custom.load(Ordering::Relaxed) != custom {
                node.custom.store(custom, Ordering::Relaxed);
            }
        }
        let d = self.deadline_for(node.written, now, custom);
        if node.deadline.load(Ordering::Relaxed) != d {
            node.deadline.store(d, Ordering::Relaxed);
        }
    }

    /// The earliest of: written + TTL, last access + TTI, the custom deadline.
    fn deadline_for(&self, written: u64, accessed: u64, custom: u64) -> u64 {
        let mut d = custom;
        if let Some(ttl) = self.config.time_to_live {
            d = d.min(deadline_after(written, ttl));
        }
        if let Some(tti) = self.config.time_to_idle {
            d = d.min(deadline_after(accessed, tti));
        }
        d
    }

    /// The user's per-entry deadline for a value written at `now`: created,
    /// or updated if a live value is there (looked up without a lock; under
    /// concurrent writes of one key the callback may see a slightly earlier
    /// state).
    fn custom_deadline(&self, hash: u64, key: &K, value: &V, now: u64) -> u64 {
        let Some(expiry) = &self.config.expiry else {
            return NEVER;
        };
        let at = self.config.clock.to_instant(now);
        let guard = crossbeam_epoch::pin();
        let d = match self.table.find(hash, key, &guard) {
            Some(old) if !old.is_expired(now) => expiry.expire_after_update(
                key,
                value,
                at,
                until(old.custom.load(Ordering::Relaxed), now),
            ),
            _ => expiry.expire_after_create(key, value, at),
        };
        d.map_or(NEVER, |d| deadline_after(now, d))
    }

    #[inline]
    fn record_read(&self, node: &Node<K, V>) {
        // A node whose Insert event is still pending has no slot yet: the
        // record then carries slot `NO_SLOT - 1`, which the policy never
        // hands out, so only the frequency is counted. Recording it anyway
        // also keeps reads driving maintenance when every read key is new.
        let slot = node.slot.load(Ordering::Relaxed).min(NO_SLOT - 1);
        let rec = ((u64::from(slot) + 1) << 32) | (node.hash & 0xffff_ffff);
        let ring = ring_hint();
        if self.reads.record(ring, rec) {
            self.after_reads(ring);
        }
    }

    /// A reader's share of maintenance, kept small so that hits have a short
    /// tail: apply this thread's ring of read records (at most a ring's
    /// worth), and run the full maintenance (write events, expiry, eviction)
    /// only when writers have fallen behind or, in an expiring cache, when
    /// none has run for [`READER_EXPIRE_EVERY_NANOS`].
    #[cold]
    #[inline(never)]
    fn after_reads(&self, ring: usize) {
        if let Some(mut m) = self.maintenance.try_lock() {
            let full = self.pending.load(Ordering::Relaxed) >= READER_HELP_BACKLOG
                || (self.expiring
                    && self.now().saturating_sub(m.last_full_run) >= READER_EXPIRE_EVERY_NANOS);
            if full {
                let reclaimed = self.maintain(&mut m);
                drop(m);
                drop(reclaimed);
            } else {
                self.apply_reads(&mut m, Some(ring));
                drop(m);
            }
        }
        self.notifier.deliver(false);
    }

    fn weigh(&self, key: &K, value: &V) -> u32 {
        match &self.config.weigher {
            Some(w) => w(key, value),
            None => 1,
        }
    }

    /// Whether an entry of `weight` can never be kept.
    fn refuses(&self, weight: u32) -> bool {
        match self.config.max_capacity {
            Some(0) => true,
            Some(max) => u64::from(weight) > max,
            None => false,
        }
    }

    /// Inserts or replaces `key`'s value.
    pub(crate) fn insert(&self, key: K, value: V) {
        let hash = self.hash(&key);
        self.insert_hashed(hash, Arc::new(key), value);
    }

    /// Inserts with a precomputed hash and an already shared key.
    pub(crate) fn insert_hashed(&self, hash: u64, key: Arc<K>, value: V) {
        let weight = self.weigh(&key, &value);
        if self.refuses(weight) {
            // Never kept: the old value (if any) is replaced by a value that
            // is evicted at once.
            self.remove_hashed(hash, key.as_ref(), RemovalCause::Replaced, false);
            if self.notifier.enabled() {
                self.notifier.push(key, value, RemovalCause::Size);
            }
            self.notifier.deliver(false);
            return;
        }
        let now = if self.expiring {
            self.config.clock.now_raising_floor()
        } else {
            0
        };
        let custom = self.custom_deadline(hash, &key, &value, now);
        let deadline = if self.expiring {
            self.deadline_for(now, now, custom)
        } else {
            NEVER
        };
        let node = Owned::new(Node::new(hash, key, value, weight, now, custom, deadline));
        let guard = crossbeam_epoch::pin();
        let mut locked = self.table.lock(hash);
        let pending;
        match locked.probe(hash, node.key.as_ref(), &guard) {
            Probe::Found(i) => {
                let old = locked.node_at(i, &guard);
                let cause = if self.expiring && old.is_expired(now) {
                    RemovalCause::Expired
                } else {
                    RemovalCause::Replaced
                };
                let note = self
                    .notifier
                    .enabled()
                    .then(|| (Arc::clone(&old.key), old.value.clone()));
                let old = locked.replace(i, node, &guard);
                let new = locked.node_at(i, &guard);
                // SAFETY: `old` was linked until the swap under our lock.
                let old = NodePtr::from_ref(unsafe { old.deref() });
                pending = self.count_event(1);
                locked.push_event(WriteEvent::Update {
                    old,
                    new: NodePtr::from_ref(new),
                });
                if let Some((k, v)) = note {
                    self.notifier.push(k, v, cause);
                }
            }
            Probe::Vacant(i) => {
                let new = locked.insert_vacant(i, node, &guard);
                pending = self.count_event(1);
                // SAFETY: just published under our lock.
                locked.push_event(WriteEvent::Insert(NodePtr::from_ref(unsafe {
                    new.deref()
                })));
            }
        }
        drop(locked);
        drop(guard);
        self.after_write(pending);
    }

    /// Removes `key`; returns its value if it was present (and, with
    /// `only_live`, not expired).
    pub(crate) fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        self.remove_hashed(hash, key, RemovalCause::Explicit, true)
    }

    /// Removes `key` under its stripe lock; reports `cause` (an expired
    /// entry is reported as `Expired` and not returned).
    fn remove_hashed<Q>(
        &self,
        hash: u64,
        key: &Q,
        cause: RemovalCause,
        want_value: bool,
    ) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let guard = crossbeam_epoch::pin();
        let mut locked = self.table.lock(hash);
        let Probe::Found(i) = locked.probe(hash, key, &guard) else {
            return None;
        };
        let node = locked.node_at(i, &guard);
        let expired = self.expiring && node.is_expired(self.config.clock.now());
        let cause = if expired {
            RemovalCause::Expired
        } else {
            cause
        };
        // Clone (user code) before changing anything.
        let ret = (want_value && !expired).then(|| node.value.clone());
        let note = self
            .notifier
            .enabled()
            .then(|| (Arc::clone(&node.key), node.value.clone()));
        let old = locked.remove_at(i, &guard);
        let pending = self.count_event(1);
        // SAFETY: linked until the removal under our lock.
        locked.push_event(WriteEvent::Remove(NodePtr::from_ref(unsafe {
            old.deref()
        })));
        if let Some((k, v)) = note {
            self.notifier.push(k, v, cause);
        }
        drop(locked);
        drop(guard);
        self.after_write(pending);
        ret
    }

    /// Counts `n` write events about to be pushed (under the stripe lock,
    /// before the push, so maintenance never subtracts them first). Returns
    /// the new backlog.
    fn count_event(&self, n: usize) -> usize {
        self.pending.fetch_add(n, Ordering::Relaxed) + n
    }

    /// Runs maintenance when the write backlog calls for it.
    fn after_write(&self, pending: usize) {
        if pending >= WRITE_BACKLOG_LIMIT {
            // Maintenance is far behind: help, waiting if necessary.
            self.run_pending_tasks();
        } else if pending % WRITE_DRAIN_EVERY == 0 {
            self.try_maintain();
        } else {
            self.notifier.deliver(false);
        }
    }

    /// Runs maintenance if nobody else is.
    fn try_maintain(&self) {
        if let Some(mut m) = self.maintenance.try_lock() {
            let reclaimed = self.maintain(&mut m);
            drop(m);
            drop(reclaimed);
        }
        self.notifier.deliver(false);
    }

    /// Drains every buffer and applies evictions now; by return, the listener
    /// has seen every removal applied so far.
    pub(crate) fn run_pending_tasks(&self) {
        let mut m = self.maintenance.lock();
        let reclaimed = self.maintain(&mut m);
        drop(m);
        drop(reclaimed);
        self.notifier.deliver(true);
        // A retired batch is safe once the global epoch has advanced twice
        // past it; each flush advances it at most once (and only when no other
        // thread is pinned). Three flushes make what this run retired safe
        // when the cache is otherwise idle; freeing it then, as moka users
        // expect after this call, takes the lock once more.
        for _ in 0..3 {
            crossbeam_epoch::pin().flush();
        }
        let mut m = self.maintenance.lock();
        let guard = crossbeam_epoch::pin();
        let reclaimed = m.seal_and_reclaim(&guard);
        drop(guard);
        drop(m);
        drop(reclaimed);
    }

    /// One maintenance run (caller holds the maintenance lock). Returns the
    /// nodes it may now free, which the caller drops after unlocking.
    fn maintain(&self, m: &mut Maintenance<K, V>) -> Reclaimed<K, V> {
        let guard = crossbeam_epoch::pin();
        self.apply_reads(m, None);
        self.drain_writes(m);
        self.expire(m, &guard);
        m.policy.climb();
        self.evict(m, &guard);
        self.entry_count
            .store(m.policy.entries(), Ordering::Relaxed);
        self.weighted_size
            .store(m.policy.weighted_size(), Ordering::Relaxed);
        m.seal_and_reclaim(&guard)
    }

    /// Applies the read records of ring `ring`, or of every ring.
    fn apply_reads(&self, m: &mut Maintenance<K, V>, ring: Option<usize>) {
        let Maintenance {
            policy, expirer, ..
        } = m;
        let reschedule = if self.reads_move_deadlines {
            expirer.as_mut()
        } else {
            None
        };
        match reschedule {
            None => self.drain_reads(ring, |rec| policy.on_read_record(rec)),
            Some(expirer) => self.drain_reads(ring, |rec| {
                policy.on_read_record(rec);
                // A read may have moved the deadline earlier (an `Expiry`
                // that shortens on read): schedule the node's current one.
                let slot = (rec >> 32) as u32 - 1;
                if let Some(p) = policy.try_node(slot) {
                    // SAFETY: slab slots hold live nodes; we hold the
                    // maintenance lock.
                    let n = unsafe { p.get() };
                    if n.hash as u32 == rec as u32 {
                        expirer.on_write(slot, n.deadline.load(Ordering::Relaxed));
                    }
                }
            }),
        }
    }

    fn drain_reads(&self, ring: Option<usize>, f: impl FnMut(u64)) {
        match ring {
            Some(r) => self.reads.drain_ring(r, f),
            None => self.reads.drain(f),
        }
    }

    /// Applies every dirty stripe's write events.
    fn drain_writes(&self, m: &mut Maintenance<K, V>) {
        for w in 0..self.table.dirty_words() {
            let mut bits = self.table.take_dirty_word(w);
            while bits != 0 {
                let stripe = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let mut events = std::mem::take(&mut m.spare);
                {
                    let mut locked = self.table.lock_stripe(stripe);
                    events = locked.swap_events(events);
                }
                self.apply_events(m, &mut events);
                m.spare = events;
            }
        }
    }

    fn apply_events(&self, m: &mut Maintenance<K, V>, events: &mut Vec<WriteEvent<K, V>>) {
        self.pending.fetch_sub(events.len(), Ordering::Relaxed);
        for e in events.drain(..) {
            match e {
                WriteEvent::Insert(n) => {
                    let slot = m.policy.on_insert(n);
                    if let Some(e) = &mut m.expirer {
                        // SAFETY: linked or pending removal: not yet retired.
                        e.on_write(slot, unsafe { n.get() }.deadline.load(Ordering::Relaxed));
                    }
                }
                WriteEvent::Update { old, new } => {
                    let slot = m.policy.on_update(old, new);
                    if let Some(e) = &mut m.expirer {
                        // SAFETY: as above.
                        e.on_write(slot, unsafe { new.get() }.deadline.load(Ordering::Relaxed));
                    }
                    // SAFETY: `old` is unlinked and the policy just forgot it.
                    unsafe { retire(m, old) };
                }
                WriteEvent::Remove(old) => {
                    if let Some(e) = &mut m.expirer {
                        // SAFETY: unlinked, not yet retired.
                        let slot = unsafe { old.get() }.slot.load(Ordering::Relaxed);
                        if slot != NO_SLOT {
                            e.on_remove(slot);
                        }
                    }
                    m.policy.on_remove(old);
                    // SAFETY: as above.
                    unsafe { retire(m, old) };
                }
            }
        }
    }

    /// Removes expired entries whose timers are due.
    fn expire(&self, m: &mut Maintenance<K, V>, guard: &Guard) {
        let Some(expirer) = &mut m.expirer else {
            return;
        };
        let now = self.config.clock.now_raising_floor();
        m.last_full_run = now;
        let mut due = std::mem::take(&mut m.due);
        expirer.take_due(now, &mut due);
        for &slot in &due {
            // Applying events below may have freed or reused the slot.
            let Some(ptr) = m.policy.try_node(slot) else {
                continue;
            };
            // SAFETY: slab slots hold live nodes; we hold the maintenance lock.
            let deadline = unsafe { ptr.get() }.deadline.load(Ordering::Relaxed);
            if deadline > now {
                // A read pushed the deadline back: look again then.
                if let Some(e) = &mut m.expirer {
                    e.on_write(slot, deadline);
                }
            } else {
                self.evict_slot(m, slot, now, guard);
            }
        }
        due.clear();
        m.due = due;
    }

    /// Evicts while over capacity.
    fn evict(&self, m: &mut Maintenance<K, V>, guard: &Guard) {
        m.policy.begin_eviction();
        let now = self.now();
        while let Some(slot) = m.policy.next_victim() {
            self.evict_slot(m, slot, now, guard);
        }
        m.policy.end_eviction();
    }

    /// Unlinks the node of `slot` from the table, reports it (`Expired` if
    /// its deadline has passed, else `Size`), makes the policy forget it and
    /// retires it. If a writer replaced or removed it meanwhile, applies that
    /// stripe's pending events instead (which updates the slot). Returns
    /// whether it evicted.
    fn evict_slot(&self, m: &mut Maintenance<K, V>, slot: u32, now: u64, guard: &Guard) -> bool {
        let ptr = m.policy.node(slot);
        // SAFETY: slab slots hold live nodes; we hold the maintenance lock.
        let node = unsafe { ptr.get() };
        let mut locked = self.table.lock(node.hash);
        let cause = if self.expiring && node.is_expired(now) {
            RemovalCause::Expired
        } else {
            RemovalCause::Size
        };
        let Some(i) = locked.find_node(ptr.as_ptr(), node.hash, guard) else {
            // A writer replaced or removed it; its event is in this stripe's
            // buffer. Apply that stripe's events and go on.
            let mut events = locked.swap_events(std::mem::take(&mut m.spare));
            drop(locked);
            self.apply_events(m, &mut events);
            m.spare = events;
            return false;
        };
        // Clone for the listener (user code) before changing anything.
        let note = self
            .notifier
            .enabled()
            .then(|| (Arc::clone(&node.key), node.value.clone()));
        locked.remove_at(i, guard);
        if let Some((k, v)) = note {
            self.notifier.push(k, v, cause);
        }
        drop(locked);
        if let Some(stats) = &self.stats {
            stats.eviction(ring_hint(), node.weight);
        }
        if let Some(e) = &mut m.expirer {
            e.on_remove(slot);
        }
        m.policy.remove_slot(slot);
        // SAFETY: unlinked above; the policy forgot it; no pending event
        // names it (it was linked, so no Update/Remove for it is pending).
        unsafe { retire(m, ptr) };
        true
    }

    /// Removes every entry (each reported as `Explicit`).
    pub(crate) fn invalidate_all(&self) {
        let guard = crossbeam_epoch::pin();
        for s in 0..self.table.stripe_count() {
            let mut locked = self.table.lock_stripe(s);
            let removed = locked.remove_all(&guard);
            let now = self.now();
            for p in &removed {
                // SAFETY: these were linked until `remove_all` under our lock.
                let n = unsafe { p.deref() };
                if self.notifier.enabled() {
                    let cause = if self.expiring && n.is_expired(now) {
                        RemovalCause::Expired
                    } else {
                        RemovalCause::Explicit
                    };
                    self.notifier
                        .push(Arc::clone(&n.key), n.value.clone(), cause);
                }
            }
            self.count_event(removed.len());
            for p in removed {
                // SAFETY: as above.
                locked.push_event(WriteEvent::Remove(NodePtr::from_ref(unsafe { p.deref() })));
            }
            drop(locked);
        }
        drop(guard);
        self.try_maintain();
    }

    /// Removes the entries for which `pred` holds. The predicate runs with no
    /// lock held; an entry replaced meanwhile is not removed.
    pub(crate) fn invalidate_if(&self, pred: &dyn Fn(&K, &V) -> bool) {
        for s in 0..self.table.stripe_count() {
            let guard = crossbeam_epoch::pin();
            let mut doomed: Vec<*const Node<K, V>> = Vec::new();
            self.table.for_each_in_stripe(s, &guard, |n| {
                if pred(&n.key, &n.value) {
                    doomed.push(n);
                }
            });
            if doomed.is_empty() {
                continue;
            }
            let mut locked = self.table.lock_stripe(s);
            let now = self.now();
            for p in doomed {
                // SAFETY: `p` was read under `guard`, still pinned, so it has
                // not been freed (maybe unlinked: then remove_node is false).
                let n = unsafe { &*p };
                let note = self
                    .notifier
                    .enabled()
                    .then(|| (Arc::clone(&n.key), n.value.clone()));
                if locked.remove_node(p, n.hash, &guard) {
                    self.count_event(1);
                    locked.push_event(WriteEvent::Remove(NodePtr::from_ref(n)));
                    if let Some((k, v)) = note {
                        let cause = if self.expiring && n.is_expired(now) {
                            RemovalCause::Expired
                        } else {
                            RemovalCause::Explicit
                        };
                        self.notifier.push(k, v, cause);
                    }
                }
            }
            drop(locked);
        }
        self.try_maintain();
    }

    /// A weakly consistent snapshot of one stripe's live, unexpired entries.
    pub(crate) fn snapshot_stripe(&self, s: usize, out: &mut Vec<(Arc<K>, V)>) {
        let guard = crossbeam_epoch::pin();
        let now = self.now();
        self.table.for_each_in_stripe(s, &guard, |n| {
            if !n.is_expired(now) {
                out.push((Arc::clone(&n.key), n.value.clone()));
            }
        });
    }

    /// Number of stripes (for iteration).
    pub(crate) fn stripe_count(&self) -> usize {
        self.table.stripe_count()
    }

    /// Entries as of the last maintenance run.
    pub(crate) fn entry_count(&self) -> u64 {
        self.entry_count.load(Ordering::Relaxed)
    }

    /// Total weight as of the last maintenance run.
    pub(crate) fn weighted_size(&self) -> u64 {
        self.weighted_size.load(Ordering::Relaxed)
    }

    /// Heap bytes of the table arrays and the policy (not the nodes).
    #[cfg(test)]
    pub(crate) fn structure_heap_bytes(&self) -> usize {
        self.table.heap_bytes() + self.maintenance.lock().policy.heap_bytes()
    }

    /// Runs `f` on the policy under the maintenance lock (tests).
    #[cfg(test)]
    pub(crate) fn with_policy<R>(&self, f: impl FnOnce(&Policy<K, V>) -> R) -> R {
        f(&self.maintenance.lock().policy)
    }
}

/// Times a load for the statistics; a load that never finishes (its loader
/// panicked) counts as a failure.
pub(crate) struct LoadTimer<'a> {
    stats: Option<&'a StatsCounter>,
    start: std::time::Instant,
    done: bool,
}

impl<'a> LoadTimer<'a> {
    pub(crate) fn start(stats: Option<&'a StatsCounter>) -> Self {
        Self {
            stats,
            start: std::time::Instant::now(),
            done: false,
        }
    }

    pub(crate) fn finish(mut self, ok: bool) {
        self.record(ok);
    }

    fn record(&mut self, ok: bool) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        if let Some(stats) = self.stats {
            stats.load(ring_hint(), ok, self.start.elapsed());
        }
    }
}

impl Drop for LoadTimer<'_> {
    fn drop(&mut self) {
        self.record(false);
    }
}

/// Adds an unlinked node to the current maintenance run's retirement batch
/// (freed after a grace period: see [`RetiredBatch`]).
///
/// # Safety
/// The node must be unlinked from the table, forgotten by the policy, named
/// by no pending write event, and retired only once.
unsafe fn retire<K, V>(m: &mut Maintenance<K, V>, ptr: NodePtr<K, V>) {
    m.retiring.push(ptr);
}

impl<K, V, S> Drop for Core<K, V, S> {
    fn drop(&mut self) {
        // Unlinked nodes still named by pending events are ours to free;
        // linked ones are freed by the table's Drop.
        for e in self.table.drain_events_mut() {
            let old = match e {
                WriteEvent::Insert(_) => continue,
                WriteEvent::Update { old, .. } => old,
                WriteEvent::Remove(old) => old,
            };
            // SAFETY: `&mut self`: no other thread can reach the node; it is
            // unlinked and was never retired (its event was not applied).
            unsafe { drop(Owned::from_raw(old.as_ptr() as *mut Node<K, V>)) };
        }
        // `&mut self`: no reader of this cache is left, so every retired node
        // can be freed now, grace period or not.
        let reclaimed = self.maintenance.lock().reclaim_all();
        drop(reclaimed);
        self.notifier.deliver(true);
        // Let the epoch collector run what is deferred (retired table arrays,
        // this cache's batch flags).
        for _ in 0..4 {
            crossbeam_epoch::pin().flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Queue;

    fn core(max: u64) -> Core<u64, u64, ahash::RandomState> {
        Core::new(
            Config {
                max_capacity: Some(max),
                ..Config::default()
            },
            ahash::RandomState::with_seeds(1, 2, 3, 4),
        )
    }

    #[test]
    fn policy_invariants_hold_through_random_operations() {
        let c = core(64);
        let mut x = 1u64;
        let steps = if cfg!(miri) { 300 } else { 20_000 };
        for step in 0..steps {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = x % 256;
            match x % 7 {
                0..=2 => c.insert(k, k),
                3 => {
                    c.remove(&k);
                }
                4 if step % 50 == 0 => c.invalidate_all(),
                _ => {
                    c.get(&k);
                }
            }
            if step % 97 == 0 {
                c.run_pending_tasks();
                c.with_policy(|p| {
                    p.check_invariants();
                    assert!(p.weighted_size() <= 64);
                    assert!(p.window_max() <= 64);
                });
            }
        }
    }

    #[test]
    fn new_entries_enter_the_window_and_hits_promote_from_probation() {
        let c = core(100);
        // Events of different stripes are applied in stripe order, so apply
        // each insert before the next to get a known recency order.
        for k in 0..100 {
            c.insert(k, k);
            c.run_pending_tasks();
        }
        let slot_of = |k: u64| {
            let guard = crossbeam_epoch::pin();
            c.table
                .find(c.hash(&k), &k, &guard)
                .unwrap()
                .slot
                .load(Ordering::Relaxed)
        };
        // The window is 1% of 100: the newest key is there, older ones on probation.
        c.with_policy(|p| {
            assert_eq!(p.queue_of(slot_of(99)), Queue::Window);
            assert_eq!(p.queue_of(slot_of(0)), Queue::Probation);
        });
        // A hit only marks the slot; the promotion happens when eviction
        // reaches it at the head of probation.
        for _ in 0..3 {
            c.get(&0);
        }
        // Each newcomer is read once too: admission wants a lead of more
        // than one count over the unreferenced residents.
        for k in 100..150 {
            c.insert(k, k);
            c.get(&k);
            c.run_pending_tasks();
        }
        assert_eq!(
            c.get(&0),
            Some(0),
            "a referenced entry survives the eviction scan"
        );
        c.with_policy(|p| {
            assert_eq!(p.queue_of(slot_of(0)), Queue::Protected);
            p.check_invariants();
        });
        assert_eq!(
            c.get(&1),
            None,
            "an unreferenced older entry was the victim"
        );
    }

    #[test]
    fn structures_grow_with_entries_not_with_capacity() {
        let small = core(u64::MAX / 2);
        small.insert(1, 1);
        small.run_pending_tasks();
        let empty_bytes = small.structure_heap_bytes();
        assert!(
            empty_bytes < 256 * 1024,
            "{empty_bytes} bytes for one entry"
        );
        let live: usize = small.with_policy(|p| p.live_slots().count());
        assert_eq!(live, 1);
        assert!(small.with_policy(|p| p.heap_bytes()) < 4096);
    }
}
