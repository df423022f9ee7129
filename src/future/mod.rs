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

mod cache;
mod entry;

pub use cache::Cache;
pub use entry::{OwnedKeyEntrySelector, RefKeyEntrySelector};
