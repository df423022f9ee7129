//! A plain least-recently-used policy, the baseline every table compares against.

use ahash::AHashMap;

use super::Policy;

/// Marks "no node" in the intrusive list.
const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    key: u64,
    weight: u32,
    /// Towards the most recently used end.
    prev: u32,
    /// Towards the least recently used end.
    next: u32,
}

/// Least-recently-used eviction in O(1) per request: a hash map from key to a slot
/// in a `Vec` of nodes, the nodes linked by index into a recency list.
///
/// Unweighted, it holds up to `capacity` entries. Weighted, it evicts from the cold
/// end until the new entry's weight fits in `capacity`; an entry heavier than the
/// whole capacity is not admitted.
#[derive(Debug, Clone)]
pub struct Lru {
    capacity: u64,
    weighted: bool,
    map: AHashMap<u64, u32>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
    /// Total weight held (the entry count when unweighted).
    used: u64,
}

impl Lru {
    /// The policy's name in result tables.
    pub const NAME: &'static str = "LRU";

    /// An empty LRU of `capacity` entries, or weight units when `weighted`.
    pub fn new(capacity: u64, weighted: bool) -> Self {
        Lru {
            capacity,
            weighted,
            map: AHashMap::new(),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            used: 0,
        }
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Total weight held (equals [`Lru::len`] when unweighted).
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Whether `key` is held (does not touch recency).
    pub fn contains(&self, key: u64) -> bool {
        self.map.contains_key(&key)
    }

    fn unlink(&mut self, i: u32) {
        let Node { prev, next, .. } = self.nodes[i as usize];
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    fn push_front(&mut self, i: u32) {
        self.nodes[i as usize].prev = NIL;
        self.nodes[i as usize].next = self.head;
        if self.head != NIL {
            self.nodes[self.head as usize].prev = i;
        } else {
            self.tail = i;
        }
        self.head = i;
    }

    fn evict_tail(&mut self) {
        let i = self.tail;
        debug_assert_ne!(i, NIL);
        self.unlink(i);
        let node = &self.nodes[i as usize];
        self.map.remove(&node.key);
        self.used -= u64::from(node.weight);
        self.free.push(i);
    }
}

impl Policy for Lru {
    fn name(&self) -> String {
        Self::NAME.to_string()
    }

    fn access(&mut self, key: u64, weight: u32) -> bool {
        if let Some(&i) = self.map.get(&key) {
            if self.head != i {
                self.unlink(i);
                self.push_front(i);
            }
            return true;
        }
        let weight = if self.weighted { weight } else { 1 };
        if u64::from(weight) > self.capacity {
            return false;
        }
        while self.used + u64::from(weight) > self.capacity {
            self.evict_tail();
        }
        let node = Node {
            key,
            weight,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                u32::try_from(self.nodes.len() - 1)
                    .ok()
                    .filter(|&i| i != NIL)
                    .expect("LRU holds fewer than 2^32 - 1 entries")
            }
        };
        self.push_front(i);
        self.map.insert(key, i);
        self.used += u64::from(weight);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::replay;

    fn hits(trace: &[u64], capacity: u64) -> u64 {
        let trace: Vec<(u64, u32)> = trace.iter().map(|&k| (k, 1)).collect();
        replay(&mut Lru::new(capacity, false), &trace)
    }

    #[test]
    fn hand_computed_small_trace() {
        // 1 2 3 1 4 1 2, capacity 2: only the second `1` after `4` hits.
        assert_eq!(hits(&[1, 2, 3, 1, 4, 1, 2], 2), 1);
        // Capacity 3: `1` hits twice; `4` evicts 2, so the final `2` misses.
        assert_eq!(hits(&[1, 2, 3, 1, 4, 1, 2], 3), 2);
        // Capacity 4: everything after first sight hits.
        assert_eq!(hits(&[1, 2, 3, 1, 4, 1, 2], 4), 3);
        assert_eq!(hits(&[1, 2, 3, 1, 4, 1, 2], 0), 0);
    }

    #[test]
    fn loop_bigger_than_cache_never_hits() {
        let trace: Vec<u64> = (0..10).flat_map(|_| 0..5).collect();
        assert_eq!(hits(&trace, 4), 0);
        // One slot more and every pass after the first hits fully.
        assert_eq!(hits(&trace, 5), 45);
    }

    #[test]
    fn recency_order_is_kept() {
        let mut lru = Lru::new(3, false);
        for k in [1, 2, 3] {
            assert!(!lru.access(k, 1));
        }
        assert!(lru.access(1, 1)); // order now 1, 3, 2 (2 coldest)
        assert!(!lru.access(4, 1)); // evicts 2
        assert!(!lru.contains(2));
        assert!(lru.contains(1) && lru.contains(3) && lru.contains(4));
        assert!(!lru.access(5, 1)); // evicts 3
        assert!(!lru.contains(3));
        assert_eq!(lru.len(), 3);
    }

    #[test]
    fn weighted_evicts_until_it_fits() {
        let mut lru = Lru::new(10, true);
        assert!(!lru.access(1, 4));
        assert!(!lru.access(2, 4));
        assert_eq!(lru.used(), 8);
        // Weight 5 needs 1 evicted (8 - 4 + 5 = 9 <= 10).
        assert!(!lru.access(3, 5));
        assert!(!lru.contains(1) && lru.contains(2) && lru.contains(3));
        assert_eq!(lru.used(), 9);
        // Heavier than the whole cache: not admitted, nothing evicted.
        assert!(!lru.access(4, 11));
        assert!(!lru.contains(4));
        assert_eq!(lru.used(), 9);
        // Weight 10 empties the cache.
        assert!(!lru.access(5, 10));
        assert_eq!(lru.len(), 1);
        assert_eq!(lru.used(), 10);
        // Unweighted ignores the weights.
        let mut lru = Lru::new(2, false);
        assert!(!lru.access(1, 1_000));
        assert!(!lru.access(2, 1_000));
        assert!(lru.access(1, 1_000));
        assert_eq!(lru.used(), 2);
    }

    #[test]
    fn slots_are_reused() {
        let mut lru = Lru::new(2, false);
        for k in 0..1_000 {
            lru.access(k, 1);
        }
        assert!(lru.nodes.len() <= 2);
        assert_eq!(lru.len(), 2);
    }
}
