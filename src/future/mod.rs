//! The asynchronous cache, for async code (tokio, smol, async-std, ...).
//!
//! `future::Cache` shares its core with [`sync::Cache`](crate::sync::Cache):
//! the same table, policy and maintenance. What differs is waiting: a task
//! that waits for another task's load registers its waker instead of
//! blocking a thread. No async runtime is required or used.
//!
//! # Cancellation
//! Dropping a loading future is safe at any point. If the dropped future was
//! running the loader (the *leader*), its registration is withdrawn and one
//! of the waiting tasks starts the load over; if it was waiting, its waker is
//! unregistered. Nobody waits forever, and nothing leaks.
//!
//! # Eviction listener
//! The listener is a plain closure, called on whichever task or thread
//! removed the entry, with no lock held. It must not block. To handle
//! removals asynchronously, forward them into a channel:
//!
//! ```
//! use larder::future::Cache;
//! use std::sync::mpsc;
//!
//! let (tx, rx) = mpsc::channel(); // or an async channel's sender
//! let tx = std::sync::Mutex::new(tx);
//! let cache: Cache<u32, String> = Cache::builder()
//!     .max_capacity(100)
//!     .eviction_listener(move |k, v, cause| {
//!         let _ = tx.lock().unwrap().send((*k, v, cause));
//!     })
//!     .build();
//! futures::executor::block_on(async {
//!     cache.insert(1, "one".into()).await;
//!     cache.invalidate(&1).await;
//! });
//! assert_eq!(rx.recv().unwrap().0, 1);
//! ```

mod builder;
mod cache;
mod entry;
mod listener;

pub use builder::CacheBuilder;
pub use cache::Cache;
pub use entry::{OwnedKeyEntrySelector, RefKeyEntrySelector};

/// The iterator of [`Cache::iter`] (the same type as
/// [`sync::Iter`](crate::sync::Iter)).
pub use crate::sync::Iter;

/// The id `invalidate_entries_if` returns (moka's `future::PredicateId`).
pub use crate::info::PredicateId;

use std::future::Future;
use std::pin::Pin;

/// A boxed, `Send` future (what [`FutureExt::boxed`] returns; the same type
/// as `futures::future::BoxFuture`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// moka's `future::FutureExt`: `boxed()` turns a future into a
/// [`BoxFuture`], handy for returning a
/// [`ListenerFuture`](crate::notification::ListenerFuture) from an async
/// eviction listener. Implemented for every future.
///
/// ```
/// use larder::future::FutureExt;
/// use larder::notification::ListenerFuture;
///
/// let f: ListenerFuture = async {}.boxed();
/// futures::executor::block_on(f);
/// ```
pub trait FutureExt: Future {
    /// Boxes and pins the future.
    fn boxed<'a, T>(self) -> BoxFuture<'a, T>
    where
        Self: Future<Output = T> + Sized + Send + 'a,
    {
        Box::pin(self)
    }
}

impl<T: Future + ?Sized> FutureExt for T {}
