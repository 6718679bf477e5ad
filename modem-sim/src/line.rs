//! The line between the two modems once a call is up: optional baud-rate pacing and
//! seeded faults (bit errors, dropped bytes), for robustness scenarios.
//!
//! Everything here is deterministic: the faults come from a [`SplitMix64`] seeded from
//! the network file, never from the operating system, so the same seed and the same
//! bytes give the same damage under both drivers.

use std::fmt;

use sansio::sim::Pipe;
use sansio::{DelayScale, Duration, Instant};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// How the line between the modems behaves (`line:` in the network file).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LineConditions {
    /// Deliver bytes no faster than the call's `CONNECT` rate allows, at 10 bits a byte
    /// (start, 8 data, stop), in both directions.
    #[serde(default)]
    pub pacing: bool,
    /// The chance that each bit crossing the line is inverted.
    #[serde(default)]
    pub bit_error_rate: Probability,
    /// The chance that each byte crossing the line is lost.
    #[serde(default)]
    pub drop_rate: Probability,
    /// Seed of the fault generator.
    #[serde(default)]
    pub seed: u64,
}

/// A probability in `[0, 1]`, written in YAML as a number (`1e-5`). Kept as a
/// threshold on a 64-bit draw so that it compares exactly and needs no float at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Probability(u64);

impl Probability {
    /// `p` as a threshold; `None` outside `[0, 1]` or not a number.
    pub fn new(p: f64) -> Option<Probability> {
        // 2^64 as a float; `as` saturates at u64::MAX for p = 1.
        const SCALE: f64 = 18_446_744_073_709_551_616.0;
        (0.0..=1.0)
            .contains(&p)
            .then_some(Probability((p * SCALE) as u64))
    }

    fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether a draw from `rng` lands inside the probability.
    fn happens(self, rng: &mut SplitMix64) -> bool {
        !self.is_zero() && rng.next_u64() < self.0
    }
}

/// The schema of what the `Deserialize` below reads: a number in `[0, 1]`.
impl JsonSchema for Probability {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Probability".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A probability, a number from 0 to 1 (e.g. 1e-5).",
            "type": "number",
            "minimum": 0,
            "maximum": 1
        })
    }
}

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let p = f64::deserialize(deserializer)?;
        Probability::new(p)
            .ok_or_else(|| de::Error::custom(format!("{p} is not a probability between 0 and 1")))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to place faults.
#[derive(Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl fmt::Debug for SplitMix64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SplitMix64")
    }
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// One direction of a connected call: faults first, then pacing.
#[derive(Debug, Clone)]
pub struct Channel {
    bit_error_rate: Probability,
    drop_rate: Probability,
    /// `None` when the line is not paced: bytes cross at once.
    pacing: Option<Pipe>,
    delivered: Vec<u8>,
}

impl Channel {
    /// A channel for a call at `speed` bit/s under `conditions`, its pacing (a modeled
    /// delay) at `delays`: a faster rate on a shrunk clock, none at all when instant.
    pub fn new(conditions: &LineConditions, speed: u32, delays: DelayScale) -> Channel {
        // Saturating float-to-int cast: an absurdly small factor is an absurdly fast line.
        let rate = (f64::from(speed) / delays.factor()) as u64;
        Channel {
            bit_error_rate: conditions.bit_error_rate,
            drop_rate: conditions.drop_rate,
            pacing: (conditions.pacing && !delays.is_instant())
                .then(|| Pipe::new(Duration::ZERO).with_pacing(rate.max(1))),
            delivered: Vec::new(),
        }
    }

    /// Put `bytes` on the line at `now`, damaging them as the conditions say.
    pub fn send(&mut self, now: Instant, bytes: &[u8], rng: &mut SplitMix64) {
        // A clean line (the usual case) draws nothing from `rng` and copies the bytes
        // once, straight to where they go.
        if self.drop_rate.is_zero() && self.bit_error_rate.is_zero() {
            match &mut self.pacing {
                Some(pipe) => pipe.send(now, bytes.to_vec()),
                None => self.delivered.extend_from_slice(bytes),
            }
            return;
        }
        let mut damaged = Vec::with_capacity(bytes.len());
        for &byte in bytes {
            if self.drop_rate.happens(rng) {
                continue;
            }
            let mut byte = byte;
            if !self.bit_error_rate.is_zero() {
                for bit in 0..8 {
                    if self.bit_error_rate.happens(rng) {
                        byte ^= 1 << bit;
                    }
                }
            }
            damaged.push(byte);
        }
        match &mut self.pacing {
            Some(pipe) => pipe.send(now, damaged),
            None => self.delivered.extend(damaged),
        }
    }

    /// Everything that has reached the far end by `now`.
    pub fn take(&mut self, now: Instant) -> Vec<u8> {
        if let Some(pipe) = &mut self.pacing {
            while let Some(bytes) = pipe.take_due(now) {
                self.delivered.extend(bytes);
            }
        }
        std::mem::take(&mut self.delivered)
    }

    /// When the next paced bytes arrive, if any are on the way.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.pacing.as_ref().and_then(Pipe::next_delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conditions(yaml: &str) -> LineConditions {
        serde_saphyr::from_str(yaml).unwrap()
    }

    /// The hand-written schema of [`Probability`] has the bounds its reader keeps.
    #[test]
    fn probability_schema_in_step() {
        let schema = schemars::schema_for!(Probability);
        let (min, max) = (&schema.as_value()["minimum"], &schema.as_value()["maximum"]);
        for edge in [min, max] {
            assert!(serde_saphyr::from_str::<Probability>(&edge.to_string()).is_ok());
        }
        assert!(serde_saphyr::from_str::<Probability>("-1e-9").is_err());
        assert!(serde_saphyr::from_str::<Probability>("1.000001").is_err());
    }

    #[test]
    fn a_clean_line_passes_bytes_at_once() {
        let mut rng = SplitMix64::new(1);
        let mut channel = Channel::new(&LineConditions::default(), 9600, DelayScale::MODEL);
        channel.send(Instant::ZERO, b"hello", &mut rng);
        assert_eq!(channel.take(Instant::ZERO), b"hello".to_vec());
        assert_eq!(channel.next_delivery(), None);
    }

    #[test]
    fn pacing_takes_ten_bits_a_byte() {
        let mut rng = SplitMix64::new(1);
        let mut channel = Channel::new(&conditions("pacing: true"), 1000, DelayScale::MODEL);
        channel.send(Instant::ZERO, b"0123456789", &mut rng);
        // 10 bytes x 10 bits at 1000 bit/s = 100 ms.
        let due = Instant::ZERO + Duration::from_millis(100);
        assert_eq!(channel.next_delivery(), Some(due));
        let before = Instant::ZERO + Duration::from_millis(99);
        assert_eq!(channel.take(before), Vec::<u8>::new());
        assert_eq!(channel.take(due), b"0123456789".to_vec());
    }

    #[test]
    fn faults_follow_the_seed() {
        let line = conditions("bit-error-rate: 0.01\ndrop-rate: 0.05\nseed: 42");
        let data = vec![0x55u8; 10_000];
        let run = |seed| {
            let mut rng = SplitMix64::new(seed);
            let mut channel = Channel::new(&line, 33600, DelayScale::MODEL);
            channel.send(Instant::ZERO, &data, &mut rng);
            channel.take(Instant::ZERO)
        };
        let first = run(42);
        assert_eq!(first, run(42), "same seed, same damage");
        assert_ne!(first, run(43));
        // About 5 % lost and about 8 % of the rest with a flipped bit.
        assert!((9_300..9_700).contains(&first.len()), "{}", first.len());
        let flipped = first.iter().filter(|&&b| b != 0x55).count();
        assert!((500..1_100).contains(&flipped), "{flipped}");
    }

    #[test]
    fn probabilities_are_checked() {
        assert_eq!(Probability::new(0.0), Some(Probability(0)));
        assert_eq!(Probability::new(1.0), Some(Probability(u64::MAX)));
        assert_eq!(Probability::new(1.5), None);
        assert_eq!(Probability::new(f64::NAN), None);
        let err = serde_saphyr::from_str::<LineConditions>("drop-rate: 2").unwrap_err();
        assert!(err.to_string().contains("probability"), "{err}");
        let mut rng = SplitMix64::new(0);
        assert!(Probability::new(1.0).unwrap().happens(&mut rng));
        assert!(!Probability::default().happens(&mut rng));
    }
}
