//! Coalesced loading: one loader per key, everyone else waits for it.
//!
//! The registry holds one [`InFlight`] record per key being loaded (or
//! computed), in a few mutex-protected shards picked by hash. The first caller
//! for a key registers a record and becomes its *leader*: it runs the user's
//! loader with no lock held, inserts the value into the cache, then publishes
//! the outcome on the record and removes it from the registry. Later callers
//! find the record and wait on it: blocking callers park on its condition
//! variable, async callers register a waker (updated on every poll, so a task
//! that moves to another waker is still woken: quick_cache #104's lost
//! wake-up cannot happen).
//!
//! The leader holds a [`LeadGuard`]. If the loader panics, or the leader's
//! future is dropped mid-load (cancellation), the guard's `Drop` publishes
//! `Retry` and unregisters the record; every waiter wakes, looks the key up
//! again, and one of them becomes the next leader. Nothing is poisoned and no
//! record outlives its leader (quick_cache #120's leaked guard cannot happen:
//! a record is created only by a leader, and owned by its guard).
//!
//! A blocking loader that asks for its own key again would wait for itself;
//! the record remembers the leader's thread and such a call panics with a
//! clear message instead of deadlocking.

use crate::shim::{Condvar, Mutex};
use std::any::Any;
use std::borrow::Borrow;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread::ThreadId;

/// What a load produced, shared with the waiters.
pub(crate) enum Outcome<V> {
    /// A value (also inserted into the cache).
    Value(V),
    /// `try_get_with`'s error, type-erased (waiters downcast it).
    Error(Arc<dyn Any + Send + Sync>),
    /// `optionally_get_with`'s `None`.
    Nothing,
    /// No result to share (the leader panicked or was cancelled, or it was a
    /// compute): look the key up again.
    Retry,
}

impl<V: Clone> Clone for Outcome<V> {
    fn clone(&self) -> Self {
        match self {
            Self::Value(v) => Self::Value(v.clone()),
            Self::Error(e) => Self::Error(Arc::clone(e)),
            Self::Nothing => Self::Nothing,
            Self::Retry => Self::Retry,
        }
    }
}

struct State<V> {
    /// `None` while loading.
    outcome: Option<Outcome<V>>,
    /// Async waiters: (waiter id, its latest waker).
    wakers: Vec<(u64, Waker)>,
}

/// One key being loaded.
pub(crate) struct InFlight<K, V> {
    hash: u64,
    key: Arc<K>,
    /// The leader's thread, for blocking loads (re-entrancy detection).
    owner: Option<ThreadId>,
    state: Mutex<State<V>>,
    done: Condvar,
}

impl<K, V: Clone> InFlight<K, V> {
    /// Blocks until the leader publishes its outcome.
    pub(crate) fn wait_blocking(&self) -> Outcome<V> {
        if self.owner == Some(std::thread::current().id()) {
            panic!(
                "larder: a loader asked the cache to load the very key it is loading \
                 (get_with / entry().or_insert_with / and_compute_with re-entered for the same key); \
                 this would deadlock"
            );
        }
        let mut state = self.state.lock();
        loop {
            if let Some(o) = &state.outcome {
                return o.clone();
            }
            state = self.done.wait(state);
        }
    }

    /// Polls for the outcome, registering (or updating) waiter `id`'s waker.
    pub(crate) fn poll_outcome(&self, cx: &mut Context<'_>, id: u64) -> Poll<Outcome<V>> {
        let mut state = self.state.lock();
        if let Some(o) = &state.outcome {
            let o = o.clone();
            state.wakers.retain(|(w, _)| *w != id);
            return Poll::Ready(o);
        }
        match state.wakers.iter_mut().find(|(w, _)| *w == id) {
            Some((_, waker)) => {
                if !waker.will_wake(cx.waker()) {
                    waker.clone_from(cx.waker());
                }
            }
            None => state.wakers.push((id, cx.waker().clone())),
        }
        Poll::Pending
    }
}

/// One shard of the registry: the loads in flight whose hash maps to it.
type Shard<K, V> = Mutex<Vec<Arc<InFlight<K, V>>>>;

/// Waits (asynchronously) for a load's outcome. Dropping it unregisters its
/// waker.
pub(crate) struct WaitOutcome<K, V> {
    flight: Arc<InFlight<K, V>>,
    id: u64,
}

impl<K, V: Clone> WaitOutcome<K, V> {
    pub(crate) fn new(flight: Arc<InFlight<K, V>>) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self {
            flight,
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl<K, V: Clone> std::future::Future for WaitOutcome<K, V> {
    type Output = Outcome<V>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<V>> {
        self.flight.poll_outcome(cx, self.id)
    }
}

impl<K, V> Drop for WaitOutcome<K, V> {
    fn drop(&mut self) {
        self.flight
            .state
            .lock()
            .wakers
            .retain(|(w, _)| *w != self.id);
    }
}

/// The registry of loads in flight.
pub(crate) struct Loader<K, V> {
    shards: Box<[Shard<K, V>]>,
}

/// The result of [`Loader::join`].
pub(crate) enum Join<'a, K, V> {
    /// This caller registered the load and must run it.
    Lead(LeadGuard<'a, K, V>),
    /// Someone else is loading: wait on this record.
    Wait(Arc<InFlight<K, V>>),
}

impl<K, V> Loader<K, V> {
    /// A registry with `shards` shards (a power of two).
    pub(crate) fn new(shards: usize) -> Self {
        let n = shards.clamp(1, 1024).next_power_of_two();
        Self {
            shards: (0..n).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    fn shard(&self, hash: u64) -> &Shard<K, V> {
        &self.shards[(hash >> 7) as usize & (self.shards.len() - 1)]
    }

    /// Joins the load of `key`: as its leader (registering it; `make_key` is
    /// called only then) or as a waiter. The key's `Eq` runs under the shard
    /// lock before anything changes, so a panic there changes nothing.
    pub(crate) fn join<Q>(
        &self,
        hash: u64,
        key: &Q,
        make_key: impl FnOnce() -> Arc<K>,
        blocking: bool,
    ) -> Join<'_, K, V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let mut shard = self.shard(hash).lock();
        if let Some(f) = shard
            .iter()
            .find(|f| f.hash == hash && f.key.as_ref().borrow() == key)
        {
            return Join::Wait(Arc::clone(f));
        }
        let flight = Arc::new(InFlight {
            hash,
            key: make_key(),
            owner: blocking.then(|| std::thread::current().id()),
            state: Mutex::new(State {
                outcome: None,
                wakers: Vec::new(),
            }),
            done: Condvar::new(),
        });
        shard.push(Arc::clone(&flight));
        Join::Lead(LeadGuard {
            loader: self,
            flight: Some(flight),
        })
    }

    /// Number of loads in flight (tests: the registry must end empty).
    pub(crate) fn in_flight(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

/// The leader's obligation to publish an outcome. Dropping it without
/// [`complete`](Self::complete) (a panic, a cancelled future) publishes
/// `Retry`.
pub(crate) struct LeadGuard<'a, K, V> {
    loader: &'a Loader<K, V>,
    flight: Option<Arc<InFlight<K, V>>>,
}

impl<K, V> LeadGuard<'_, K, V> {
    /// The key being loaded (shared: it becomes the cached entry's key).
    pub(crate) fn key(&self) -> &Arc<K> {
        &self.flight.as_ref().expect("guard is live").key
    }

    /// Publishes `outcome` to the waiters and unregisters the load.
    pub(crate) fn complete(mut self, outcome: Outcome<V>) {
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: Outcome<V>) {
        let Some(flight) = self.flight.take() else {
            return;
        };
        {
            let mut shard = self.loader.shard(flight.hash).lock();
            if let Some(pos) = shard.iter().position(|f| Arc::ptr_eq(f, &flight)) {
                shard.swap_remove(pos);
            }
        }
        let wakers = {
            let mut state = flight.state.lock();
            state.outcome = Some(outcome);
            std::mem::take(&mut state.wakers)
        };
        flight.done.notify_all();
        for (_, w) in wakers {
            w.wake();
        }
    }
}

impl<K, V> Drop for LeadGuard<'_, K, V> {
    fn drop(&mut self) {
        self.finish(Outcome::Retry);
    }
}

// Conversions between the façades' loader results and `Outcome`.

/// Accepts values only (`get_with`).
pub(crate) fn value_only<V>(o: Outcome<V>) -> Option<V> {
    match o {
        Outcome::Value(v) => Some(v),
        _ => None,
    }
}

pub(crate) fn fallible<V, E: Send + Sync + 'static>(r: Result<V, E>) -> Outcome<V> {
    match r {
        Ok(v) => Outcome::Value(v),
        Err(e) => Outcome::Error(Arc::new(e)),
    }
}

pub(crate) fn value_or_error<V, E: Send + Sync + 'static>(
    o: Outcome<V>,
) -> Option<Result<V, Arc<E>>> {
    match o {
        Outcome::Value(v) => Some(Ok(v)),
        // An error of another type came from a different kind of call: retry.
        Outcome::Error(e) => e.downcast::<E>().ok().map(Err),
        _ => None,
    }
}

pub(crate) fn optional<V>(o: Option<V>) -> Outcome<V> {
    o.map_or(Outcome::Nothing, Outcome::Value)
}

pub(crate) fn value_or_nothing<V>(o: Outcome<V>) -> Option<Option<V>> {
    match o {
        Outcome::Value(v) => Some(Some(v)),
        Outcome::Nothing => Some(None),
        _ => None,
    }
}

#[cfg(all(test, not(larder_loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn one_leader_many_waiters_and_the_registry_empties() {
        let loader: Loader<u32, u32> = Loader::new(4);
        let loads = AtomicUsize::new(0);
        let results: Vec<u32> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| match loader.join(7, &7, || Arc::new(7), true) {
                        Join::Lead(g) => {
                            loads.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            g.complete(Outcome::Value(70));
                            70
                        }
                        Join::Wait(f) => match f.wait_blocking() {
                            Outcome::Value(v) => v,
                            _ => panic!("unexpected outcome"),
                        },
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results, vec![70; 8]);
        assert!(loads.load(Ordering::SeqCst) >= 1);
        assert_eq!(loader.in_flight(), 0);
    }

    #[test]
    fn a_dropped_guard_publishes_retry() {
        let loader: Loader<u32, u32> = Loader::new(1);
        let Join::Lead(g) = loader.join(1, &1, || Arc::new(1), false) else {
            panic!()
        };
        let Join::Wait(f) = loader.join(1, &1, || Arc::new(1), false) else {
            panic!()
        };
        drop(g);
        assert!(matches!(f.wait_blocking(), Outcome::Retry));
        assert_eq!(loader.in_flight(), 0);
    }

    #[test]
    fn waiting_on_your_own_load_panics_instead_of_deadlocking() {
        let loader: Loader<u32, u32> = Loader::new(1);
        let Join::Lead(_g) = loader.join(1, &1, || Arc::new(1), true) else {
            panic!()
        };
        let Join::Wait(f) = loader.join(1, &1, || Arc::new(1), true) else {
            panic!()
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.wait_blocking()));
        assert!(r.is_err());
    }
}

/// loom models of the waiter registry (`RUSTFLAGS="--cfg larder_loom" cargo
/// test --release --lib loom`): one leader at a time per key, every waiter
/// woken with the leader's outcome, including when the leader's guard is
/// dropped without completing (its loader panicked or its future was
/// cancelled), and an async waiter that changed wakers is woken on the last
/// one (quick_cache #104).
///
/// loom runs its threads as coroutines on one OS thread, so
/// `std::thread::current()` is the same for all of them and a *blocking*
/// join would take every other model thread for the leader itself (the
/// re-entrancy check would fire). The models therefore join with
/// `blocking = false` and then park in `wait_blocking`, which exercises the
/// same mutex / condition-variable protocol.
#[cfg(all(test, larder_loom))]
mod loom_models {
    use super::*;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;
    use std::future::Future;
    use std::pin::Pin;

    /// One caller of `get_with(7, ..)`: leads (and, if `give_up`, drops its
    /// guard without completing, as a panicking loader does) or waits.
    /// Returns the value it got, `None` if it gave up.
    fn load(
        loader: &Loader<u32, u32>,
        me: u32,
        give_up: bool,
        active: &AtomicUsize,
    ) -> Option<u32> {
        loop {
            match loader.join(7, &7, || Arc::new(7), false) {
                Join::Lead(guard) => {
                    assert_eq!(
                        active.fetch_add(1, Ordering::SeqCst),
                        0,
                        "two leaders at once"
                    );
                    active.fetch_sub(1, Ordering::SeqCst);
                    if give_up {
                        drop(guard);
                        return None;
                    }
                    guard.complete(Outcome::Value(100 + me));
                    return Some(100 + me);
                }
                Join::Wait(flight) => match flight.wait_blocking() {
                    Outcome::Value(v) => return Some(v),
                    Outcome::Retry => continue,
                    _ => panic!("unexpected outcome"),
                },
            }
        }
    }

    fn run(give_up: [bool; 3]) {
        loom::model(move || {
            let loader = Arc::new(Loader::<u32, u32>::new(1));
            let active = Arc::new(AtomicUsize::new(0));
            let others: Vec<_> = (1..3u32)
                .map(|me| {
                    let loader = Arc::clone(&loader);
                    let active = Arc::clone(&active);
                    thread::spawn(move || load(&loader, me, give_up[me as usize], &active))
                })
                .collect();
            // loom 0.7 explores nothing else when a thread just spawned
            // starts with an atomic load (tokio-rs/loom#392): yield first.
            thread::yield_now();
            let mut got = vec![load(&loader, 0, give_up[0], &active)];
            got.extend(others.into_iter().map(|h| h.join().unwrap()));
            for (me, g) in got.iter().enumerate() {
                match g {
                    None => assert!(give_up[me]),
                    // A value some completing leader published.
                    Some(v) => assert!((100..103).contains(v) && !give_up[(*v - 100) as usize]),
                }
            }
            assert_eq!(loader.in_flight(), 0, "a record outlived its leader");
        });
    }

    /// Three callers, nobody fails: one leader at a time, every waiter gets a
    /// leader's value (loom reports a deadlock if a waiter is never woken).
    #[test]
    fn loom_loader_one_leader_every_waiter_woken() {
        run([false; 3]);
    }

    /// The first caller's guard is dropped without completing (a panic): its
    /// waiters wake with `Retry`, one of them leads, and all get its value.
    #[test]
    fn loom_loader_dropped_guard_wakes_waiters_to_retry() {
        run([true, false, false]);
    }

    /// Counts wake-ups.
    struct Flag(AtomicUsize);

    impl std::task::Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// An async waiter polls with waker A, then with waker B, while the
    /// leader completes: if the second poll was pending, B is woken.
    #[test]
    fn loom_loader_waiter_that_changed_wakers_is_woken_on_the_new_one() {
        loom::model(|| {
            let loader = Arc::new(Loader::<u32, u32>::new(1));
            let Join::Lead(guard) = loader.join(7, &7, || Arc::new(7), false) else {
                panic!("first caller leads")
            };
            let Join::Wait(flight) = loader.join(7, &7, || Arc::new(7), false) else {
                panic!("second caller waits")
            };
            let a = Arc::new(Flag(AtomicUsize::new(0)));
            let b = Arc::new(Flag(AtomicUsize::new(0)));
            let waiter = {
                let (a, b) = (Arc::clone(&a), Arc::clone(&b));
                thread::spawn(move || {
                    let mut w = WaitOutcome::new(flight);
                    let wa = std::task::Waker::from(a);
                    let wb = std::task::Waker::from(b);
                    let first = Pin::new(&mut w).poll(&mut Context::from_waker(&wa));
                    let second = Pin::new(&mut w).poll(&mut Context::from_waker(&wb));
                    (first.is_pending(), second.is_pending(), w)
                })
            };
            thread::yield_now(); // tokio-rs/loom#392, see above
            guard.complete(Outcome::Value(42));
            let (_first_pending, second_pending, mut w) = waiter.join().unwrap();
            if second_pending {
                assert_eq!(
                    b.0.load(Ordering::SeqCst),
                    1,
                    "the latest waker was not woken"
                );
                let noop = std::task::Waker::from(Arc::new(Flag(AtomicUsize::new(0))));
                match Pin::new(&mut w).poll(&mut Context::from_waker(&noop)) {
                    Poll::Ready(Outcome::Value(42)) => {}
                    _ => panic!("woken but no outcome"),
                }
            }
            drop(w);
            assert_eq!(loader.in_flight(), 0);
        });
    }
}
