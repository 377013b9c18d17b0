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
    /// Correlation of successive steps' noise (0: independent, as DINO-WM samples; iCEM-style
    /// coloured noise above it).
    #[serde(default)]
    pub correlation: f32,
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
            correlation: 0.0,
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
        if !(0.0..1.0).contains(&c.correlation) {
            return Err(AgentError::OutOfRange {
                what: "CEM noise correlation",
                value: c.correlation.to_string(),
                expected: "in [0, 1)".into(),
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
                c.correlation,
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

    /// Keeps the sequences it is asked to cost.
    struct Recorder {
        horizon: usize,
        seen: Vec<Vec<f32>>,
    }

    impl Objective for Recorder {
        fn horizon(&self) -> usize {
            self.horizon
        }
        fn action_dim(&self) -> usize {
            2
        }
        fn bounds(&self) -> (f32, f32) {
            (-1000.0, 1000.0)
        }
        fn costs(&mut self, actions: &[f32], samples: usize) -> Result<Vec<f32>> {
            self.seen.push(actions.to_vec());
            Ok(vec![0.0; samples])
        }
    }

    /// Lag-one autocorrelation along the horizon of the first round's samples (row 0, the mean,
    /// left out), and their variance, per entry of a 2-entry action.
    fn lag_one(correlation: f32) -> (f32, f32) {
        let mut r = Recorder {
            horizon: 20,
            seen: Vec::new(),
        };
        // A standard deviation of 100 inside bounds of 1000: nothing is clamped.
        let config = CemConfig {
            samples: 400,
            iterations: 1,
            elites: 10,
            init_std: 0.05,
            correlation,
            ..CemConfig::dino_wm()
        };
        Cem::new(config).unwrap().plan(&mut r, None).unwrap();
        let xs = &r.seen[0];
        let (mut xy, mut xx) = (0.0, 0.0);
        for row in xs.chunks_exact(40).skip(1) {
            for t in 1..20 {
                for a in 0..2 {
                    xy += row[t * 2 + a] * row[(t - 1) * 2 + a];
                    xx += row[t * 2 + a] * row[t * 2 + a];
                }
            }
        }
        (xy / xx, xx / (399.0 * 19.0 * 2.0) / 1e4)
    }

    #[test]
    fn correlated_noise_is_smooth_along_the_horizon_with_the_same_spread() {
        let (white, white_var) = lag_one(0.0);
        let (smooth, smooth_var) = lag_one(0.9);
        assert!(white.abs() < 0.05, "independent noise: lag-one {white}");
        assert!(
            (smooth - 0.9).abs() < 0.05,
            "correlated noise: lag-one {smooth}"
        );
        for v in [white_var, smooth_var] {
            assert!((v - 1.0).abs() < 0.1, "variance {v} of the set 1");
        }
        // It still solves the known problem.
        let mut problem = LinearQuadratic::new();
        let plan = Cem::new(CemConfig {
            correlation: 0.9,
            ..CemConfig::dino_wm()
        })
        .unwrap()
        .plan(&mut problem, None)
        .unwrap();
        crate::planning::lq::assert_solves(&problem, &plan);
    }

    #[test]
    fn bad_settings_are_named() {
        let e = Cem::new(CemConfig {
            elites: 500,
            ..CemConfig::dino_wm()
        })
        .unwrap_err();
        assert!(e.to_string().contains("500 elites"), "{e}");
        let e = Cem::new(CemConfig {
            correlation: 1.0,
            ..CemConfig::dino_wm()
        })
        .unwrap_err();
        assert!(e.to_string().contains("correlation"), "{e}");
        let mut problem = LinearQuadratic::new();
        let mut cem = Cem::new(CemConfig::dino_wm()).unwrap();
        assert!(cem.plan(&mut problem, Some(&[0.0; 3])).is_err());
    }
}
