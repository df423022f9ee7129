//! Results of the entry API: [`Entry`], and `and_compute_with`'s [`compute`]
//! operations.

use std::sync::Arc;

/// A key and its value as returned by the entry API.
///
/// ```
/// let cache = larder::sync::Cache::new(10);
/// let e = cache.entry(1).or_insert_with(|| "one");
/// assert!(e.is_fresh());
/// assert_eq!((*e.key(), *e.value()), (1, "one"));
/// let e = cache.entry(1).or_insert_with(|| "uno");
/// assert!(!e.is_fresh());
/// assert_eq!(e.into_value(), "one");
/// ```
#[derive(Clone, Debug)]
pub struct Entry<K, V> {
    key: Arc<K>,
    value: V,
    is_fresh: bool,
    is_old_value_replaced: bool,
}

impl<K, V> Entry<K, V> {
    pub(crate) fn new(key: Arc<K>, value: V, is_fresh: bool, is_old_value_replaced: bool) -> Self {
        Self {
            key,
            value,
            is_fresh,
            is_old_value_replaced,
        }
    }

    /// The key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The key, shared.
    pub fn into_key(self) -> Arc<K> {
        self.key
    }

    /// The value.
    pub fn value(&self) -> &V {
        &self.value
    }

    /// The value, owned.
    pub fn into_value(self) -> V {
        self.value
    }

    /// Whether this call put the value in the cache (it ran the loader, or
    /// its computation inserted or replaced the value).
    pub fn is_fresh(&self) -> bool {
        self.is_fresh
    }

    /// Whether this call replaced an older value.
    pub fn is_old_value_replaced(&self) -> bool {
        self.is_old_value_replaced
    }
}

/// `and_compute_with` and friends: what to do with an entry, and what was
/// done.
pub mod compute {
    use super::Entry;
    use std::sync::Arc;

    /// What the closure given to `and_compute_with` asks for.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Op<V> {
        /// Insert or replace the value.
        Put(V),
        /// Remove the entry (if any).
        Remove,
        /// Leave it as it is.
        Nop,
    }

    /// What `and_compute_with` did.
    #[derive(Clone, Debug)]
    pub enum CompResult<K, V> {
        /// There was no entry; the new one was inserted.
        Inserted(Entry<K, V>),
        /// The value was replaced with this one.
        ReplacedWith(Entry<K, V>),
        /// This entry was removed.
        Removed(Entry<K, V>),
        /// The entry was left as it is.
        Unchanged(Entry<K, V>),
        /// There was no entry and none was inserted.
        StillNone(Arc<K>),
    }

    impl<K, V> CompResult<K, V> {
        /// The entry now in the cache, if any (`Inserted`, `ReplacedWith`,
        /// `Unchanged`).
        pub fn map_entry(self) -> Option<Entry<K, V>> {
            match self {
                Self::Inserted(e) | Self::ReplacedWith(e) | Self::Unchanged(e) => Some(e),
                Self::Removed(_) | Self::StillNone(_) => None,
            }
        }

        /// The entry this result carries (as [`into_entry`](Self::into_entry)).
        ///
        /// # Panics
        /// On `StillNone`, which carries no entry (as moka's `unwrap`).
        ///
        /// ```
        /// use larder::ops::compute::Op;
        /// let cache = larder::sync::Cache::new(10);
        /// let e = cache.entry(1).and_compute_with(|_| Op::Put("one")).unwrap();
        /// assert_eq!(e.into_value(), "one");
        /// ```
        pub fn unwrap(self) -> Entry<K, V> {
            match self {
                Self::Inserted(e)
                | Self::ReplacedWith(e)
                | Self::Removed(e)
                | Self::Unchanged(e) => e,
                Self::StillNone(_) => panic!("`CompResult::unwrap` called on `StillNone`"),
            }
        }

        /// The entry this result carries, whatever happened.
        pub fn into_entry(self) -> Option<Entry<K, V>> {
            match self {
                Self::Inserted(e)
                | Self::ReplacedWith(e)
                | Self::Removed(e)
                | Self::Unchanged(e) => Some(e),
                Self::StillNone(_) => None,
            }
        }
    }
}
