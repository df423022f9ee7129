//! Time-based expiration: the public [`Expiry`] trait, and the queues
//! maintenance uses to find expired entries.
//!
//! Readers never rely on these queues: every read compares the entry's
//! deadline (stored in its node) with the clock, so an expired entry is never
//! returned, even before maintenance has removed it. The queues only decide
//! *when* maintenance reclaims it (amortised O(1) per entry):
//!
//! * **time-to-live only**: all deadlines are `write time + ttl`, so a queue
//!   in write order (an update moves the entry to the tail) is ordered by
//!   deadline; maintenance pops its head while the head has expired. Write
//!   events reach maintenance in time order except within one batch (stripes
//!   are drained one by one), so an entry is placed by a short walk back from
//!   the tail.
//! * **time-to-idle or a per-entry [`Expiry`]** (alone or combined with a
//!   TTL): deadlines differ per entry and move on reads, so entries are
//!   scheduled on a hierarchical timer wheel (`timer_wheel`), rescheduled on
//!   every write. Reads move a node's deadline without telling maintenance
//!   (that would put work on the read path); instead, when a timer fires,
//!   maintenance compares it with the node's real deadline and reschedules it
//!   if a read pushed it back. An entry read continually is thus looked at
//!   about once per time-to-idle period: amortised O(1).
//!
//! Access order is not used for time-to-idle because reads do not reorder the
//! eviction queues (see `policy`).

pub(crate) mod timer_wheel;

use crate::clock::NEVER;
use crate::policy::deque::{Deque, Link};
use std::time::{Duration, Instant};
use timer_wheel::TimerWheel;

/// Per-entry expiration, decided by the application.
///
/// Each method returns how long from *now* the entry should live: `None`
/// means it never expires (unless a time-to-live or time-to-idle set on the
/// builder comes first: the earliest deadline wins). Durations of any size
/// are accepted: `Duration::ZERO` expires the entry at once, `Duration::MAX`
/// means "in effect never".
///
/// The methods run on the thread that reads or writes the entry, with no
/// lock held. A panic propagates to that caller; the entry keeps its previous
/// deadline (or, on create, is not inserted).
///
/// ```
/// use larder::{Expiry, sync::Cache};
/// use std::time::{Duration, Instant};
///
/// /// Errors are cached briefly, successes for an hour.
/// struct ByOutcome;
/// impl Expiry<u32, Result<String, String>> for ByOutcome {
///     fn expire_after_create(&self, _k: &u32, v: &Result<String, String>, _at: Instant) -> Option<Duration> {
///         Some(if v.is_ok() { Duration::from_secs(3600) } else { Duration::from_secs(5) })
///     }
/// }
///
/// let (clock, mock) = larder::Clock::mock();
/// let cache = Cache::builder().expire_after(ByOutcome).clock(clock).build();
/// cache.insert(1, Err("timeout".to_string()));
/// cache.insert(2, Ok("row".to_string()));
/// mock.advance(Duration::from_secs(5));
/// assert!(cache.get(&1).is_none());
/// assert!(cache.get(&2).is_some());
/// ```
pub trait Expiry<K, V> {
    /// The lifetime of a newly inserted entry. Default: `None` (no per-entry
    /// limit).
    #[allow(unused_variables)]
    fn expire_after_create(&self, key: &K, value: &V, created_at: Instant) -> Option<Duration> {
        None
    }

    /// The remaining lifetime after a read. `duration_until_expiry` is the
    /// time left before this read (`None`: no per-entry deadline);
    /// `last_modified_at` is when the value was written. Default: keep it.
    #[allow(unused_variables)]
    fn expire_after_read(
        &self,
        key: &K,
        value: &V,
        read_at: Instant,
        duration_until_expiry: Option<Duration>,
        last_modified_at: Instant,
    ) -> Option<Duration> {
        duration_until_expiry
    }

    /// The lifetime after the value is replaced. `duration_until_expiry` is
    /// the time the old value had left. Default: keep it.
    #[allow(unused_variables)]
    fn expire_after_update(
        &self,
        key: &K,
        value: &V,
        updated_at: Instant,
        duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        duration_until_expiry
    }
}

/// Time left from `now` until `deadline` (`None` for [`NEVER`]).
pub(crate) fn until(deadline: u64, now: u64) -> Option<Duration> {
    (deadline != NEVER).then(|| Duration::from_nanos(deadline.saturating_sub(now)))
}

/// Finds expired entries for maintenance (see the module docs).
pub(crate) enum Expirer {
    /// Time-to-live only: a FIFO of writes, with each slot's deadline.
    WriteOrder {
        queue: Deque,
        links: Vec<Link>,
        deadlines: Vec<u64>,
    },
    /// Anything else: a timer wheel keyed by slot.
    Wheel(TimerWheel),
}

impl Expirer {
    /// The write-order FIFO (time-to-live only) or the wheel.
    pub(crate) fn new(ttl_only: bool, now: u64) -> Self {
        if ttl_only {
            Self::WriteOrder {
                queue: Deque::default(),
                links: Vec::new(),
                deadlines: Vec::new(),
            }
        } else {
            Self::Wheel(TimerWheel::new(now))
        }
    }

    /// Slot `slot` now holds an entry written with `deadline`.
    pub(crate) fn on_write(&mut self, slot: u32, deadline: u64) {
        match self {
            Self::WriteOrder {
                queue,
                links,
                deadlines,
            } => {
                let i = slot as usize;
                if links.len() <= i {
                    links.resize(i + 1, Link::UNLINKED);
                    deadlines.resize(i + 1, NEVER);
                }
                // A slot is queued exactly when its deadline is not NEVER.
                if deadlines[i] != NEVER {
                    queue.unlink(links, slot);
                }
                deadlines[i] = deadline;
                if deadline != NEVER {
                    // Writes arrive in time order except within one
                    // maintenance batch (stripes are drained one by one), so
                    // this walk from the tail is short.
                    let mut after = queue.back();
                    while let Some(a) = after {
                        if deadlines[a as usize] <= deadline {
                            break;
                        }
                        after = Deque::prev_of(links, a);
                    }
                    queue.insert_after(links, after, slot);
                }
            }
            Self::Wheel(w) => {
                if deadline == NEVER {
                    w.cancel(slot);
                } else {
                    w.schedule(slot, deadline);
                }
            }
        }
    }

    /// Slot `slot` no longer holds an entry.
    pub(crate) fn on_remove(&mut self, slot: u32) {
        match self {
            Self::WriteOrder {
                queue,
                links,
                deadlines,
            } => {
                let i = slot as usize;
                if i < deadlines.len() && deadlines[i] != NEVER {
                    queue.unlink(links, slot);
                    deadlines[i] = NEVER;
                }
            }
            Self::Wheel(w) => w.cancel(slot),
        }
    }

    /// Appends to `out` the slots whose scheduled deadline is at or before
    /// `now`, unscheduling them. The caller checks each node's real deadline
    /// and calls [`on_write`](Self::on_write) again for those that moved.
    pub(crate) fn take_due(&mut self, now: u64, out: &mut Vec<u32>) {
        match self {
            Self::WriteOrder {
                queue,
                links,
                deadlines,
            } => {
                while let Some(i) = queue.front() {
                    if deadlines[i as usize] > now {
                        break;
                    }
                    queue.unlink(links, i);
                    deadlines[i as usize] = NEVER;
                    out.push(i);
                }
            }
            Self::Wheel(w) => w.advance(now, out),
        }
    }

    /// Heap bytes (memory docs).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::WriteOrder {
                links, deadlines, ..
            } => links.capacity() * 8 + deadlines.capacity() * 8,
            Self::Wheel(w) => w.heap_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_order_places_out_of_order_writes_by_deadline() {
        let mut e = Expirer::new(true, 0);
        for (slot, d) in [(0u32, 30u64), (1, 10), (2, 20), (3, 20), (4, 5)] {
            e.on_write(slot, d);
        }
        let mut out = Vec::new();
        e.take_due(20, &mut out);
        assert_eq!(out, vec![4, 1, 2, 3]);
    }

    #[test]
    fn write_order_pops_in_deadline_order_and_respects_removal() {
        let mut e = Expirer::new(true, 0);
        for slot in 0..10u32 {
            e.on_write(slot, 100 + u64::from(slot));
        }
        e.on_remove(3);
        e.on_write(0, 500); // an update moves it to the tail
        let mut out = Vec::new();
        e.take_due(104, &mut out);
        assert_eq!(out, vec![1, 2, 4]);
        out.clear();
        e.take_due(499, &mut out);
        assert_eq!(out, vec![5, 6, 7, 8, 9]);
        out.clear();
        e.take_due(500, &mut out);
        assert_eq!(out, vec![0]);
        assert!(e.heap_bytes() > 0);
    }

    #[test]
    fn wheel_reschedules_on_writes_and_cancels_on_never() {
        let mut e = Expirer::new(false, 0);
        e.on_write(1, 10);
        e.on_write(2, 10);
        e.on_write(1, 50);
        e.on_write(2, NEVER);
        let mut out = Vec::new();
        e.take_due(10, &mut out);
        assert!(out.is_empty());
        e.take_due(50, &mut out);
        assert_eq!(out, vec![1]);
        e.on_remove(1);
    }

    #[test]
    fn until_saturates() {
        assert_eq!(until(NEVER, 5), None);
        assert_eq!(until(3, 5), Some(Duration::ZERO));
        assert_eq!(until(15, 5), Some(Duration::from_nanos(10)));
    }
}
