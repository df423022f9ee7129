//! The entry API of `sync::Cache`: `cache.entry(key)` and
//! `cache.entry_by_ref(&key)`.

use crate::core::Core;
use crate::loader::Outcome;
use crate::ops::compute::{CompResult, Op};
use crate::ops::Entry;
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// Operations on one entry, selected by an owned key (`cache.entry(key)`).
pub struct OwnedKeyEntrySelector<'a, K, V, S> {
    pub(crate) key: K,
    pub(crate) core: &'a Core<K, V, S>,
}

/// Operations on one entry, selected by a borrowed key
/// (`cache.entry_by_ref(&key)`); the key is cloned only if an entry is
/// inserted.
pub struct RefKeyEntrySelector<'a, K, Q: ?Sized, V, S> {
    pub(crate) key: &'a Q,
    pub(crate) core: &'a Core<K, V, S>,
}

macro_rules! selector_methods {
    () => {
        /// The cached entry, or `default` inserted (coalesced with other
        /// loads of the key).
        pub fn or_insert(self, default: V) -> Entry<K, V> {
            self.or_insert_with(|| default)
        }

        /// The cached entry, or `V::default()` inserted (coalesced with
        /// other loads of the key).
        ///
        /// ```
        /// let cache: larder::sync::Cache<&str, Vec<u8>> = larder::sync::Cache::new(10);
        /// let e = cache.entry("k").or_default();
        /// assert!(e.is_fresh());
        /// assert!(e.value().is_empty());
        /// ```
        pub fn or_default(self) -> Entry<K, V>
        where
            V: Default,
        {
            self.or_insert_with(V::default)
        }

        /// The cached entry, or the value of `init` inserted. Concurrent
        /// calls for one key run `init` once; the others wait and get its
        /// value. `is_fresh()` tells whether this call ran it.
        pub fn or_insert_with(self, init: impl FnOnce() -> V) -> Entry<K, V> {
            self.load(
                || Outcome::Value(init()),
                |o| match o {
                    Outcome::Value(v) => Some(Ok(v)),
                    _ => None,
                },
            )
            .map(|(e, _)| e)
            .unwrap_or_else(|_: ()| unreachable!("a value load never fails"))
        }

        /// Like [`or_insert_with`](Self::or_insert_with), but also replaces
        /// a cached value for which `replace_if` returns `true` with the
        /// value of `init`.
        ///
        /// The check and the replacement are atomic with respect to other
        /// loads and computes of the key (they wait): concurrent callers run
        /// one at a time, each seeing the value the previous one left. The
        /// entry is fresh when this call's `init` ran; it then also tells
        /// whether an old value was replaced.
        ///
        /// ```
        /// let cache = larder::sync::Cache::new(10);
        /// let e = cache.entry(1).or_insert_with_if(|| 10, |_| true);
        /// assert!(e.is_fresh() && !e.is_old_value_replaced());
        /// let e = cache.entry(1).or_insert_with_if(|| 20, |v| *v > 10);
        /// assert!(!e.is_fresh());
        /// assert_eq!(e.into_value(), 10);
        /// let e = cache.entry(1).or_insert_with_if(|| 20, |v| *v == 10);
        /// assert!(e.is_fresh() && e.is_old_value_replaced());
        /// assert_eq!(e.into_value(), 20);
        /// ```
        pub fn or_insert_with_if(
            self,
            init: impl FnOnce() -> V,
            mut replace_if: impl FnMut(&V) -> bool,
        ) -> Entry<K, V> {
            let r = self.and_compute_with(|current| match current {
                Some(e) if !replace_if(e.value()) => Op::Nop,
                _ => Op::Put(init()),
            });
            match r {
                CompResult::Inserted(e)
                | CompResult::ReplacedWith(e)
                | CompResult::Unchanged(e) => e,
                CompResult::Removed(_) | CompResult::StillNone(_) => {
                    unreachable!("Op::Put or Op::Nop on an existing entry")
                }
            }
        }

        /// Like [`or_insert_with`](Self::or_insert_with), but `init` may
        /// decline (`None`: nothing is cached and `None` is returned).
        pub fn or_optionally_insert_with(
            self,
            init: impl FnOnce() -> Option<V>,
        ) -> Option<Entry<K, V>> {
            self.load(
                || init().map_or(Outcome::Nothing, Outcome::Value),
                |o| match o {
                    Outcome::Value(v) => Some(Ok(v)),
                    Outcome::Nothing => Some(Err(())),
                    _ => None,
                },
            )
            .ok()
            .map(|(e, _)| e)
        }

        /// Like [`or_insert_with`](Self::or_insert_with), but `init` may fail;
        /// the error is shared with concurrent callers and nothing is cached.
        pub fn or_try_insert_with<F, E>(self, init: F) -> Result<Entry<K, V>, Arc<E>>
        where
            F: FnOnce() -> Result<V, E>,
            E: Send + Sync + 'static,
        {
            self.load(
                || match init() {
                    Ok(v) => Outcome::Value(v),
                    Err(e) => Outcome::Error(Arc::new(e)),
                },
                |o| match o {
                    Outcome::Value(v) => Some(Ok(v)),
                    Outcome::Error(e) => e.downcast::<E>().ok().map(Err),
                    _ => None,
                },
            )
            .map(|(e, _)| e)
        }

        /// Reads the entry, lets `f` decide (`Op::Put`, `Op::Remove`,
        /// `Op::Nop`) and does it, atomically with respect to other
        /// computes and loads of this key (they wait). `f` runs with no
        /// internal lock held.
        ///
        /// ```
        /// use larder::ops::compute::{CompResult, Op};
        /// let cache = larder::sync::Cache::new(10);
        /// let r = cache.entry("hits").and_compute_with(|e| Op::Put(e.map_or(1, |e| e.into_value() + 1)));
        /// assert!(matches!(r, CompResult::Inserted(_)));
        /// let r = cache.entry("hits").and_compute_with(|e| Op::Put(e.map_or(1, |e| e.into_value() + 1)));
        /// assert_eq!(r.map_entry().map(|e| e.into_value()), Some(2));
        /// ```
        pub fn and_compute_with<F>(self, f: F) -> CompResult<K, V>
        where
            F: FnOnce(Option<Entry<K, V>>) -> Op<V>,
        {
            match self.compute(|e| Ok::<_, std::convert::Infallible>(f(e))) {
                Ok(r) => r,
                Err(never) => match never {},
            }
        }

        /// Like [`and_compute_with`](Self::and_compute_with), but `f` may
        /// fail; then nothing changes and the error is returned.
        pub fn and_try_compute_with<F, E>(self, f: F) -> Result<CompResult<K, V>, E>
        where
            F: FnOnce(Option<Entry<K, V>>) -> Result<Op<V>, E>,
        {
            self.compute(f)
        }

        /// Inserts or replaces the value with `f(current entry)`, atomically
        /// with respect to other computes of this key.
        pub fn and_upsert_with<F>(self, f: F) -> Entry<K, V>
        where
            F: FnOnce(Option<Entry<K, V>>) -> V,
        {
            match self.and_compute_with(|e| Op::Put(f(e))) {
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
    fn load<E>(
        self,
        init: impl FnOnce() -> Outcome<V>,
        read: impl Fn(Outcome<V>) -> Option<Result<V, E>>,
    ) -> Result<(Entry<K, V>, bool), E> {
        // The key moves into the cache only if this call inserts; keep a
        // shared handle for the returned entry either way.
        let key = Arc::new(self.key);
        let (r, fresh) = self.core.load_arc(Arc::clone(&key), init, read);
        r.map(|v| (Entry::new(key, v, fresh, false), fresh))
    }

    fn compute<E>(
        self,
        f: impl FnOnce(Option<Entry<K, V>>) -> Result<Op<V>, E>,
    ) -> Result<CompResult<K, V>, E> {
        let key = Arc::new(self.key);
        self.core.compute(&*Arc::clone(&key), || key, f)
    }

    selector_methods!();
}

impl<'a, K, Q, V, S> RefKeyEntrySelector<'a, K, Q, V, S>
where
    K: Hash + Eq + Send + Sync + 'static + Borrow<Q>,
    Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    V: Clone + Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    fn load<E>(
        self,
        init: impl FnOnce() -> Outcome<V>,
        read: impl Fn(Outcome<V>) -> Option<Result<V, E>>,
    ) -> Result<(Entry<K, V>, bool), E> {
        let (r, fresh) = self.core.load_by_ref(self.key, init, read);
        r.map(|v| {
            (
                Entry::new(Arc::new(self.key.to_owned()), v, fresh, false),
                fresh,
            )
        })
    }

    fn compute<E>(
        self,
        f: impl FnOnce(Option<Entry<K, V>>) -> Result<Op<V>, E>,
    ) -> Result<CompResult<K, V>, E> {
        let key = self.key;
        self.core.compute(key, || Arc::new(key.to_owned()), f)
    }

    selector_methods!();
}
