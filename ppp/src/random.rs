//! Randomness for the numbers PPP wants random: LCP Magic-Numbers (RFC 1661 §6.4), CHAP
//! challenges (RFC 1994 §2.3), MS-CHAPv2 Peer-Challenges (RFC 2759 §4) and the padding of
//! the Change-Password PW block (RFC 2759 §8.10).
//!
//! The caller chooses the source with [`Entropy`]. A real link draws from the operating
//! system ([`Entropy::Os`], `getrandom`), as those RFCs require: a predictable
//! Peer-Challenge weakens MS-CHAPv2, and two dialers with the same "random" Magic-Number
//! cannot tell a loop from each other. The simulated lab, the scenarios and the tests pass
//! a seed instead ([`Entropy::Seed`]), so a run replays byte for byte (DESIGN §2); the
//! seeded stream is not a cryptographic generator.

/// Where a PPP endpoint draws its random numbers from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entropy {
    /// A reproducible stream fixed by this seed: for the simulated lab, scenarios, tests.
    Seed(u32),
    /// The operating system's generator (`getrandom`): for real links.
    Os,
}

/// A source of random octets: a seeded stream, or the operating system.
#[derive(Debug, Clone)]
pub enum Random {
    /// Reproducible: see [`SeededRandom`].
    Seeded(SeededRandom),
    /// `getrandom`. Should the system refuse (on Linux only a kernel older than 3.17
    /// without `/dev/urandom` does), the octets come from `fallback` and an error is
    /// logged: a dial with weak challenges is better than a panic.
    Os {
        /// The stream used when the operating system gives nothing.
        fallback: SeededRandom,
    },
}

impl Random {
    /// The stream of `seed` (see [`SeededRandom::new`]).
    pub fn seeded(seed: u64) -> Self {
        Random::Seeded(SeededRandom::new(seed))
    }

    /// Randomness from `entropy`; `salt` keeps streams of different uses apart for the same
    /// seed.
    pub fn from_entropy(entropy: Entropy, salt: u64) -> Self {
        match entropy {
            Entropy::Seed(seed) => Random::seeded(u64::from(seed) ^ salt),
            Entropy::Os => Random::Os {
                fallback: SeededRandom::new(salt),
            },
        }
    }

    /// An independent stream for a sub-protocol: from the seeded stream a new seed, so a
    /// renegotiated link draws fresh values that still replay; from the system, the system.
    pub fn split(&mut self) -> Random {
        match self {
            Random::Seeded(stream) => Random::seeded(stream.next_u64()),
            Random::Os { fallback } => Random::Os {
                fallback: SeededRandom::new(fallback.next_u64()),
            },
        }
    }

    /// Fill `out` with random octets.
    pub fn fill(&mut self, out: &mut [u8]) {
        match self {
            Random::Seeded(stream) => stream.fill(out),
            Random::Os { fallback } => {
                if let Err(error) = getrandom::fill(out) {
                    tracing::error!(%error, "the system's random generator failed; using a seeded stream");
                    fallback.fill(out);
                }
            }
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes())
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }

    /// `N` random octets.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        self.fill(&mut out);
        out
    }
}

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): a 64-bit state and one add-and-mix per output, and every seed gives a
/// different stream, 0 included.
#[derive(Debug, Clone)]
pub struct SeededRandom(u64);

impl SeededRandom {
    /// A generator whose output is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRandom(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fill `out` with random octets.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let bits = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bits[..chunk.len()]);
        }
    }

    /// `N` random octets.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        self.fill(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_octets_and_seeds_differ() {
        let a: [u8; 37] = SeededRandom::new(9).bytes();
        let b: [u8; 37] = SeededRandom::new(9).bytes();
        assert_eq!(a, b);
        assert_ne!(a, SeededRandom::new(10).bytes::<37>());
        assert_ne!(SeededRandom::new(0).bytes::<16>(), [0; 16]);
    }

    #[test]
    fn splitmix64_reference_output() {
        // The first outputs for seed 0 of the reference C implementation (Vigna,
        // prng.di.unimi.it/splitmix64.c).
        let mut random = SeededRandom::new(0);
        assert_eq!(random.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(random.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn a_seeded_random_replays_and_the_system_does_not() {
        let mut a = Random::from_entropy(Entropy::Seed(5), 1);
        let mut b = Random::from_entropy(Entropy::Seed(5), 1);
        assert_eq!(a.bytes::<16>(), b.bytes::<16>());
        assert_eq!(a.split().bytes::<16>(), b.split().bytes::<16>());
        let mut os = Random::from_entropy(Entropy::Os, 1);
        let mut os2 = Random::from_entropy(Entropy::Os, 1);
        // Two 128-bit draws from the system agree with probability 2^-128.
        assert_ne!(os.bytes::<16>(), os2.bytes::<16>());
        assert_ne!(os.split().bytes::<16>(), os2.split().bytes::<16>());
    }
}
