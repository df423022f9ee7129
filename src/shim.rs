//! One place for every synchronization primitive the crate uses.
//!
//! Under `--cfg larder_loom` the atomics and the mutex come from `loom`, so the
//! concurrency model tests in `tests/loom.rs` can explore their interleavings;
//! otherwise they are `std`'s atomics and `parking_lot`'s mutex. Code elsewhere
//! imports from here, never from `std::sync::atomic` or `parking_lot` directly.

#[cfg(not(larder_loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize};

#[cfg(larder_loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize};

pub(crate) use std::sync::atomic::Ordering;

/// A mutex that does not poison: a panic while it is held simply releases it.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(not(larder_loom))]
    inner: parking_lot::Mutex<T>,
    #[cfg(larder_loom)]
    inner: loom::sync::Mutex<T>,
}

/// The guard of [`Mutex`].
#[cfg(not(larder_loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;
/// The guard of [`Mutex`].
#[cfg(larder_loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    pub(crate) fn new(value: T) -> Self {
        Self {
            #[cfg(not(larder_loom))]
            inner: parking_lot::Mutex::new(value),
            #[cfg(larder_loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    /// Blocks until the lock is held.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(larder_loom))]
        {
            self.inner.lock()
        }
        #[cfg(larder_loom)]
        {
            self.inner.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    /// Takes the lock if it is free, without waiting.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        #[cfg(not(larder_loom))]
        {
            self.inner.try_lock()
        }
        #[cfg(larder_loom)]
        {
            match self.inner.try_lock() {
                Ok(g) => Some(g),
                Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
    }

    /// Mutable access without locking (requires `&mut self`).
    pub(crate) fn get_mut(&mut self) -> &mut T {
        #[cfg(not(larder_loom))]
        {
            self.inner.get_mut()
        }
        #[cfg(larder_loom)]
        {
            self.inner.get_mut().unwrap_or_else(|e| e.into_inner())
        }
    }
}

/// A condition variable for [`Mutex`].
#[derive(Debug, Default)]
pub(crate) struct Condvar {
    #[cfg(not(larder_loom))]
    inner: parking_lot::Condvar,
    #[cfg(larder_loom)]
    inner: loom::sync::Condvar,
}

impl Condvar {
    /// A new condition variable.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Releases the lock, waits for a notification, retakes the lock.
    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        #[cfg(not(larder_loom))]
        {
            let mut guard = guard;
            self.inner.wait(&mut guard);
            guard
        }
        #[cfg(larder_loom)]
        {
            self.inner.wait(guard).unwrap_or_else(|e| e.into_inner())
        }
    }

    /// Wakes every waiter.
    pub(crate) fn notify_all(&self) {
        #[cfg(not(larder_loom))]
        {
            self.inner.notify_all();
        }
        #[cfg(larder_loom)]
        {
            self.inner.notify_all();
        }
    }
}
