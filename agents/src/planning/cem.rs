//! Model-predictive control's inner optimiser: the cross-entropy method. Sample action sequences
//! around a Gaussian, keep the cheapest (the elites), refit the Gaussian to them, repeat.

use serde::{Deserialize, Serialize};

use super::normal::Normal;
use super::{Objective, Plan, check, sample_round};
use crate::error::{AgentError, Result};

/// CEM settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CemConfig {
    /// Sequences sampled per iteration (all costed in one call, one batch through a model).
    pub samples: usize,
    /// Refits of the Gaussian.
    pub iterations: usize,
    /// Cheapest samples the Gaussian is refitted to.
    pub elites: usize,
    /// Initial standard deviation, as a share of the action range.
    pub init_std: f32,
    /// Floor of the standard deviation, as a share of the action range.
    pub min_std: f32,
    /// Seed of the samples.
    pub seed: u64,
}

impl CemConfig {
    /// DINO-WM's defaults: 300 samples, 30 iterations, top 30.
    pub fn dino_wm() -> Self {
        Self {
            samples: 300,
            iterations: 30,
            elites: 30,
            init_std: 0.5,
            min_std: 0.01,
            seed: 0,
        }
    }

    /// V-JEPA 2-AC's budget: 800 samples, 10 iterations (top 10%).
    pub fn vjepa2_ac() -> Self {
        Self {
            samples: 800,
            iterations: 10,
            elites: 80,
            ..Self::dino_wm()
        }
    }
}

/// The cross-entropy method.
#[derive(Clone, Debug)]
pub struct Cem {
    /// Settings.
    pub config: CemConfig,
    calls: u64,
}

impl Cem {
    /// A planner with these settings.
    pub fn new(config: CemConfig) -> Result<Self> {
        let c = &config;
        if c.samples < 2 || c.iterations == 0 || c.elites == 0 || c.elites > c.samples {
            return Err(AgentError::OutOfRange {
                what: "CEM settings",
                value: format!(
                    "{} samples, {} iterations, {} elites",
                    c.samples, c.iterations, c.elites
                ),
                expected: "at least 2 samples, 1 iteration, and 1 to samples elites".into(),
            });
        }
        Ok(Self { config, calls: 0 })
    }

    /// The cheapest sequence found, starting the Gaussian at `warm` (else mid-range).
    pub fn plan(&mut self, objective: &mut dyn Objective, warm: Option<&[f32]>) -> Result<Plan> {
        let (n, low, high) = check(objective, warm)?;
        let c = &self.config;
        let range = high - low;
        let mut normal = Normal::new(c.seed, self.calls);
        self.calls += 1;
        let mut mean = warm.map_or_else(|| vec![0.5 * (low + high); n], <[f32]>::to_vec);
        let mut std = vec![c.init_std * range; n];
        let mut best = Plan {
            actions: mean.clone(),
            cost: f32::INFINITY,
        };
        let mut samples = vec![0f32; c.samples * n];
        for _ in 0..c.iterations {
            let costs = sample_round(
                objective,
                &mut normal,
                &mean,
                |j| std[j],
                (low, high),
                &mut samples,
                &mut best,
            )?;
            let mut order: Vec<usize> = (0..c.samples).collect();
            let key = |i: usize| {
                if costs[i].is_nan() {
                    f32::INFINITY
                } else {
                    costs[i]
                }
            };
            order.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
            let elites = &order[..c.elites];
            for j in 0..n {
                let m = elites.iter().map(|&e| samples[e * n + j]).sum::<f32>() / c.elites as f32;
                let v = elites
                    .iter()
                    .map(|&e| (samples[e * n + j] - m).powi(2))
                    .sum::<f32>()
                    / c.elites as f32;
                mean[j] = m;
                std[j] = v.sqrt().max(c.min_std * range);
            }
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
        let mut cem = Cem::new(CemConfig::dino_wm()).unwrap();
        let plan = cem.plan(&mut problem, None).unwrap();
        crate::planning::lq::assert_solves(&problem, &plan);
        // The same seed plans the same bits; a second call draws other samples.
        let again = Cem::new(CemConfig::dino_wm())
            .unwrap()
            .plan(&mut problem, None)
            .unwrap();
        assert_eq!(
            plan.actions.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            again
                .actions
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let e = Cem::new(CemConfig {
            elites: 500,
            ..CemConfig::dino_wm()
        })
        .unwrap_err();
        assert!(e.to_string().contains("500 elites"), "{e}");
        let mut problem = LinearQuadratic::new();
        let mut cem = Cem::new(CemConfig::dino_wm()).unwrap();
        assert!(cem.plan(&mut problem, Some(&[0.0; 3])).is_err());
    }
}
