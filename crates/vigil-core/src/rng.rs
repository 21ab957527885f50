//! Seeds and RNG streams.
//!
//! Every random choice in Vigil flows from the config's `seed`. Each consumer (data order,
//! sampling, initialisation, environment episodes) derives its own stream by name, so adding
//! randomness in one place never shifts the numbers drawn in another.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// SplitMix64 finalizer: a fast, well-mixed bijection on `u64`.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for `purpose` and `index` derived from `seed`; stable across platforms and releases.
pub fn derive_seed(seed: u64, purpose: &str, index: u64) -> u64 {
    // FNV-1a over the purpose label, then mixed with the seed and index.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in purpose.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(mix(seed ^ h).wrapping_add(index))
}

/// The RNG type used everywhere in Vigil (portable and reproducible).
pub fn rng_from_seed(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A named family of seeds derived from one run seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedStream {
    seed: u64,
}

impl SeedStream {
    /// Root of the family.
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }
    /// The seed for `purpose` (index 0).
    pub fn seed(&self, purpose: &str) -> u64 {
        derive_seed(self.seed, purpose, 0)
    }
    /// The `index`-th seed for `purpose`.
    pub fn seed_at(&self, purpose: &str, index: u64) -> u64 {
        derive_seed(self.seed, purpose, index)
    }
    /// An RNG for `purpose`.
    pub fn rng(&self, purpose: &str) -> ChaCha8Rng {
        rng_from_seed(self.seed(purpose))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_stable_and_distinct() {
        let s = SeedStream::new(7);
        assert_eq!(s.seed("data"), SeedStream::new(7).seed("data"));
        assert_ne!(s.seed("data"), s.seed("sampling"));
        assert_ne!(s.seed_at("data", 1), s.seed_at("data", 2));
        let a: u64 = s.rng("x").random();
        let b: u64 = s.rng("x").random();
        assert_eq!(a, b);
        // Pinned so a change in derivation (which would change every run's numbers) is noticed.
        assert_eq!(derive_seed(0, "", 0), mix(mix(0xcbf2_9ce4_8422_2325)));
    }
}
