//! Removal notifications: why an entry left, and the queue that delivers them
//! to the eviction listener outside every internal lock.
//!
//! Removals are *enqueued* while the stripe lock of the removed key is held,
//! so the removals of one key are queued in the order they happened. They are
//! *delivered* by whichever thread gets the delivery token (a `try_lock`),
//! one at a time and in queue order, with no table, stripe or maintenance lock
//! held: a listener may call back into the cache. A listener that re-enters
//! the cache and causes more removals on the same thread finds the token taken
//! by its own outer frame, which delivers them after it returns.

use crate::shim::Mutex;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

/// Why an entry left the cache.
///
/// ```
/// use larder::notification::RemovalCause;
/// assert!(RemovalCause::Size.was_evicted());
/// assert!(!RemovalCause::Explicit.was_evicted());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RemovalCause {
    /// Removed by `remove`, `invalidate`, `invalidate_all` or
    /// `invalidate_entries_if`.
    Explicit,
    /// Its value was replaced by an insert or an update.
    Replaced,
    /// Evicted to keep the cache within its capacity, or refused admission.
    Size,
    /// Its time-to-live, time-to-idle or `Expiry` deadline passed.
    Expired,
}

impl RemovalCause {
    /// Whether the cache removed the entry by itself (`Size` or `Expired`).
    pub fn was_evicted(&self) -> bool {
        matches!(self, Self::Size | Self::Expired)
    }
}

/// The future an async eviction listener returns (see
/// [`future::CacheBuilder::async_eviction_listener`](crate::future::CacheBuilder::async_eviction_listener));
/// the same type as moka's `notification::ListenerFuture`.
pub type ListenerFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The user's eviction listener.
pub(crate) type Listener<K, V> = Arc<dyn Fn(Arc<K>, V, RemovalCause) + Send + Sync + 'static>;

/// Pending notifications and the delivery token.
pub(crate) struct Notifier<K, V> {
    listener: Option<Listener<K, V>>,
    queue: Mutex<VecDeque<(Arc<K>, V, RemovalCause)>>,
    delivering: Mutex<()>,
}

thread_local! {
    /// Notifiers this thread is delivering for (re-entrancy detection).
    static DELIVERING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Marks a notifier as being delivered by this thread, for its lifetime.
struct Mark(usize);

impl Mark {
    fn new(id: usize) -> Self {
        DELIVERING.with(|d| d.borrow_mut().push(id));
        Mark(id)
    }
    fn held(id: usize) -> bool {
        DELIVERING.with(|d| d.borrow().contains(&id))
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        DELIVERING.with(|d| {
            let mut d = d.borrow_mut();
            if let Some(pos) = d.iter().rposition(|&x| x == self.0) {
                d.remove(pos);
            }
        });
    }
}

impl<K, V> Notifier<K, V> {
    /// A notifier; without a listener every call is a cheap no-op.
    pub(crate) fn new(listener: Option<Listener<K, V>>) -> Self {
        Self {
            listener,
            queue: Mutex::new(VecDeque::new()),
            delivering: Mutex::new(()),
        }
    }

    /// Whether there is a listener (callers skip cloning values otherwise).
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.listener.is_some()
    }

    /// Queues a notification. Call with the stripe lock of the key held.
    pub(crate) fn push(&self, key: Arc<K>, value: V, cause: RemovalCause) {
        if self.enabled() {
            self.queue.lock().push_back((key, value, cause));
        }
    }

    /// Delivers queued notifications. With `wait`, also waits for a delivery
    /// in progress on another thread, so that everything queued before this
    /// call has been delivered when it returns (unless called from inside the
    /// listener, where waiting would deadlock: then the outer frame delivers).
    pub(crate) fn deliver(&self, wait: bool) {
        let Some(listener) = &self.listener else {
            return;
        };
        let id = self as *const Self as usize;
        if Mark::held(id) {
            return;
        }
        loop {
            if !wait && self.queue.lock().is_empty() {
                return;
            }
            let token = if wait {
                self.delivering.lock()
            } else {
                match self.delivering.try_lock() {
                    Some(t) => t,
                    None => return,
                }
            };
            let _mark = Mark::new(id);
            loop {
                let next = self.queue.lock().pop_front();
                let Some((k, v, cause)) = next else { break };
                listener(k, v, cause);
            }
            drop(token);
            // Someone may have queued after our last pop and failed to take
            // the token while we held it: look again.
            if self.queue.lock().is_empty() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn delivers_in_order_and_tolerates_reentry_and_panics() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        let n: Arc<Notifier<u32, u32>> = Arc::new(Notifier::new(None));
        drop(n);
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let notifier: Notifier<u32, u32> =
            Notifier::new(Some(Arc::new(move |k: Arc<u32>, v, cause| {
                c.fetch_add(1, Ordering::SeqCst);
                if v == 99 {
                    panic!("listener panic");
                }
                s.lock().unwrap().push((*k, v, cause));
            })));
        notifier.push(Arc::new(1), 10, RemovalCause::Replaced);
        notifier.push(Arc::new(1), 11, RemovalCause::Explicit);
        notifier.deliver(false);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                (1, 10, RemovalCause::Replaced),
                (1, 11, RemovalCause::Explicit)
            ]
        );
        notifier.push(Arc::new(2), 99, RemovalCause::Size);
        notifier.push(Arc::new(3), 30, RemovalCause::Size);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| notifier.deliver(true)));
        assert!(r.is_err());
        // The panicking notification was consumed; the next one is delivered later.
        notifier.deliver(true);
        assert_eq!(
            seen.lock().unwrap().last(),
            Some(&(3, 30, RemovalCause::Size))
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }
}

/// loom model of delivery (`RUSTFLAGS="--cfg larder_loom" cargo test
/// --release --lib loom`): removals are queued under their key's stripe
/// lock (modelled by one loom mutex per key) and delivered by whichever
/// thread takes the token; each notification is delivered exactly once, in
/// order per key, and never by two threads at once.
///
/// Caveat: loom runs its threads as coroutines on one OS thread, so the
/// `std::thread_local!` re-entrancy mark (`DELIVERING`) is shared by all
/// model threads: a thread may see another's mark and return at once as if
/// it were re-entering. That only moves deliveries to other threads, so the
/// properties above are still checked, but "nothing is left queued once
/// every `deliver(false)` has returned" cannot be, and the final
/// `deliver(true)` on the main thread delivers the rest. (A `loom`
/// thread-local in `shim` would lift this.)
#[cfg(all(test, larder_loom))]
mod loom_models {
    use super::*;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    type Log = Arc<std::sync::Mutex<Vec<(u32, u32, RemovalCause)>>>;

    /// Queues the next removal of `key` (its sequence number is the value)
    /// under the key's "stripe lock", as the table's writers do.
    fn remove(n: &Notifier<u32, u32>, stripes: &[crate::shim::Mutex<u32>; 2], key: u32) {
        let mut seq = stripes[key as usize].lock();
        *seq += 1;
        n.push(Arc::new(key), *seq, RemovalCause::Explicit);
    }

    #[test]
    fn loom_notifications_delivered_once_in_order_per_key() {
        loom::model(|| {
            let log: Log = Arc::default();
            let inside = Arc::new(AtomicUsize::new(0));
            let listener: Listener<u32, u32> = {
                let (log, inside) = (Arc::clone(&log), Arc::clone(&inside));
                Arc::new(move |k: Arc<u32>, v, cause| {
                    assert_eq!(
                        inside.fetch_add(1, Ordering::SeqCst),
                        0,
                        "two deliveries at once"
                    );
                    log.lock().unwrap().push((*k, v, cause));
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            };
            let n = Arc::new(Notifier::new(Some(listener)));
            let stripes = Arc::new([crate::shim::Mutex::new(0), crate::shim::Mutex::new(0)]);
            let other = {
                let (n, stripes) = (Arc::clone(&n), Arc::clone(&stripes));
                thread::spawn(move || {
                    remove(&n, &stripes, 0);
                    remove(&n, &stripes, 1);
                    n.deliver(false);
                })
            };
            // loom 0.7 explores nothing else when a thread just spawned
            // starts with an atomic load (tokio-rs/loom#392): yield first.
            thread::yield_now();
            remove(&n, &stripes, 0);
            n.deliver(false);
            other.join().unwrap();
            n.deliver(true);
            let log = log.lock().unwrap();
            let of = |key| {
                log.iter()
                    .filter(|e| e.0 == key)
                    .map(|e| e.1)
                    .collect::<Vec<_>>()
            };
            assert_eq!(of(0), vec![1, 2], "key 0: lost, duplicated or out of order");
            assert_eq!(of(1), vec![1], "key 1: lost or duplicated");
            assert_eq!(log.len(), 3);
        });
    }
}
