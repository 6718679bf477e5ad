//! Seeded randomness for the octets the authentication protocols want random: CHAP
//! challenges (RFC 1994 §2.3), MS-CHAPv2 Peer-Challenges (RFC 2759 §4) and the padding of
//! the Change-Password PW block (RFC 2759 §8.10). They come from a seed the caller passes in,
//! never from the operating system, so a run replays byte for byte (DESIGN §2).
//!
//! This is not a cryptographic generator. The point of these links is testing dialers, and a
//! reproducible trace matters more here than unpredictable challenges.

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
}
