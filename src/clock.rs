//! Time: a cheap monotonic clock (`quanta`) or a mock clock for tests.
//!
//! The cache keeps every timestamp as `u64` nanoseconds since its clock's origin.
//! That covers 584 years, and every deadline computation saturates, so no reading
//! and no `Duration` (not even `Duration::MAX`) can overflow or panic. A deadline
//! of `u64::MAX` means "never".
//!
//! quanta's TSC source has been seen to return readings that go backwards on
//! some CPUs (it panicked moka twice, moka #119 and #472). Readings are therefore
//! clamped: a reading below the latest one recorded by a writer or by maintenance
//! is raised to it, and `saturating_duration_since` turns a reading from before
//! the origin into zero. Readers only load the high-water mark; writers raise it.

use crate::shim::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A deadline that never comes.
pub(crate) const NEVER: u64 = u64::MAX;

/// The source of time for a cache: [`Clock::default()`] reads the CPU's
/// time-stamp counter through `quanta`; [`Clock::mock()`] gives a clock that
/// only moves when a test says so.
///
/// Clones share their time: advancing a mock clock's [`MockHandle`] moves every
/// clone of that clock.
///
/// ```
/// use larder::Clock;
/// use std::time::Duration;
///
/// let (clock, handle) = Clock::mock();
/// let cache = larder::sync::Cache::builder()
///     .time_to_live(Duration::from_secs(10))
///     .clock(clock)
///     .build();
/// cache.insert(1, "one");
/// handle.advance(Duration::from_secs(9));
/// assert_eq!(cache.get(&1), Some("one"));
/// handle.advance(Duration::from_secs(1));
/// assert_eq!(cache.get(&1), None);
/// ```
#[derive(Clone)]
#[allow(dead_code)] // `origin_std` is read by per-entry expiry (in progress)
pub struct Clock {
    source: Source,
    /// The highest reading handed to a writer; readings never go below it.
    floor: Arc<AtomicU64>,
    /// `std::time::Instant` of reading 0, for the instants given to `Expiry`.
    origin_std: std::time::Instant,
}

#[derive(Clone)]
enum Source {
    #[cfg_attr(miri, allow(dead_code))]
    Quanta {
        clock: quanta::Clock,
        origin: quanta::Instant,
    },
    /// Under miri only: `std::time::Instant` since the origin. quanta probes
    /// the CPU with `cpuid` (inline assembly), which miri cannot run, and
    /// every cache builds a default clock, so without this no cache could
    /// be constructed under miri at all.
    #[cfg(miri)]
    Std(std::time::Instant),
    Mock(Arc<AtomicU64>),
}

/// Moves a mock [`Clock`] forward. Time never goes backwards: there is no way to
/// move it back.
#[derive(Clone, Debug)]
pub struct MockHandle {
    nanos: Arc<AtomicU64>,
}

impl MockHandle {
    /// Advances the mock clock by `d` (saturating at about 584 years).
    ///
    /// ```
    /// let (_clock, handle) = larder::Clock::mock();
    /// handle.advance(std::time::Duration::from_millis(5));
    /// assert_eq!(handle.elapsed(), std::time::Duration::from_millis(5));
    /// ```
    pub fn advance(&self, d: Duration) {
        let add = duration_to_nanos(d);
        let _ = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(add))
            });
    }

    /// Time elapsed on the mock clock since it was created.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }
}

impl Default for Clock {
    fn default() -> Self {
        #[cfg(not(miri))]
        let source = {
            let clock = quanta::Clock::new();
            let origin = clock.now();
            Source::Quanta { clock, origin }
        };
        #[cfg(miri)]
        let source = Source::Std(std::time::Instant::now());
        Self {
            source,
            floor: Arc::new(AtomicU64::new(0)),
            origin_std: std::time::Instant::now(),
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.source {
            Source::Quanta { .. } => "quanta",
            #[cfg(miri)]
            Source::Std(_) => "std",
            Source::Mock(_) => "mock",
        };
        f.debug_struct("Clock")
            .field("source", &kind)
            .field("now_nanos", &self.now())
            .finish()
    }
}

#[allow(dead_code)] // instant mapping is used by per-entry expiry (in progress)
impl Clock {
    /// A mock clock starting at zero, and the handle that moves it.
    pub fn mock() -> (Clock, MockHandle) {
        let nanos = Arc::new(AtomicU64::new(0));
        let clock = Self {
            source: Source::Mock(Arc::clone(&nanos)),
            floor: Arc::new(AtomicU64::new(0)),
            origin_std: std::time::Instant::now(),
        };
        (clock, MockHandle { nanos })
    }

    /// Whether this is a mock clock.
    pub(crate) fn is_mock(&self) -> bool {
        matches!(self.source, Source::Mock(_))
    }

    fn raw(&self) -> u64 {
        match &self.source {
            Source::Quanta { clock, origin } => {
                duration_to_nanos(clock.now().saturating_duration_since(*origin))
            }
            #[cfg(miri)]
            Source::Std(origin) => duration_to_nanos(origin.elapsed()),
            Source::Mock(n) => n.load(Ordering::Acquire),
        }
    }

    /// Nanoseconds since the origin, never below the floor. Does not write
    /// shared memory (the read path uses this).
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.raw().max(self.floor.load(Ordering::Relaxed))
    }

    /// Like [`now`](Self::now), and raises the floor to the reading so that
    /// later readers never see an earlier time. For writers and maintenance.
    pub(crate) fn now_raising_floor(&self) -> u64 {
        let now = self.raw();
        let prev = self.floor.fetch_max(now, Ordering::Relaxed);
        now.max(prev)
    }

    /// The `std::time::Instant` for a reading of this clock.
    pub(crate) fn to_instant(&self, nanos: u64) -> std::time::Instant {
        let mut d = Duration::from_nanos(nanos);
        loop {
            if let Some(i) = self.origin_std.checked_add(d) {
                return i;
            }
            // Unreachable on mainstream platforms for < 584 years; halve until
            // representable rather than panic.
            d /= 2;
        }
    }

    /// The reading that corresponds to a `std::time::Instant` (saturating).
    pub(crate) fn nanos_of(&self, instant: std::time::Instant) -> u64 {
        duration_to_nanos(instant.saturating_duration_since(self.origin_std))
    }
}

/// A `Duration` in nanoseconds, saturating at `u64::MAX` (which means "never"
/// once added to a timestamp).
#[inline]
pub(crate) fn duration_to_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `now + d`, saturating at [`NEVER`].
#[inline]
pub(crate) fn deadline_after(now: u64, d: Duration) -> u64 {
    now.saturating_add(duration_to_nanos(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_clock_moves_only_when_advanced_and_clones_share_time() {
        let (clock, handle) = Clock::mock();
        let clone = clock.clone();
        assert_eq!(clock.now(), 0);
        handle.advance(Duration::from_nanos(7));
        assert_eq!(clock.now(), 7);
        assert_eq!(clone.now(), 7);
        assert!(clock.is_mock());
    }

    #[test]
    fn mock_clock_covers_five_hundred_years_and_saturates() {
        let (clock, handle) = Clock::mock();
        let year = Duration::from_secs(365 * 24 * 3600);
        handle.advance(year * 500);
        assert_eq!(clock.now(), duration_to_nanos(year * 500));
        handle.advance(Duration::MAX);
        assert_eq!(clock.now(), u64::MAX);
        // Mapping to std instants does not panic even at the end of time.
        let _ = clock.to_instant(clock.now());
    }

    #[test]
    fn deadlines_saturate() {
        assert_eq!(deadline_after(5, Duration::MAX), NEVER);
        assert_eq!(deadline_after(u64::MAX - 1, Duration::from_secs(1)), NEVER);
        assert_eq!(deadline_after(5, Duration::ZERO), 5);
    }

    #[test]
    fn quanta_clock_is_monotonic_and_floor_clamps() {
        let clock = Clock::default();
        let mut last = 0;
        for _ in 0..1000 {
            let n = clock.now_raising_floor();
            assert!(n >= last);
            last = n;
        }
        // A floor above the raw reading is what readers see.
        clock.floor.store(u64::MAX - 10, Ordering::Relaxed);
        assert_eq!(clock.now(), u64::MAX - 10);
    }

    #[test]
    fn instants_round_trip() {
        let (clock, handle) = Clock::mock();
        handle.advance(Duration::from_secs(3));
        let i = clock.to_instant(clock.now());
        assert_eq!(clock.nanos_of(i), 3_000_000_000);
    }
}
