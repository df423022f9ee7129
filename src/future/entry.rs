//! The entry API of `future::Cache`.

use crate::core::Core;
use crate::future::listener::ListenerQueue;
use crate::loader::Outcome;
use crate::ops::compute::{CompResult, Op};
use crate::ops::Entry;
use std::borrow::Borrow;
use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// Operations on one entry, selected by an owned key (`cache.entry(key)`).
pub struct OwnedKeyEntrySelector<'a, K, V, S> {
    pub(crate) key: K,
    pub(crate) core: &'a Core<K, V, S>,
    pub(crate) listeners: Option<&'a ListenerQueue>,
}

/// Operations on one entry, selected by a borrowed key.
pub struct RefKeyEntrySelector<'a, K, Q: ?Sized, V, S> {
    pub(crate) key: &'a Q,
    pub(crate) core: &'a Core<K, V, S>,
    pub(crate) listeners: Option<&'a ListenerQueue>,
}

/// Runs the async eviction listener's queued futures, if any.
async fn run_listeners(listeners: Option<&ListenerQueue>) {
    if let Some(queue) = listeners {
        queue.run().await;
    }
}

macro_rules! async_selector_methods {
    () => {
        /// The cached entry, or `default` inserted.
        pub async fn or_insert(self, default: V) -> Entry<K, V> {
            self.or_insert_with(async { default }).await
        }

        /// The cached entry, or `V::default()` inserted.
        ///
        /// ```
        /// futures::executor::block_on(async {
        ///     let cache: larder::future::Cache<u32, String> = larder::future::Cache::new(10);
        ///     let e = cache.entry(1).or_default().await;
        ///     assert!(e.is_fresh());
        ///     assert_eq!(e.into_value(), "");
        /// });
        /// ```
        pub async fn or_default(self) -> Entry<K, V>
        where
            V: Default,
        {
            self.or_insert_with(async { V::default() }).await
        }

        /// Like [`or_insert_with`](Self::or_insert_with), but also replaces
        /// a cached value for which `replace_if` returns `true` with `init`'s
        /// output. Atomic with respect to other loads and computes of the key
        /// (they wait). The entry is fresh when this call's `init` ran.
        ///
        /// ```
        /// futures::executor::block_on(async {
        ///     let cache = larder::future::Cache::new(10);
        ///     let e = cache.entry(1).or_insert_with_if(async { 10 }, |_| true).await;
        ///     assert!(e.is_fresh());
        ///     let e = cache.entry(1).or_insert_with_if(async { 20 }, |v| *v > 10).await;
        ///     assert!(!e.is_fresh());
        ///     let e = cache.entry(1).or_insert_with_if(async { 20 }, |v| *v == 10).await;
        ///     assert_eq!((e.is_fresh(), e.into_value()), (true, 20));
        /// });
        /// ```
        pub async fn or_insert_with_if(
            self,
            init: impl Future<Output = V>,
            mut replace_if: impl FnMut(&V) -> bool + Send,
        ) -> Entry<K, V> {
            let r = self
                .and_compute_with(|current| {
                    let replace = match &current {
                        Some(e) => replace_if(e.value()),
                        None => true,
                    };
                    async move {
                        if replace {
                            Op::Put(init.await)
                        } else {
                            Op::Nop
                        }
                    }
                })
                .await;
            match r {
                CompResult::Inserted(e)
                | CompResult::ReplacedWith(e)
                | CompResult::Unchanged(e) => e,
                CompResult::Removed(_) | CompResult::StillNone(_) => {
                    unreachable!("Op::Put or Op::Nop on an existing entry")
                }
            }
        }

        /// The cached entry, or `init`'s output inserted (one load per key
        /// at a time; the others await it).
        pub async fn or_insert_with(self, init: impl Future<Output = V>) -> Entry<K, V> {
            let r: Result<Entry<K, V>, ()> = self
                .load(async { Outcome::Value(init.await) }, |o| match o {
                    Outcome::Value(v) => Some(Ok(v)),
                    _ => None,
                })
                .await;
            r.unwrap_or_else(|()| unreachable!("a value load never fails"))
        }

        /// Like [`or_insert_with`](Self::or_insert_with); `None` caches
        /// nothing.
        pub async fn or_optionally_insert_with(
            self,
            init: impl Future<Output = Option<V>>,
        ) -> Option<Entry<K, V>> {
            self.load(
                async { init.await.map_or(Outcome::Nothing, Outcome::Value) },
                |o| match o {
                    Outcome::Value(v) => Some(Ok(v)),
                    Outcome::Nothing => Some(Err(())),
                    _ => None,
                },
            )
            .await
            .ok()
        }

        /// Like [`or_insert_with`](Self::or_insert_with) for a fallible
        /// `init` (the error is shared, nothing cached).
        pub async fn or_try_insert_with<F, E>(self, init: F) -> Result<Entry<K, V>, Arc<E>>
        where
            F: Future<Output = Result<V, E>>,
            E: Send + Sync + 'static,
        {
            self.load(
                async {
                    match init.await {
                        Ok(v) => Outcome::Value(v),
                        Err(e) => Outcome::Error(Arc::new(e)),
                    }
                },
                |o| match o {
                    Outcome::Value(v) => Some(Ok(v)),
                    Outcome::Error(e) => e.downcast::<E>().ok().map(Err),
                    _ => None,
                },
            )
            .await
        }

        /// Reads the entry, awaits `f`'s decision and carries it out,
        /// atomically with respect to other computes and loads of the key.
        pub async fn and_compute_with<F, Fut>(self, f: F) -> CompResult<K, V>
        where
            F: FnOnce(Option<Entry<K, V>>) -> Fut,
            Fut: Future<Output = Op<V>>,
        {
            let r: Result<_, std::convert::Infallible> =
                self.compute(|e| async { Ok(f(e).await) }, false).await;
            match r {
                Ok(r) => r,
                Err(never) => match never {},
            }
        }

        /// Like [`and_compute_with`](Self::and_compute_with) for a fallible
        /// `f` (an error changes nothing).
        pub async fn and_try_compute_with<F, Fut, E>(self, f: F) -> Result<CompResult<K, V>, E>
        where
            F: FnOnce(Option<Entry<K, V>>) -> Fut,
            Fut: Future<Output = Result<Op<V>, E>>,
        {
            self.compute(f, false).await
        }

        /// Like [`and_try_compute_with`](Self::and_try_compute_with), but if
        /// another compute or load of the key is in progress it returns at
        /// once, without running `f`: `Unchanged` with the current entry, or
        /// `StillNone`.
        ///
        /// ```
        /// use larder::ops::compute::{CompResult, Op};
        /// futures::executor::block_on(async {
        ///     let cache = larder::future::Cache::new(10);
        ///     let r = cache
        ///         .entry(1)
        ///         .and_try_compute_if_nobody_else(|_| async { Ok::<_, ()>(Op::Put(7)) })
        ///         .await;
        ///     assert!(matches!(r, Ok(CompResult::Inserted(_))));
        /// });
        /// ```
        pub async fn and_try_compute_if_nobody_else<F, Fut, E>(
            self,
            f: F,
        ) -> Result<CompResult<K, V>, E>
        where
            F: FnOnce(Option<Entry<K, V>>) -> Fut,
            Fut: Future<Output = Result<Op<V>, E>>,
        {
            self.compute(f, true).await
        }

        /// Inserts or replaces the value with `f`'s output.
        pub async fn and_upsert_with<F, Fut>(self, f: F) -> Entry<K, V>
        where
            F: FnOnce(Option<Entry<K, V>>) -> Fut,
            Fut: Future<Output = V>,
        {
            match self
                .and_compute_with(|e| async { Op::Put(f(e).await) })
                .await
            {
                CompResult::Inserted(e) | CompResult::ReplacedWith(e) => e,
                _ => unreachable!("Op::Put always inserts or replaces"),
            }
        }
    };
}

impl<'a, K, V, S> OwnedKeyEntrySelector<'a, K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    async fn load<E>(
        self,
        init: impl Future<Output = Outcome<V>>,
        read: impl Fn(Outcome<V>) -> Option<Result<V, E>>,
    ) -> Result<Entry<K, V>, E> {
        let key = Arc::new(self.key);
        let (r, fresh) = self.core.load_arc_async(Arc::clone(&key), init, read).await;
        run_listeners(self.listeners).await;
        r.map(|v| Entry::new(key, v, fresh, false))
    }

    async fn compute<E, Fut>(
        self,
        f: impl FnOnce(Option<Entry<K, V>>) -> Fut,
        skip_if_busy: bool,
    ) -> Result<CompResult<K, V>, E>
    where
        Fut: Future<Output = Result<Op<V>, E>>,
    {
        let key = Arc::new(self.key);
        let k2 = Arc::clone(&key);
        let r = self
            .core
            .compute_async(&*key, move || k2, f, skip_if_busy)
            .await;
        run_listeners(self.listeners).await;
        r
    }

    async_selector_methods!();
}

impl<'a, K, Q, V, S> RefKeyEntrySelector<'a, K, Q, V, S>
where
    K: Hash + Eq + Send + Sync + 'static + Borrow<Q>,
    Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    async fn load<E>(
        self,
        init: impl Future<Output = Outcome<V>>,
        read: impl Fn(Outcome<V>) -> Option<Result<V, E>>,
    ) -> Result<Entry<K, V>, E> {
        let (r, fresh) = self.core.load_by_ref_async(self.key, init, read).await;
        run_listeners(self.listeners).await;
        r.map(|v| Entry::new(Arc::new(self.key.to_owned()), v, fresh, false))
    }

    async fn compute<E, Fut>(
        self,
        f: impl FnOnce(Option<Entry<K, V>>) -> Fut,
        skip_if_busy: bool,
    ) -> Result<CompResult<K, V>, E>
    where
        Fut: Future<Output = Result<Op<V>, E>>,
    {
        let key = self.key;
        let r = self
            .core
            .compute_async(key, || Arc::new(key.to_owned()), f, skip_if_busy)
            .await;
        run_listeners(self.listeners).await;
        r
    }

    async_selector_methods!();
}
