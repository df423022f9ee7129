//! The adapter that runs larder itself through the simulator: the real
//! `sync::Cache`, cache-aside, single-threaded, with maintenance forced after
//! every insert so that the result depends only on the trace.

use super::Policy;

/// `larder::sync::Cache<u64, u32>` with `max_capacity = capacity` and, when
/// weighted, a weigher returning the stored weight.
pub struct Larder {
    cache: crate::sync::Cache<u64, u32, ahash::RandomState>,
}

impl Larder {
    /// The policy's name in result tables.
    pub const NAME: &'static str = "larder";

    /// A larder cache of `capacity` entries, or weight units when `weighted`.
    pub fn new(capacity: u64, weighted: bool) -> Self {
        let builder = crate::sync::Cache::builder().max_capacity(capacity);
        let builder = if weighted {
            builder.weigher(|_k: &u64, w: &u32| *w)
        } else {
            builder
        };
        Larder {
            cache: builder.build_with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4)),
        }
    }
}

impl Policy for Larder {
    fn name(&self) -> String {
        Self::NAME.to_string()
    }

    fn access(&mut self, key: u64, weight: u32) -> bool {
        if self.cache.get(&key).is_some() {
            return true;
        }
        self.cache.insert(key, weight);
        self.cache.run_pending_tasks();
        false
    }
}
