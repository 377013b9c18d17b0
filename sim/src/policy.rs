//! The exploration policy that drives pushers while datasets are generated.
//!
//! Smooth random pushes: an Ornstein-Uhlenbeck process on the pusher's planar velocity, plus a
//! lean towards the scene's [`exploration_target`](crate::Environment::exploration_target) (the
//! cart, the nearest object still on the table) so that episodes often contain contacts, pushes
//! over edges and falls. The lean's strength is drawn per episode, a quarter of episodes without
//! any, so datasets hold both aimless and purposeful motion.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::env::{Environment, SUBSTEPS};
use crate::world::DT;

/// Mean reversion rate of the noise, 1/s.
const THETA: f32 = 1.5;
/// Noise scale, m/s per sqrt(s).
const SIGMA: f32 = 1.0;
/// Speed of the lean towards the target at full strength, m/s.
const LEAN_SPEED: f32 = 1.2;

/// An exploration policy for one episode.
pub struct Explorer {
    rng: ChaCha8Rng,
    noise: [f32; 2],
    lean: f32,
}

impl Explorer {
    /// A policy drawing everything from `rng`.
    pub fn new(mut rng: ChaCha8Rng) -> Self {
        let lean = if rng.random_bool(0.25) {
            0.0
        } else {
            rng.random_range(0.4..1.0)
        };
        Self {
            rng,
            noise: [0.0; 2],
            lean,
        }
    }

    /// Strength of this episode's lean towards the target, in `[0, 1)`.
    pub fn lean(&self) -> f32 {
        self.lean
    }

    /// The next action for `env`: empty for scenes without agent.
    pub fn act(&mut self, env: &dyn Environment) -> Vec<f32> {
        let space = env.action_space();
        if space.dim() == 0 {
            return Vec::new();
        }
        let dt = DT * SUBSTEPS as f32;
        // Uniform innovations of unit variance: as smooth as Gaussian ones after the filter.
        let unit = 3.0f32.sqrt();
        for n in &mut self.noise {
            let eps: f32 = self.rng.random_range(-unit..unit);
            *n += -THETA * *n * dt + SIGMA * dt.sqrt() * eps;
        }
        let mut action = self.noise.to_vec();
        if let (Some(p), Some(t)) = (env.pusher_xz(), env.exploration_target()) {
            let d = [t[0] - p[0], t[1] - p[1]];
            let norm = d[0].hypot(d[1]);
            if norm > 1e-3 {
                action[0] += self.lean * LEAN_SPEED * d[0] / norm;
                action[1] += self.lean * LEAN_SPEED * d[1] / norm;
            }
        }
        space.clamp(&action)
    }
}
