//! TinyLFU's frequency estimator: a 4-bit count-min sketch with periodic aging.
//!
//! The admission policy needs a cheap, approximate answer to "how often has
//! this key been seen lately?" for keys that may or may not be resident. The
//! sketch answers it in constant memory:
//!
//! * **Counters.** Each counter is 4 bits wide, so it saturates at 15, and
//!   sixteen of them are packed into one `u64` word. TinyLFU only ever compares
//!   two small frequencies, so a wider range would buy nothing.
//! * **Layout.** The table is split into 64-byte blocks of eight words, one
//!   cache line each. An item picks one block, then one counter in each of four
//!   rows: row `r` uses word `2r` or `2r + 1` of the block and any of that
//!   word's sixteen counters. All four counters of an item therefore share a
//!   cache line, and no two of them are the same counter.
//! * **Hashing.** The caller passes a 64-bit hash that already picks buckets
//!   in the cache's own tables, so it is re-mixed first (a multiply-xorshift
//!   finalizer); the low bits of the result choose the block and bits 40..60
//!   choose the four counters. Indexes come from masks and shifts only, so no
//!   hash value or table size can overflow an index computation.
//! * **Counting.** `increment` uses conservative update: only the counters that
//!   hold the item's current minimum are bumped, and nothing happens once that
//!   minimum is 15. Like a plain count-min sketch it never underestimates (until
//!   aging), but colliding items inflate each other less.
//! * **Aging.** After `sample_size` counted increments (ten per table word)
//!   every counter is halved, so old popularity fades and the sketch follows
//!   the workload. A word is halved at once by shifting it right one bit and
//!   masking off the bits that slid into the neighbouring counter. The
//!   running count is halved too, after subtracting the increments that the
//!   truncation of odd counters threw away (estimated as in the TinyLFU paper).
//!
//! The table is sized from the cache's capacity with about one word (sixteen
//! counters) per entry, and starts empty, so an unbounded or idle cache pays
//! nothing for it.

/// Bits per counter.
const COUNTER_BITS: u32 = 4;

/// Largest value a counter can hold.
const COUNTER_MAX: u64 = (1 << COUNTER_BITS) - 1;

/// Words per block; eight `u64` words fill one 64-byte cache line.
const BLOCK_WORDS: usize = 8;

/// Smallest table, in words: one block.
const MIN_TABLE_WORDS: usize = BLOCK_WORDS;

/// Largest table, in words (2^26 words, 512 MiB); bigger capacities share it.
const MAX_TABLE_WORDS: usize = 1 << 26;

/// Counted increments per table word between two agings.
const SAMPLE_PER_WORD: u64 = 10;

/// The lowest bit of every counter in a word.
const LOW_BITS: u64 = 0x1111_1111_1111_1111;

/// Every counter bit except the top one; masks a word after shifting it right.
const HALVE_MASK: u64 = 0x7777_7777_7777_7777;

/// First hash bit of the 20 bits (5 per row) that pick an item's counters.
const COUNTER_SELECT_SHIFT: u32 = 40;

/// An item's four counters: (word within its block, bit shift) per row.
type Counters = [(usize, u32); 4];

/// A 4-bit count-min sketch with aging, estimating recent key frequencies.
pub(crate) struct FrequencySketch {
    /// Packed counters; empty until `ensure_capacity` sizes it, otherwise a
    /// power of two of at least one block.
    table: Box<[u64]>,
    /// Number of blocks minus one; masks a hash down to a block index.
    block_mask: u64,
    /// Counted increments that trigger an aging pass.
    sample_size: u64,
    /// Counted increments since the last aging pass (adjusted by aging).
    additions: u64,
}

impl FrequencySketch {
    /// An empty sketch that costs almost nothing until `ensure_capacity` is called.
    pub(crate) fn new() -> Self {
        Self {
            table: Box::new([]),
            block_mask: 0,
            sample_size: 0,
            additions: 0,
        }
    }

    /// Sizes the table for about `max_entries` distinct keys: one word per
    /// entry, rounded up to a power of two and clamped to
    /// [`MIN_TABLE_WORDS`, `MAX_TABLE_WORDS`]. Only grows; growing discards
    /// all counts.
    pub(crate) fn ensure_capacity(&mut self, max_entries: u64) {
        let words = table_words_for(max_entries);
        if words <= self.table.len() {
            return;
        }
        self.table = vec![0; words].into_boxed_slice();
        self.block_mask = (words / BLOCK_WORDS - 1) as u64;
        self.sample_size = SAMPLE_PER_WORD * words as u64;
        self.additions = 0;
    }

    /// Counts one occurrence of the item whose (already well-mixed, 64-bit)
    /// hash is `hash`. A no-op while the table is unsized or once the item's
    /// estimate has reached 15.
    #[inline]
    pub(crate) fn increment(&mut self, hash: u64) {
        let Some((block, [(w0, s0), (w1, s1), (w2, s2), (w3, s3)])) = self.block_mut(hash) else {
            return;
        };
        let c0 = (block[w0] >> s0) & COUNTER_MAX;
        let c1 = (block[w1] >> s1) & COUNTER_MAX;
        let c2 = (block[w2] >> s2) & COUNTER_MAX;
        let c3 = (block[w3] >> s3) & COUNTER_MAX;
        let min = c0.min(c1).min(c2.min(c3));
        if min >= COUNTER_MAX {
            return;
        }
        // Conservative update: only the counters holding the minimum grow.
        // The four words are distinct (one per row), so the updates are
        // independent.
        block[w0] += u64::from(c0 == min) << s0;
        block[w1] += u64::from(c1 == min) << s1;
        block[w2] += u64::from(c2 == min) << s2;
        block[w3] += u64::from(c3 == min) << s3;
        self.additions += 1;
        if self.additions >= self.sample_size {
            self.age();
        }
    }

    /// Estimated frequency 0..=15 of the item whose hash is `hash`.
    pub(crate) fn frequency(&self, hash: u64) -> u8 {
        if self.table.is_empty() {
            return 0;
        }
        let (base, slots) = self.locate(hash);
        let block = &self.table[base..base + BLOCK_WORDS];
        let min = slots
            .iter()
            .map(|&(word, shift)| (block[word] >> shift) & COUNTER_MAX)
            .min()
            .unwrap_or(0);
        // The minimum is at most COUNTER_MAX, so it fits in a u8.
        min as u8
    }

    /// Heap bytes used by the counter table.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.len() * std::mem::size_of::<u64>()
    }

    /// The item's cache-line block (as a fixed-size array, so indexing it
    /// needs no bounds checks) and its four counters in it, or `None` while
    /// the table is unsized.
    #[inline]
    fn block_mut(&mut self, hash: u64) -> Option<(&mut [u64; BLOCK_WORDS], Counters)> {
        if self.table.is_empty() {
            return None;
        }
        let (base, slots) = self.locate(hash);
        let block =
            <&mut [u64; BLOCK_WORDS]>::try_from(&mut self.table[base..base + BLOCK_WORDS]).ok()?;
        Some((block, slots))
    }

    /// The first word of the item's block, and its four counters, one per
    /// row, as (word within the block, bit shift) pairs. Requires a sized
    /// table.
    #[inline]
    fn locate(&self, hash: u64) -> (usize, Counters) {
        let h = remix(hash);
        // block_mask < 2^23, so the shifted value is below 2^26 words and
        // fits in usize on every supported target.
        let base = ((h & self.block_mask) << BLOCK_WORDS.trailing_zeros()) as usize;
        let select = h >> COUNTER_SELECT_SHIFT;
        let slot = |row: usize| {
            let bits = select >> (5 * row);
            // Row r owns words 2r and 2r + 1 of the block: always < 8.
            let word = 2 * row + (bits & 1) as usize;
            let shift = ((bits >> 1) & 0xF) as u32 * COUNTER_BITS;
            (word, shift)
        };
        (base, [slot(0), slot(1), slot(2), slot(3)])
    }

    /// Halves every counter and the running count of additions.
    fn age(&mut self) {
        let mut odd = 0u64;
        for word in self.table.iter_mut() {
            odd += u64::from((*word & LOW_BITS).count_ones());
            *word = (*word >> 1) & HALVE_MASK;
        }
        // Each counted increment raised about four counters, so each truncated
        // odd counter lost about a quarter of an increment.
        self.additions = self.additions.saturating_sub(odd / 4) / 2;
    }
}

/// Table size in words for a cache of `max_entries` entries.
fn table_words_for(max_entries: u64) -> usize {
    // The clamp keeps the value at most 2^26, so neither the rounding nor the
    // cast can overflow.
    let wanted = max_entries.clamp(MIN_TABLE_WORDS as u64, MAX_TABLE_WORDS as u64);
    wanted.next_power_of_two() as usize
}

/// Re-spreads a caller hash so the sketch's indexes are independent of the
/// bits the cache's own tables use (the splitmix64 finalizer, with wrapping
/// arithmetic; a zero hash does not map to zero).
fn remix(hash: u64) -> u64 {
    let mut h = hash.wrapping_add(0x9E37_79B9_7F4A_7C15);
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-mixed stand-in for the cache's hasher (splitmix64 of `i`).
    fn key_hash(i: u64) -> u64 {
        let mut h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        h ^ (h >> 32)
    }

    /// Picks the normal or the (smaller) Miri size.
    fn size(normal: u64, miri: u64) -> u64 {
        if cfg!(miri) {
            miri
        } else {
            normal
        }
    }

    #[test]
    fn unsized_sketch_is_inert() {
        let mut sketch = FrequencySketch::new();
        assert_eq!(sketch.heap_bytes(), 0);
        for h in [0, 1, u64::MAX] {
            sketch.increment(h);
            sketch.increment(h);
            assert_eq!(sketch.frequency(h), 0);
        }
        assert_eq!(sketch.additions, 0);
    }

    #[test]
    fn counts_up_to_fifteen_then_saturates() {
        let mut sketch = FrequencySketch::new();
        sketch.ensure_capacity(64);
        let h = key_hash(7);
        for n in 1..=15u8 {
            sketch.increment(h);
            assert!(sketch.frequency(h) >= n, "after {n} increments");
        }
        for _ in 15..100 {
            sketch.increment(h);
            assert_eq!(sketch.frequency(h), 15);
        }
        // Increments beyond saturation are not counted toward aging.
        assert_eq!(sketch.additions, 15);
        // No counter anywhere overflowed into its neighbour.
        let total: u32 = sketch.table.iter().map(|w| w.count_ones()).sum();
        assert_eq!(total, 4 * 4, "four counters of value 15");
    }

    #[test]
    fn never_underestimates_and_overestimates_little() {
        let entries = size(4096, 16);
        let mut sketch = FrequencySketch::new();
        sketch.ensure_capacity(entries);
        // Three times as many keys as entries, mostly seen once or twice and
        // every tenth up to 20 times (above 15 saturates): about seven
        // increments per table word, so no aging happens yet.
        let keys = 3 * entries;
        let truth = |k: u64| {
            if k % 10 == 0 {
                (k / 10 * 7) % 21
            } else {
                1 + k % 2
            }
        };
        let hashes: Vec<u64> = (0..keys).map(key_hash).collect();
        // Interleave the keys so counters fill up in a realistic order.
        for round in 0..21 {
            for (k, &h) in (0..keys).zip(&hashes) {
                if truth(k) > round {
                    sketch.increment(h);
                }
            }
        }
        assert!(sketch.additions < sketch.sample_size, "no aging expected");
        let mut over = 0u64;
        for k in 0..keys {
            let expected = truth(k).min(15);
            let got = u64::from(sketch.frequency(hashes[k as usize]));
            assert!(got >= expected, "key {k}: estimate {got} < true {expected}");
            over += got - expected;
        }
        let mean_over = over as f64 / keys as f64;
        assert!(mean_over < 0.1, "mean overestimate {mean_over}");
    }

    #[test]
    fn raw_sequential_hashes_are_remixed() {
        // Hashes that differ only above bit 40, or only in the low bits, must
        // still spread over the table rather than pile into a few counters.
        let entries = size(1024, 32);
        let mut sketch = FrequencySketch::new();
        sketch.ensure_capacity(entries);
        for i in 0..entries {
            sketch.increment(i << 40);
            sketch.increment(i);
        }
        let mut over = 0u64;
        for i in 0..entries {
            over += u64::from(sketch.frequency(i << 40)) - 1;
            over += u64::from(sketch.frequency(i)) - 1;
        }
        let mean_over = over as f64 / (2 * entries) as f64;
        assert!(mean_over < 0.1, "mean overestimate {mean_over}");
        let blocks_used = {
            let mut used = vec![false; sketch.table.len() / BLOCK_WORDS];
            for i in 0..entries {
                used[sketch.locate(i << 40).0 / BLOCK_WORDS] = true;
            }
            used.iter().filter(|&&u| u).count()
        };
        // Random placement of `entries` items into entries/8 blocks leaves
        // almost no block empty.
        assert!(blocks_used * 10 >= sketch.table.len() / BLOCK_WORDS * 9);
    }

    #[test]
    fn counters_of_an_item_share_one_block() {
        let mut sketch = FrequencySketch::new();
        sketch.ensure_capacity(size(1 << 16, 256));
        let len = sketch.table.len();
        let extremes = [0, 1, u64::MAX, u64::MAX - 1, 1 << 63, 0x8000_0000];
        let hashes = extremes
            .into_iter()
            .chain((0..size(5000, 200)).map(key_hash));
        for h in hashes {
            let (base, slots) = sketch.locate(h);
            assert_eq!(base % BLOCK_WORDS, 0, "hash {h:#x}");
            assert!(base + BLOCK_WORDS <= len);
            for (row, &(word, shift)) in slots.iter().enumerate() {
                assert!(word < BLOCK_WORDS, "hash {h:#x}");
                assert_eq!(word / 2, row, "row {row} word");
                assert!(shift < 64 && shift % COUNTER_BITS == 0);
            }
        }
    }

    #[test]
    fn aging_halves_every_counter() {
        let mut sketch = FrequencySketch::new();
        sketch.ensure_capacity(64);
        sketch.table[0] = u64::MAX;
        sketch.table[1] = LOW_BITS;
        sketch.table[2] = 0xFEDC_BA98_7654_3210;
        sketch.additions = 100;
        sketch.age();
        assert_eq!(sketch.table[0], 0x7777_7777_7777_7777);
        assert_eq!(sketch.table[1], 0);
        assert_eq!(sketch.table[2], 0x7766_5544_3322_1100);
        // 16 + 16 + 8 odd counters lost about 10 increments.
        assert_eq!(sketch.additions, (100 - 40 / 4) / 2);
    }

    #[test]
    fn reaching_the_sample_size_ages_the_sketch() {
        let mut sketch = FrequencySketch::new();
        sketch.ensure_capacity(size(64, 8));
        let hot = key_hash(u64::MAX);
        for _ in 0..15 {
            sketch.increment(hot);
        }
        assert_eq!(sketch.frequency(hot), 15);
        // Feed one-hit keys until the count drops, i.e. an aging pass ran.
        let mut k = 0;
        loop {
            let before = sketch.additions;
            sketch.increment(key_hash(k));
            k += 1;
            if sketch.additions < before {
                break;
            }
            assert!(k < 10 * sketch.sample_size, "sketch never aged");
        }
        assert!(sketch.additions <= sketch.sample_size / 2);
        let aged = sketch.frequency(hot);
        assert!((7..=8).contains(&aged), "15 aged to {aged}");
        // Right after aging no counter can exceed 7.
        for &word in sketch.table.iter() {
            assert_eq!(word & !HALVE_MASK, 0, "word {word:#x}");
        }
    }

    #[test]
    fn extreme_capacities_and_hashes() {
        assert_eq!(table_words_for(0), MIN_TABLE_WORDS);
        assert_eq!(table_words_for(1), MIN_TABLE_WORDS);
        assert_eq!(table_words_for(9), 16);
        assert_eq!(table_words_for(1 << 26), MAX_TABLE_WORDS);
        assert_eq!(table_words_for((1 << 26) + 1), MAX_TABLE_WORDS);
        assert_eq!(table_words_for(u64::MAX), MAX_TABLE_WORDS);

        let hashes = [0, 1, u64::MAX, 1 << 63];
        for cap in [0, 1] {
            let mut sketch = FrequencySketch::new();
            sketch.ensure_capacity(cap);
            assert_eq!(sketch.heap_bytes(), 64);
            for h in hashes {
                sketch.increment(h);
                assert!(sketch.frequency(h) >= 1);
            }
        }
        // The largest table is 512 MiB; zeroed pages are only touched where
        // counted, but Miri would initialise all of it.
        if !cfg!(miri) {
            let mut sketch = FrequencySketch::new();
            sketch.ensure_capacity(u64::MAX);
            assert_eq!(sketch.heap_bytes(), MAX_TABLE_WORDS * 8);
            assert_eq!(sketch.sample_size, SAMPLE_PER_WORD * MAX_TABLE_WORDS as u64);
            for h in hashes {
                sketch.increment(h);
                sketch.increment(h);
                assert_eq!(sketch.frequency(h), 2);
            }
        }
    }

    #[test]
    fn ensure_capacity_only_grows() {
        let mut sketch = FrequencySketch::new();
        sketch.ensure_capacity(1000);
        assert_eq!(sketch.table.len(), 1024);
        assert_eq!(sketch.sample_size, 10 * 1024);
        let h = key_hash(3);
        sketch.increment(h);
        sketch.increment(h);
        sketch.ensure_capacity(10);
        sketch.ensure_capacity(1024);
        assert_eq!(sketch.table.len(), 1024);
        assert_eq!(sketch.frequency(h), 2, "counts survive a no-op resize");
        sketch.ensure_capacity(1025);
        assert_eq!(sketch.table.len(), 2048);
        assert_eq!(sketch.heap_bytes(), 2048 * 8);
        assert_eq!(sketch.sample_size, 10 * 2048);
        assert_eq!(sketch.frequency(h), 0, "growing starts afresh");
        assert_eq!(sketch.additions, 0);
    }

    #[test]
    fn heavy_hitters_stand_out_from_one_hit_keys() {
        let entries = size(512, 32);
        let mut sketch = FrequencySketch::new();
        sketch.ensure_capacity(entries);
        let heavy: Vec<u64> = (0..entries / 16).map(|i| key_hash(1_000_000 + i)).collect();
        let one_hit = entries * 4;
        for i in 0..one_hit {
            sketch.increment(key_hash(i));
            // Interleave: each heavy key is seen twelve times over the run.
            if i % (one_hit / 12) == 0 {
                for &h in &heavy {
                    sketch.increment(h);
                }
            }
        }
        assert!(sketch.additions < sketch.sample_size, "no aging expected");
        for &h in &heavy {
            assert!(sketch.frequency(h) >= 12);
        }
        let mut sum = 0u64;
        for i in 0..one_hit {
            let f = sketch.frequency(key_hash(i));
            assert!(f < 6, "one-hit key {i} estimated at {f}");
            sum += u64::from(f);
        }
        let mean = sum as f64 / one_hit as f64;
        assert!(mean < 1.2, "one-hit mean estimate {mean}");
    }
}
