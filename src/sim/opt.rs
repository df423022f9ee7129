//! Belady's optimal policy (OPT / MIN), the upper bound in every table.
//!
//! OPT knows the future: [`Policy::prepare`] hands it the whole trace, and one
//! backward pass records, for every position, where the same key is asked for next.
//! On a miss the new key competes with the resident ones and the key whose next use
//! is farthest away (possibly the new key itself, which is then not kept) is
//! evicted. Residents are kept in a `BTreeSet` ordered by next use, so each request
//! costs O(log n).
//!
//! Unweighted, this is the optimum for the simulator's cache-aside model (a miss may
//! keep or drop the new key). Weighted, the same farthest-next-use-first rule is
//! applied until the weight fits; that is a heuristic, not the optimum (which is
//! NP-hard for variable sizes), but a reasonable ceiling to show.

use std::collections::BTreeSet;

use ahash::AHashMap;

use super::Policy;

/// Next-use position of a request whose key is never asked for again.
const NEVER: u64 = u64::MAX;

/// Belady's OPT; see the [module docs](self).
///
/// It must be given the trace with [`Policy::prepare`] and then fed exactly that
/// trace, in order. Requests beyond the prepared trace (or with OPT never prepared)
/// are treated as never used again.
#[derive(Debug, Clone, Default)]
pub struct Opt {
    capacity: u64,
    weighted: bool,
    /// For each trace position, the position of the next request for the same key.
    next_use: Vec<u64>,
    /// Position of the next request to be served.
    pos: usize,
    /// Resident key -> (its next use, its weight).
    resident: AHashMap<u64, (u64, u32)>,
    /// Residents ordered by (next use, key); the last is the eviction victim.
    by_next_use: BTreeSet<(u64, u64)>,
    used: u64,
}

impl Opt {
    /// The policy's name in result tables.
    pub const NAME: &'static str = "OPT";

    /// An empty OPT of `capacity` entries, or weight units when `weighted`.
    pub fn new(capacity: u64, weighted: bool) -> Self {
        Opt {
            capacity,
            weighted,
            ..Opt::default()
        }
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.resident.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.resident.is_empty()
    }

    fn evict_farthest(&mut self) -> Option<u64> {
        let (_, key) = self.by_next_use.pop_last()?;
        let (_, weight) = self.resident.remove(&key).expect("resident key");
        self.used -= u64::from(weight);
        Some(key)
    }
}

/// For every position of `keys`, the position of the next occurrence of the same key
/// (`u64::MAX` if none), computed in one backward pass.
pub fn next_uses(keys: impl DoubleEndedIterator<Item = u64> + ExactSizeIterator) -> Vec<u64> {
    let n = keys.len();
    let mut next = vec![NEVER; n];
    let mut seen: AHashMap<u64, u64> = AHashMap::new();
    for (i, key) in keys.enumerate().rev() {
        if let Some(later) = seen.insert(key, i as u64) {
            next[i] = later;
        }
    }
    next
}

impl Policy for Opt {
    fn name(&self) -> String {
        Self::NAME.to_string()
    }

    fn prepare(&mut self, trace: &[(u64, u32)]) {
        self.next_use = next_uses(trace.iter().map(|&(k, _)| k));
        self.pos = 0;
        self.resident.clear();
        self.by_next_use.clear();
        self.used = 0;
    }

    fn access(&mut self, key: u64, weight: u32) -> bool {
        let next = self.next_use.get(self.pos).copied().unwrap_or(NEVER);
        self.pos += 1;
        if let Some(entry) = self.resident.get_mut(&key) {
            let old = entry.0;
            entry.0 = next;
            self.by_next_use.remove(&(old, key));
            self.by_next_use.insert((next, key));
            return true;
        }
        let weight = if self.weighted { weight } else { 1 };
        if u64::from(weight) > self.capacity {
            return false;
        }
        self.resident.insert(key, (next, weight));
        self.by_next_use.insert((next, key));
        self.used += u64::from(weight);
        while self.used > self.capacity {
            if self.evict_farthest() == Some(key) {
                // The newcomer was the farthest: dropping it restored the old,
                // fitting state.
                break;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::lru::Lru;
    use crate::sim::replay;

    fn unit(trace: &[u64]) -> Vec<(u64, u32)> {
        trace.iter().map(|&k| (k, 1)).collect()
    }

    fn opt_hits(trace: &[u64], capacity: u64) -> u64 {
        replay(&mut Opt::new(capacity, false), &unit(trace))
    }

    #[test]
    fn next_uses_backward_pass() {
        assert_eq!(
            next_uses([1u64, 2, 1, 3, 2, 1].into_iter()),
            vec![2, 4, 5, NEVER, NEVER, NEVER]
        );
        assert!(next_uses(std::iter::empty::<u64>()).is_empty());
    }

    #[test]
    fn next_uses_match_libcachesim_oracle() {
        // libCacheSim's oracleGeneral sample stores each request's next access
        // (1-based virtual time, -1 for a key's last request): an independent
        // check of the backward pass.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("traces/libcachesim/cloudPhysicsIO.oracleGeneral.bin");
        let bytes = std::fs::read(path).unwrap();
        let records: Vec<(u64, i64)> = bytes
            .chunks_exact(24)
            .map(|r| {
                (
                    u64::from_le_bytes(r[4..12].try_into().unwrap()),
                    i64::from_le_bytes(r[16..24].try_into().unwrap()),
                )
            })
            .collect();
        assert_eq!(records.len(), 113_872);
        let ours = next_uses(records.iter().map(|&(k, _)| k));
        let mut never = 0;
        for (i, (&(_, theirs), &ours)) in records.iter().zip(&ours).enumerate() {
            if theirs == -1 {
                assert_eq!(ours, NEVER, "position {i}");
                never += 1;
            } else {
                assert_eq!(ours + 1, theirs as u64, "position {i}");
            }
        }
        assert_eq!(never, 48_974, "one last request per distinct key");
    }

    #[test]
    fn hand_computed_small_trace() {
        // 1 2 3 1 4 1 2, capacity 2: 3 and 4 are never used again, so OPT keeps
        // {1, 2} throughout and hits 1, 1, 2.
        assert_eq!(opt_hits(&[1, 2, 3, 1, 4, 1, 2], 2), 3);
        assert_eq!(opt_hits(&[1, 2, 3, 1, 4, 1, 2], 3), 3);
        // Capacity 1: keeps 1 (2 is needed later than 1), so 1 hits twice.
        assert_eq!(opt_hits(&[1, 2, 3, 1, 4, 1, 2], 1), 2);
        assert_eq!(opt_hits(&[1, 2, 3, 1, 4, 1, 2], 0), 0);
    }

    #[test]
    fn loop_bigger_than_cache() {
        // 1 2 3 repeated 3 times, capacity 2: LRU never hits. OPT keeps 1 and 2
        // and lets every 3 pass: it hits 1 and 2 on passes two and three.
        let trace = [1, 2, 3, 1, 2, 3, 1, 2, 3];
        assert_eq!(replay(&mut Lru::new(2, false), &unit(&trace)), 0);
        assert_eq!(opt_hits(&trace, 2), 4);
        // A loop of 5 keys, 10 passes, capacity 4. The first pass fills 4 slots
        // (5 misses); after that each pass of 5 misses exactly one key.
        let trace: Vec<u64> = (0..10).flat_map(|_| 0..5).collect();
        assert_eq!(replay(&mut Lru::new(4, false), &unit(&trace)), 0);
        assert_eq!(opt_hits(&trace, 4), 50 - 5 - 9);
    }

    #[test]
    fn refreshes_next_use_on_hit() {
        // With capacity 1: 1 1 2 1. At the second request 1's next use moves to
        // position 3, so 2 (never again) must not displace it.
        assert_eq!(opt_hits(&[1, 1, 2, 1], 1), 2);
    }

    /// The best hit count any policy could get (exhaustive search over every keep /
    /// drop / evict choice); only for tiny traces.
    fn brute_force(trace: &[u64], capacity: usize) -> u64 {
        fn go(trace: &[u64], capacity: usize, cache: &mut Vec<u64>) -> u64 {
            let Some((&key, rest)) = trace.split_first() else {
                return 0;
            };
            if cache.contains(&key) {
                return 1 + go(rest, capacity, cache);
            }
            // Drop the newcomer.
            let mut best = go(rest, capacity, cache);
            if capacity == 0 {
                return best;
            }
            if cache.len() < capacity {
                cache.push(key);
                best = best.max(go(rest, capacity, cache));
                cache.pop();
            } else {
                for i in 0..cache.len() {
                    let old = std::mem::replace(&mut cache[i], key);
                    best = best.max(go(rest, capacity, cache));
                    cache[i] = old;
                }
            }
            best
        }
        go(trace, capacity, &mut Vec::new())
    }

    #[test]
    fn matches_exhaustive_search_on_random_tiny_traces() {
        // A fixed xorshift generator keeps the test deterministic.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut rand = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for _ in 0..300 {
            let len = 1 + rand(11) as usize;
            let keys = 1 + rand(5);
            let trace: Vec<u64> = (0..len).map(|_| rand(keys)).collect();
            for capacity in 0..=3 {
                assert_eq!(
                    opt_hits(&trace, capacity as u64),
                    brute_force(&trace, capacity),
                    "trace {trace:?}, capacity {capacity}"
                );
            }
        }
    }

    #[test]
    fn weighted_farthest_first() {
        // Capacity 10. Requests (key, weight): a(6) b(4) c(5) a b.
        // At c: a next at 3, b at 4, c never -> c is dropped; a and b then hit.
        let trace = [(1, 6), (2, 4), (3, 5), (1, 6), (2, 4)];
        assert_eq!(replay(&mut Opt::new(10, true), &trace), 2);
        // Capacity 9 holds only one of a(6) and b(4) ... plus c(5) fits with b.
        // a: kept (6). b: 6+4 > 9, farthest of {a@3, b@4} is b -> dropped.
        // c: 6+5 > 9, farthest of {a@3, c@never} is c -> dropped. a hits; b misses.
        assert_eq!(replay(&mut Opt::new(9, true), &trace), 1);
        // Heavier than the cache: never admitted.
        assert_eq!(replay(&mut Opt::new(3, true), &trace), 0);
    }

    #[test]
    fn unprepared_is_still_safe() {
        let mut opt = Opt::new(2, false);
        assert!(!opt.access(1, 1));
        assert!(opt.access(1, 1));
        assert!(!opt.access(2, 1));
        assert!(!opt.access(3, 1)); // all "never again": the newcomer is dropped
        assert_eq!(opt.len(), 2);
    }
}
