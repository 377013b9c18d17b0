//! Action and observation spaces, in the Gymnasium sense: what an environment accepts and emits.

use serde::Serialize;

use crate::observation::Observation;
use crate::world::{BodyState, STATE_DIM};

/// A box `[low, high]` in R^n. An empty box (n = 0) is the action space of scenes without agent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoxSpace {
    /// Lower bounds, one per dimension.
    pub low: Vec<f32>,
    /// Upper bounds, one per dimension.
    pub high: Vec<f32>,
}

impl BoxSpace {
    /// The box `[-bound, bound]^dim`.
    pub fn symmetric(dim: usize, bound: f32) -> Self {
        Self {
            low: vec![-bound; dim],
            high: vec![bound; dim],
        }
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.low.len()
    }

    /// Whether `x` has the right length and lies inside the box.
    pub fn contains(&self, x: &[f32]) -> bool {
        x.len() == self.dim()
            && x.iter()
                .zip(self.low.iter().zip(&self.high))
                .all(|(v, (lo, hi))| (lo..=hi).contains(&v))
    }

    /// `x` clamped into the box, dimension by dimension.
    pub fn clamp(&self, x: &[f32]) -> Vec<f32> {
        x.iter()
            .zip(self.low.iter().zip(&self.high))
            .map(|(v, (lo, hi))| v.clamp(*lo, *hi))
            .collect()
    }
}

/// What an observation holds: an RGB8 image and the state of each named body slot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObservationSpace {
    /// Image width, pixels.
    pub width: usize,
    /// Image height, pixels.
    pub height: usize,
    /// The body slots, in state order. A slot may be empty in an episode (fewer objects).
    pub slots: &'static [&'static str],
    /// Lower bounds of a present body's state.
    pub state_low: BodyState,
    /// Upper bounds of a present body's state.
    pub state_high: BodyState,
}

impl ObservationSpace {
    /// The space of a scene whose bodies stay within `extent` metres of the origin and move slower
    /// than `max_speed` (m/s and rad/s).
    pub fn new(
        width: usize,
        height: usize,
        slots: &'static [&'static str],
        extent: f32,
        max_speed: f32,
    ) -> Self {
        let mut low = [0.0; STATE_DIM];
        let mut high = [0.0; STATE_DIM];
        for i in 0..STATE_DIM {
            let b = match i {
                0..=2 => extent,
                3..=6 => 1.0,
                _ => max_speed,
            };
            low[i] = -b;
            high[i] = b;
        }
        Self {
            width,
            height,
            slots,
            state_low: low,
            state_high: high,
        }
    }

    /// Whether the observation fits: image and mask of the right size, the mask naming only
    /// slots that hold a body (or none), one state per slot, each present state finite and
    /// inside the bounds with a unit quaternion.
    pub fn contains(&self, obs: &Observation) -> bool {
        let frame_ok = obs.frame.width == self.width
            && obs.frame.height == self.height
            && obs.frame.data.len() == self.width * self.height * 3;
        let mask_ok = obs.mask.len() == self.width * self.height
            && obs.mask.iter().all(|&m| {
                m == crate::mask::NO_SLOT || obs.states.get(m as usize).is_some_and(|s| s.is_some())
            });
        let states_ok = obs.states.len() == self.slots.len()
            && obs.states.iter().flatten().all(|s| {
                let q = s[3] * s[3] + s[4] * s[4] + s[5] * s[5] + s[6] * s[6];
                (q - 1.0).abs() < 1e-3
                    && s.iter()
                        .zip(self.state_low.iter().zip(&self.state_high))
                        .all(|(v, (lo, hi))| (lo..=hi).contains(&v))
            });
        frame_ok && mask_ok && states_ok
    }
}
