//! Model-predictive path integral control (as PLDM plans): perturb the current sequence with
//! Gaussian noise, weight every sample by exp(-cost / temperature), move to the weighted mean.

use serde::{Deserialize, Serialize};

use super::normal::Normal;
use super::{Objective, Plan, check, sample_round};
use crate::error::{AgentError, Result};

/// MPPI settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MppiConfig {
    /// Sequences sampled per iteration.
    pub samples: usize,
    /// Updates of the sequence.
    pub iterations: usize,
    /// Standard deviation of the perturbations, as a share of the action range.
    pub noise: f32,
    /// Temperature, as a share of the iteration's spread of costs (so it needs no tuning to the
    /// objective's scale).
    pub temperature: f32,
    /// Seed of the perturbations.
    pub seed: u64,
}

impl Default for MppiConfig {
    fn default() -> Self {
        Self {
            samples: 300,
            iterations: 20,
            noise: 0.3,
            temperature: 0.05,
            seed: 0,
        }
    }
}

/// MPPI.
#[derive(Clone, Debug)]
pub struct Mppi {
    /// Settings.
    pub config: MppiConfig,
    calls: u64,
}

impl Mppi {
    /// A planner with these settings.
    pub fn new(config: MppiConfig) -> Result<Self> {
        let c = &config;
        if c.samples < 2
            || c.iterations == 0
            || c.noise.is_nan()
            || c.noise <= 0.0
            || c.temperature.is_nan()
            || c.temperature <= 0.0
        {
            return Err(AgentError::OutOfRange {
                what: "MPPI settings",
                value: format!(
                    "{} samples, {} iterations, noise {}, temperature {}",
                    c.samples, c.iterations, c.noise, c.temperature
                ),
                expected: "at least 2 samples and 1 iteration, noise and temperature > 0".into(),
            });
        }
        Ok(Self { config, calls: 0 })
    }

    /// The best sequence found, starting from `warm` (else mid-range).
    pub fn plan(&mut self, objective: &mut dyn Objective, warm: Option<&[f32]>) -> Result<Plan> {
        let (n, low, high) = check(objective, warm)?;
        let c = &self.config;
        let range = high - low;
        let mut normal = Normal::new(c.seed, self.calls);
        self.calls += 1;
        let mut mean = warm.map_or_else(|| vec![0.5 * (low + high); n], <[f32]>::to_vec);
        // The noise shrinks over the iterations, from `noise` to a tenth of it.
        let mut best = Plan {
            actions: mean.clone(),
            cost: f32::INFINITY,
        };
        let mut samples = vec![0f32; c.samples * n];
        for it in 0..c.iterations {
            let sd = c.noise * range * (1.0 - 0.9 * it as f32 / c.iterations as f32);
            let costs = sample_round(
                objective,
                &mut normal,
                &mean,
                |_| sd,
                0.0,
                (low, high),
                &mut samples,
                &mut best,
            )?;
            let finite: Vec<f32> = costs.iter().copied().filter(|c| c.is_finite()).collect();
            let lo = finite.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = finite.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let scale = (hi - lo).max(f32::MIN_POSITIVE) * c.temperature;
            let weights: Vec<f64> = costs
                .iter()
                .map(|&k| {
                    if k.is_finite() {
                        (-f64::from((k - lo) / scale)).exp()
                    } else {
                        0.0
                    }
                })
                .collect();
            let total: f64 = weights.iter().sum();
            for (j, m) in mean.iter_mut().enumerate() {
                let v: f64 = weights
                    .iter()
                    .enumerate()
                    .map(|(s, w)| w * f64::from(samples[s * n + j]))
                    .sum();
                *m = ((v / total) as f32).clamp(low, high);
            }
        }
        let last = objective.costs(&mean, 1)?[0];
        if last < best.cost {
            best = Plan {
                actions: mean,
                cost: last,
            };
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::lq::LinearQuadratic;

    #[test]
    fn finds_the_linear_quadratic_optimum() {
        let mut problem = LinearQuadratic::new();
        let mut mppi = Mppi::new(MppiConfig::default()).unwrap();
        let plan = mppi.plan(&mut problem, None).unwrap();
        crate::planning::lq::assert_solves(&problem, &plan);
        assert!(
            Mppi::new(MppiConfig {
                noise: 0.0,
                ..MppiConfig::default()
            })
            .is_err()
        );
    }
}
