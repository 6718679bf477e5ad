//! Real time for the realtime drivers: protocol timers scaled by a [`TimeScale`], modeled
//! delays by a [`DelayScale`] of their own (issue 15), the two together a [`Pace`].

use std::fmt;
use std::str::FromStr;

use crate::time::{Duration, Instant};

/// How much shorter real time runs than the protocol's time: `real = virtual × factor`.
///
/// A factor of 1 is wall-clock time (what a real modem needs). The default, 0.01, runs a
/// 3 s LCP restart timer in 30 ms and a 6 s modem handshake in 60 ms, which keeps a whole
/// dial over real PTYs well under a second while leaving every timer far above the
/// PTY's own round trip. Both ends of a test (engine and modem) must use the same factor;
/// the modem's modeled delays may run at another ([`Pace`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeScale(f64);

/// A time scale that is not a finite number in [[`TimeScale::MIN`], [`TimeScale::MAX`]].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeScaleError(pub String);

impl fmt::Display for TimeScaleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "time scale must be a number from {} to {}, got {:?}",
            TimeScale::MIN.0,
            TimeScale::MAX.0,
            self.0
        )
    }
}

impl std::error::Error for TimeScaleError {}

impl TimeScale {
    /// Wall-clock time, for real modems.
    pub const REAL: TimeScale = TimeScale(1.0);
    /// The default for simulated devices on PTYs (see the type's documentation).
    pub const DEFAULT: TimeScale = TimeScale(0.01);
    /// The smallest factor accepted: 10,000 times faster than real time. A 3 s restart
    /// timer then lasts 300 µs, already near a PTY's round trip; anything smaller only
    /// turns every timer into "expired at once" (and a factor like 1e-30 would scale a
    /// few seconds of wall clock past what a `Duration` can hold).
    pub const MIN: TimeScale = TimeScale(1e-4);
    /// The largest factor accepted: 1,000 times slower than real time.
    pub const MAX: TimeScale = TimeScale(1000.0);

    /// A factor from [`TimeScale::MIN`] to [`TimeScale::MAX`].
    pub fn new(factor: f64) -> Result<Self, TimeScaleError> {
        if (Self::MIN.0..=Self::MAX.0).contains(&factor) {
            Ok(TimeScale(factor))
        } else {
            Err(TimeScaleError(factor.to_string()))
        }
    }

    /// The factor itself.
    pub fn factor(self) -> f64 {
        self.0
    }

    /// The real duration that stands for `virtual_time`, saturating at [`Duration::MAX`]
    /// (a timer set that far ahead never fires, which is what it means).
    pub fn to_real(self, virtual_time: Duration) -> Duration {
        saturating_secs(virtual_time.as_secs_f64() * self.0)
    }

    /// The virtual duration that `real` stands for, saturating at [`Duration::MAX`].
    pub fn to_virtual(self, real: Duration) -> Duration {
        saturating_secs(real.as_secs_f64() / self.0)
    }
}

/// `secs` as a duration; past the largest duration (or not a number) it saturates
/// instead of panicking as `Duration::from_secs_f64` would.
fn saturating_secs(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or(if secs > 0.0 {
        Duration::MAX
    } else {
        Duration::ZERO
    })
}

impl Default for TimeScale {
    fn default() -> Self {
        TimeScale::DEFAULT
    }
}

impl FromStr for TimeScale {
    type Err = TimeScaleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let factor: f64 = s.trim().parse().map_err(|_| TimeScaleError(s.to_owned()))?;
        TimeScale::new(factor)
    }
}

/// How long modeled delays last against their model: `real = modeled × factor` (issue 15).
///
/// Modeled delays are the time the simulated world takes on purpose — a modem's dial tone,
/// dialling and training, rings, the line's latency and bit rate, a network dropping or
/// calling back, a server's agreed callback delay. They are a separate knob from the
/// [`TimeScale`] of protocol timers and deadlines (LCP restart, the dialer's modem
/// response timeout, the PPP deadline), which guard against a far end that never answers:
/// shrinking the model makes a run fast, shrinking the guards only makes it flaky on a
/// busy machine. Zero is allowed: an instant modem and network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DelayScale(f64);

/// A delay scale that is not a finite number from 0 to [`TimeScale::MAX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayScaleError(pub String);

impl fmt::Display for DelayScaleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "delay scale must be a number from 0 to {}, got {:?}",
            TimeScale::MAX.0,
            self.0
        )
    }
}

impl std::error::Error for DelayScaleError {}

impl DelayScale {
    /// Delays as modeled (virtual time, or wall-clock time against a real dialer).
    pub const MODEL: DelayScale = DelayScale(1.0);
    /// No modeled delay at all: the modem connects and the line delivers at once.
    pub const INSTANT: DelayScale = DelayScale(0.0);
    /// [`TimeScale::DEFAULT`]'s factor, for simulated devices on PTYs.
    pub const DEFAULT: DelayScale = DelayScale(TimeScale::DEFAULT.0);

    /// A factor from 0 to [`TimeScale::MAX`].
    pub fn new(factor: f64) -> Result<Self, DelayScaleError> {
        if (0.0..=TimeScale::MAX.0).contains(&factor) {
            Ok(DelayScale(factor))
        } else {
            Err(DelayScaleError(factor.to_string()))
        }
    }

    /// The factor itself.
    pub fn factor(self) -> f64 {
        self.0
    }

    /// Whether every modeled delay is zero.
    pub fn is_instant(self) -> bool {
        self.0 == 0.0
    }

    /// How long `modeled` lasts at this scale (saturating, like [`TimeScale::to_real`]).
    pub fn apply(self, modeled: Duration) -> Duration {
        if self == Self::MODEL {
            return modeled;
        }
        saturating_secs(modeled.as_secs_f64() * self.0)
    }
}

impl Default for DelayScale {
    fn default() -> Self {
        DelayScale::MODEL
    }
}

impl FromStr for DelayScale {
    type Err = DelayScaleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let factor: f64 = s
            .trim()
            .parse()
            .map_err(|_| DelayScaleError(s.to_owned()))?;
        DelayScale::new(factor)
    }
}

impl From<TimeScale> for DelayScale {
    fn from(scale: TimeScale) -> Self {
        DelayScale(scale.0)
    }
}

/// The two knobs of a realtime run: protocol timers on one scale, modeled delays on
/// another (both in real time, so `Pace { timers: 0.01, delays: 0.01 }` is the old single
/// factor, and `delays: 0` an instant modem whatever the timers are).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Protocol timers and deadlines: the clock every machine runs on.
    pub timers: TimeScale,
    /// Modeled delays, in real time.
    pub delays: DelayScale,
}

impl Pace {
    /// Simulated devices on PTYs on a shared machine (the conformance realtime driver):
    /// modeled delays at [`DelayScale::DEFAULT`], protocol timers five times more
    /// generous (the LCP restart timer's 3 s in 150 ms, not 30 ms, which a busy machine
    /// can stall past).
    pub const SIMULATED_DEVICES: Pace = Pace {
        timers: TimeScale(0.05),
        delays: DelayScale::DEFAULT,
    };

    /// The scale modeled delays take on a machine whose clock runs at [`Pace::timers`]:
    /// a delay of `d` modeled seconds must last `d × delays` real seconds, which that
    /// clock counts as `d × delays / timers`.
    pub fn delays_on_clock(self) -> DelayScale {
        DelayScale(self.delays.0 / self.timers.0)
    }
}

impl From<TimeScale> for Pace {
    /// One factor for both, as before the two knobs.
    fn from(scale: TimeScale) -> Self {
        Pace {
            timers: scale,
            delays: scale.into(),
        }
    }
}

impl Default for Pace {
    fn default() -> Self {
        TimeScale::DEFAULT.into()
    }
}

/// The wall clock seen through a [`TimeScale`]: what a realtime driver passes to machines
/// as `now`, and how it turns their deadlines back into real ones.
#[derive(Debug, Clone, Copy)]
pub struct RealClock {
    start: std::time::Instant,
    scale: TimeScale,
}

impl RealClock {
    /// A clock whose epoch is now.
    pub fn start(scale: TimeScale) -> Self {
        RealClock {
            start: std::time::Instant::now(),
            scale,
        }
    }

    /// The scale this clock runs at.
    pub fn scale(&self) -> TimeScale {
        self.scale
    }

    /// The current (scaled) instant.
    pub fn now(&self) -> Instant {
        Instant::ZERO + self.scale.to_virtual(self.start.elapsed())
    }

    /// The real instant at which the machine time `deadline` arrives; a deadline beyond
    /// what the platform's clock can represent is placed 100 years ahead (never, for a dial).
    pub fn real_deadline(&self, deadline: Instant) -> std::time::Instant {
        const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
        let real = self.scale.to_real(deadline.since_epoch());
        self.start
            .checked_add(real)
            .unwrap_or_else(|| self.start + FAR_FUTURE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_nonsense_factors() {
        for bad in ["0", "-1", "NaN", "inf", "1001", "fast", "1e-30", "0.00009"] {
            assert!(bad.parse::<TimeScale>().is_err(), "{bad} accepted");
        }
        assert_eq!("0.5".parse::<TimeScale>(), Ok(TimeScale(0.5)));
        assert_eq!("0.0001".parse::<TimeScale>(), Ok(TimeScale::MIN));
        assert_eq!("1000".parse::<TimeScale>(), Ok(TimeScale::MAX));
    }

    /// Issue 16 #1: the extremes of the range, and durations far beyond them, saturate
    /// instead of panicking in `Duration::div_f64`.
    #[test]
    fn conversions_saturate() {
        assert_eq!(TimeScale::MIN.to_virtual(Duration::MAX), Duration::MAX);
        assert_eq!(TimeScale::MAX.to_real(Duration::MAX), Duration::MAX);
        let tiny = TimeScale(1e-30);
        assert_eq!(tiny.to_virtual(Duration::from_secs(1)), Duration::MAX);
        let clock = RealClock::start(TimeScale::MAX);
        assert!(clock.real_deadline(Instant::from_nanos(u64::MAX)) > clock.start);
        let message = "1e-30"
            .parse::<TimeScale>()
            .expect_err("out of range")
            .to_string();
        assert!(message.contains("from 0.0001 to 1000"), "{message}");
    }

    #[test]
    fn scales_both_ways() {
        let s = TimeScale::new(0.01).expect("valid");
        assert_eq!(s.to_real(Duration::from_secs(3)), Duration::from_millis(30));
        assert_eq!(
            s.to_virtual(Duration::from_millis(30)),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn delay_scales_allow_zero_and_map_onto_the_timer_clock() {
        for bad in ["-1", "NaN", "inf", "1001", "fast"] {
            assert!(bad.parse::<DelayScale>().is_err(), "{bad} accepted");
        }
        assert_eq!("0".parse::<DelayScale>(), Ok(DelayScale::INSTANT));
        assert_eq!(
            DelayScale::INSTANT.apply(Duration::from_secs(6)),
            Duration::ZERO
        );
        let pace = Pace {
            timers: TimeScale::new(0.05).expect("valid"),
            delays: DelayScale::new(0.01).expect("valid"),
        };
        // 6 s of dialling lasts 60 ms of real time: 1.2 s on a clock running at 0.05.
        let on_clock = pace.delays_on_clock().apply(Duration::from_secs(6));
        assert_eq!(
            pace.timers.to_real(on_clock).as_millis(),
            60,
            "{on_clock:?}"
        );
        assert_eq!(
            Pace::from(TimeScale::DEFAULT).delays_on_clock(),
            DelayScale::MODEL
        );
    }

    #[test]
    fn deadlines_map_back_to_real_time() {
        let clock = RealClock::start(TimeScale::new(0.001).expect("valid"));
        let deadline = Instant::ZERO + Duration::from_secs(10);
        assert_eq!(
            clock.real_deadline(deadline) - clock.start,
            Duration::from_millis(10)
        );
    }
}
