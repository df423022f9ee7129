//! Intrusive doubly linked lists over a shared array of `u32` links.
//!
//! The policy's queues (window, probation, protected, ...) thread their
//! entries through one `Vec<Link>` indexed by slab slot, so a link costs eight
//! bytes and no allocation, and a stale link can at worst name a wrong slot,
//! never dangle into freed memory (moka's pointer-linked deque had undefined
//! behaviour found by Miri, moka #553; indexes rule that class out).

/// No slot.
pub(crate) const NIL: u32 = u32::MAX;

/// The links of one slab slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) prev: u32,
    pub(crate) next: u32,
}

impl Link {
    /// A slot in no list.
    pub(crate) const UNLINKED: Link = Link {
        prev: NIL,
        next: NIL,
    };
}

/// One list: head (least recently used end) and tail.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deque {
    head: u32,
    tail: u32,
    len: u32,
}

impl Default for Deque {
    fn default() -> Self {
        Self {
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

impl Deque {
    /// The least recently used slot.
    #[inline]
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    /// Number of slots in the list.
    #[inline]
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// The most recently appended slot.
    #[inline]
    pub(crate) fn back(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// The slot before `i` (towards the head).
    #[inline]
    pub(crate) fn prev_of(links: &[Link], i: u32) -> Option<u32> {
        let p = links[i as usize].prev;
        (p != NIL).then_some(p)
    }

    /// Inserts `i` (in no list) right after `after`, or at the head when
    /// `after` is `None`.
    pub(crate) fn insert_after(&mut self, links: &mut [Link], after: Option<u32>, i: u32) {
        debug_assert_eq!(links[i as usize], Link::UNLINKED);
        let next = match after {
            Some(a) => links[a as usize].next,
            None => self.head,
        };
        let prev = after.unwrap_or(NIL);
        links[i as usize] = Link { prev, next };
        match after {
            Some(a) => links[a as usize].next = i,
            None => self.head = i,
        }
        if next == NIL {
            self.tail = i;
        } else {
            links[next as usize].prev = i;
        }
        self.len += 1;
    }

    /// Appends `i` (which must be in no list) at the tail.
    pub(crate) fn push_back(&mut self, links: &mut [Link], i: u32) {
        debug_assert_eq!(links[i as usize], Link::UNLINKED);
        links[i as usize] = Link {
            prev: self.tail,
            next: NIL,
        };
        if self.tail == NIL {
            self.head = i;
        } else {
            links[self.tail as usize].next = i;
        }
        self.tail = i;
        self.len += 1;
    }

    /// Removes `i`, which must be in this list.
    pub(crate) fn unlink(&mut self, links: &mut [Link], i: u32) {
        let Link { prev, next } = links[i as usize];
        if prev == NIL {
            debug_assert_eq!(self.head, i);
            self.head = next;
        } else {
            links[prev as usize].next = next;
        }
        if next == NIL {
            debug_assert_eq!(self.tail, i);
            self.tail = prev;
        } else {
            links[next as usize].prev = prev;
        }
        links[i as usize] = Link::UNLINKED;
        self.len -= 1;
    }

    /// Moves `i`, which must be in this list, to the tail.
    pub(crate) fn move_to_back(&mut self, links: &mut [Link], i: u32) {
        if self.tail != i {
            self.unlink(links, i);
            self.push_back(links, i);
        }
    }

    /// Iterates from head to tail (for invariant checks).
    #[cfg(test)]
    pub(crate) fn iter<'a>(&self, links: &'a [Link]) -> impl Iterator<Item = u32> + 'a {
        let mut cur = self.head;
        std::iter::from_fn(move || {
            (cur != NIL).then(|| {
                let i = cur;
                cur = links[i as usize].next;
                i
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    #[test]
    fn matches_a_vecdeque_model() {
        let n = 64u32;
        let mut links = vec![Link::UNLINKED; n as usize];
        let mut a = Deque::default();
        let mut b = Deque::default();
        let mut ma: VecDeque<u32> = VecDeque::new();
        let mut mb: VecDeque<u32> = VecDeque::new();
        let mut x = 99u64;
        let steps = if cfg!(miri) { 500 } else { 20_000 };
        for _ in 0..steps {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x % n as u64) as u32;
            let in_a = ma.contains(&i);
            let in_b = mb.contains(&i);
            let (d, m) = if x & 64 == 0 {
                (&mut a, &mut ma)
            } else {
                (&mut b, &mut mb)
            };
            match (x >> 8) % 3 {
                0 if !in_a && !in_b => {
                    d.push_back(&mut links, i);
                    m.push_back(i);
                }
                1 if m.contains(&i) => {
                    d.unlink(&mut links, i);
                    m.retain(|&j| j != i);
                }
                2 if m.contains(&i) => {
                    d.move_to_back(&mut links, i);
                    m.retain(|&j| j != i);
                    m.push_back(i);
                }
                0 if !in_a && !in_b && m.len() > 1 => {
                    // Insert after the model's second element, or at the head.
                    let after = (x & 128 != 0).then(|| m[1]);
                    d.insert_after(&mut links, after, i);
                    match after {
                        Some(_) => m.insert(2, i),
                        None => m.push_front(i),
                    }
                }
                _ => {}
            }
            assert_eq!(
                a.iter(&links).collect::<Vec<_>>(),
                ma.iter().copied().collect::<Vec<_>>()
            );
            assert_eq!(
                b.iter(&links).collect::<Vec<_>>(),
                mb.iter().copied().collect::<Vec<_>>()
            );
            assert_eq!(a.len() as usize, ma.len());
            assert_eq!(a.front(), ma.front().copied());
            assert_eq!(a.back(), ma.back().copied());
            if let Some(&last) = ma.back() {
                assert_eq!(
                    Deque::prev_of(&links, last),
                    ma.len().checked_sub(2).map(|p| ma[p])
                );
            }
        }
    }
}
