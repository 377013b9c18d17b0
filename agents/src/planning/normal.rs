//! Standard normal draws from a portable generator (Box-Muller over ChaCha8), so that a plan is
//! the same on every machine for a seed.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded source of N(0, 1) samples.
pub(crate) struct Normal {
    rng: ChaCha8Rng,
    spare: Option<f32>,
}

impl Normal {
    /// Draws from `seed` and a `stream` (e.g. the replanning step), independent per pair.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&stream.to_le_bytes());
        key[16..24].copy_from_slice(b"planning");
        Self {
            rng: ChaCha8Rng::from_seed(key),
            spare: None,
        }
    }

    /// One sample.
    pub fn sample(&mut self) -> f32 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        // u1 in (0, 1] keeps the logarithm finite.
        let u1: f64 = 1.0 - self.rng.random_range(0.0..1.0);
        let u2: f64 = self.rng.random_range(0.0..1.0);
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        self.spare = Some((r * t.sin()) as f32);
        (r * t.cos()) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_and_determinism() {
        let mut a = Normal::new(3, 0);
        let xs: Vec<f32> = (0..20_000).map(|_| a.sample()).collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / xs.len() as f32;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        let mut b = Normal::new(3, 0);
        assert!(
            xs.iter()
                .take(100)
                .all(|x| x.to_bits() == b.sample().to_bits())
        );
        let mut c = Normal::new(3, 1);
        assert_ne!(xs[0].to_bits(), c.sample().to_bits());
    }
}
