//! Planning: choosing actions by optimising an action sequence against an objective, the second
//! half of the seed's claim (a world model is worth having if one can plan with it).
//!
//! Planners do no I/O and see nothing but an [`Objective`]: the cost of candidate action
//! sequences. A model-based objective holds latents and a goal, never the simulator's state, so
//! a planner cannot peek at the truth; the simulator oracle is simply another objective.
//!
//! - [`cem`]: the cross-entropy method (DINO-WM's defaults; V-JEPA 2-AC's as a preset);
//! - [`mppi`]: model-predictive path integral control (PLDM style);
//! - [`gradient`]: gradient descent on the action sequence through a differentiable rollout,
//!   projected back into the action bounds after every step;
//! - [`refine`]: CEM, then gradient descent from its plan.
//!
//! Baselines: random actions, the state [`Oracle`] (the simulator's true distance to the goal)
//! and the [`ImageOracle`] (the simulator's rendered futures against the goal image).

pub mod cem;
pub mod gradient;
pub mod image_oracle;
pub mod latent;
pub mod mpc;
pub mod mppi;
mod normal;
pub mod receding;
pub mod refine;

pub use cem::{Cem, CemConfig};
pub use gradient::{GradientConfig, GradientDescent};
pub use image_oracle::ImageOracle;
pub use latent::{Distance, LatentObjective};
pub use mpc::{
    Agent, Controller, EpisodeResult, ModelController, Oracle, Planner, Privileged,
    RandomController, View, frames_tensor, model_context, run_episode,
};
pub use mppi::{Mppi, MppiConfig};
pub use receding::Receding;
pub use refine::Refined;

use candle_core::Tensor;

use crate::error::{AgentError, Result};

/// What a planner optimises: the cost of action sequences `[samples, horizon, action_dim]`.
pub trait Objective {
    /// Steps planned ahead.
    fn horizon(&self) -> usize;
    /// Entries per action.
    fn action_dim(&self) -> usize;
    /// Every action entry lies in `[low, high]`.
    fn bounds(&self) -> (f32, f32);
    /// The cost of each of `samples` sequences, `actions` row-major `[samples, horizon, A]`.
    fn costs(&mut self, actions: &[f32], samples: usize) -> Result<Vec<f32>>;
}

/// An objective whose cost is a differentiable function of the actions.
pub trait Differentiable: Objective {
    /// Costs `[S]` of actions `[S, horizon, A]`, differentiable with respect to the actions.
    fn cost_tensor(&self, actions: &Tensor) -> Result<Tensor>;
}

/// A plan: the action sequence `[horizon, A]` row-major and its cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Actions, row-major `[horizon, A]`.
    pub actions: Vec<f32>,
    /// Its cost under the objective.
    pub cost: f32,
}

impl Plan {
    /// The sequence shifted `k` steps (drop the first `k` actions, repeat the last `k` times):
    /// the warm start after executing `k` actions of this plan.
    pub fn shifted_by(&self, k: usize, action_dim: usize) -> Vec<f32> {
        let n = self.actions.len();
        let k = (k * action_dim).min(n);
        let last = &self.actions[n - action_dim..];
        let mut next = self.actions[k..].to_vec();
        for _ in 0..k / action_dim.max(1) {
            next.extend_from_slice(last);
        }
        next
    }
}

/// Checks a warm start's length and an objective's bounds.
fn check(objective: &dyn Objective, warm: Option<&[f32]>) -> Result<(usize, f32, f32)> {
    let n = objective.horizon() * objective.action_dim();
    let (low, high) = objective.bounds();
    if n == 0 || low.is_nan() || high.is_nan() || low >= high {
        return Err(AgentError::OutOfRange {
            what: "planning problem",
            value: format!("horizon x action_dim = {n}, bounds [{low}, {high}]"),
            expected: "at least one action entry and low < high".into(),
        });
    }
    if let Some(w) = warm
        && w.len() != n
    {
        return Err(AgentError::OutOfRange {
            what: "warm start",
            value: format!("{} entries", w.len()),
            expected: format!("horizon x action_dim = {n}"),
        });
    }
    Ok((n, low, high))
}

/// One round of a sampling planner: fills `samples` (row-major, `mean.len()` entries per row)
/// with `mean + std(j) z` clamped to `[low, high]` (row 0 is the mean itself, so a round never
/// loses the current fit), costs them in one call (one batch through a model), and keeps the
/// cheapest in `best`. Returns the rows' costs. With `correlation` r > 0 each action entry's
/// noise is an AR(1) process along the horizon, z_t = r z_{t-1} + sqrt(1 - r^2) e_t, of unit
/// variance still: smooth pushes instead of white jitter (iCEM's coloured noise), closer to the
/// actions the models were trained on.
#[allow(clippy::too_many_arguments)]
fn sample_round(
    objective: &mut dyn Objective,
    normal: &mut normal::Normal,
    mean: &[f32],
    std: impl Fn(usize) -> f32,
    correlation: f32,
    (low, high): (f32, f32),
    samples: &mut [f32],
    best: &mut Plan,
) -> Result<Vec<f32>> {
    let n = mean.len();
    let a = objective.action_dim().max(1);
    let fresh = (1.0 - correlation * correlation).max(0.0).sqrt();
    let mut z = vec![0f32; n];
    for (s, row) in samples.chunks_exact_mut(n).enumerate() {
        for j in 0..n {
            z[j] = if s == 0 {
                0.0
            } else if j >= a && correlation > 0.0 {
                correlation * z[j - a] + fresh * normal.sample()
            } else {
                normal.sample()
            };
        }
        for (j, (x, &m)) in row.iter_mut().zip(mean).enumerate() {
            *x = (m + std(j) * z[j]).clamp(low, high);
        }
    }
    let rows = samples.len() / n;
    let costs = objective.costs(samples, rows)?;
    let i = argmin(&costs);
    if costs[i] < best.cost {
        *best = Plan {
            actions: samples[i * n..(i + 1) * n].to_vec(),
            cost: costs[i],
        };
    }
    Ok(costs)
}

/// The index of the smallest cost (the first on ties; NaN counts as +infinity).
fn argmin(costs: &[f32]) -> usize {
    let key = |c: f32| if c.is_nan() { f32::INFINITY } else { c };
    (0..costs.len())
        .min_by(|&a, &b| key(costs[a]).total_cmp(&key(costs[b])))
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod lq;
