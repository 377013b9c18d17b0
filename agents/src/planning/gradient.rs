//! Gradient descent on the action sequence through the differentiable rollout: the seed's
//! "backpropagate into the action sequence". Several starts run as one batch; Adam steps are
//! projected back into the action bounds after each update.

use candle_core::{Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use super::normal::Normal;
use super::{Differentiable, Plan, argmin, check};
use crate::error::{AgentError, Result};

/// Gradient-descent settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradientConfig {
    /// Adam steps.
    pub steps: usize,
    /// Step size, as a share of the action range.
    pub lr: f32,
    /// Sequences optimised at once: the warm start (or mid-range) and random restarts.
    pub starts: usize,
    /// Seed of the restarts.
    pub seed: u64,
}

impl Default for GradientConfig {
    fn default() -> Self {
        Self {
            steps: 100,
            lr: 0.05,
            starts: 8,
            seed: 0,
        }
    }
}

impl GradientConfig {
    /// Refining a sampled plan: one start (the plan itself), small steps.
    pub fn refine() -> Self {
        Self {
            steps: 100,
            lr: 0.01,
            starts: 1,
            seed: 0,
        }
    }
}

/// Projected Adam on the actions.
#[derive(Clone, Debug)]
pub struct GradientDescent {
    /// Settings.
    pub config: GradientConfig,
    calls: u64,
}

impl GradientDescent {
    /// A planner with these settings.
    pub fn new(config: GradientConfig) -> Result<Self> {
        if config.steps == 0 || config.starts == 0 || config.lr.is_nan() || config.lr <= 0.0 {
            return Err(AgentError::OutOfRange {
                what: "gradient settings",
                value: format!(
                    "{} steps, {} starts, lr {}",
                    config.steps, config.starts, config.lr
                ),
                expected: "at least 1 step and 1 start, lr > 0".into(),
            });
        }
        Ok(Self { config, calls: 0 })
    }

    /// The cheapest sequence any start reached.
    pub fn plan(
        &mut self,
        objective: &mut dyn Differentiable,
        warm: Option<&[f32]>,
        device: &Device,
    ) -> Result<Plan> {
        let (n, low, high) = check(objective, warm)?;
        let c = &self.config;
        let (h, a) = (objective.horizon(), objective.action_dim());
        let range = high - low;
        let mut normal = Normal::new(c.seed, self.calls);
        self.calls += 1;
        let mut x: Vec<f32> = Vec::with_capacity(c.starts * n);
        x.extend(warm.map_or_else(|| vec![0.5 * (low + high); n], <[f32]>::to_vec));
        for _ in 1..c.starts {
            for _ in 0..n {
                x.push((0.5 * (low + high) + 0.5 * range * normal.sample()).clamp(low, high));
            }
        }
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let lr = c.lr * range;
        let mut m = vec![0f32; x.len()];
        let mut v = vec![0f32; x.len()];
        let mut best = Plan {
            actions: x[..n].to_vec(),
            cost: f32::INFINITY,
        };
        for step in 1..=c.steps + 1 {
            let var = Var::from_tensor(&Tensor::from_slice(&x, (c.starts, h, a), device)?)?;
            let costs = objective.cost_tensor(var.as_tensor())?;
            let values: Vec<f32> = costs.to_vec1()?;
            let i = argmin(&values);
            if values[i] < best.cost {
                best = Plan {
                    actions: x[i * n..(i + 1) * n].to_vec(),
                    cost: values[i],
                };
            }
            if step > c.steps {
                break;
            }
            let grads = costs.sum_all()?.backward()?;
            let g: Vec<f32> = match grads.get(var.as_tensor()) {
                Some(g) => g.flatten_all()?.to_vec1()?,
                None => break, // The cost does not depend on the actions.
            };
            let (c1, c2) = (1.0 - b1.powi(step as i32), 1.0 - b2.powi(step as i32));
            for j in 0..x.len() {
                m[j] = b1 * m[j] + (1.0 - b1) * g[j];
                v[j] = b2 * v[j] + (1.0 - b2) * g[j] * g[j];
                x[j] = (x[j] - lr * (m[j] / c1) / ((v[j] / c2).sqrt() + eps)).clamp(low, high);
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
        let mut gd = GradientDescent::new(GradientConfig {
            steps: 300,
            ..GradientConfig::default()
        })
        .unwrap();
        let plan = gd.plan(&mut problem, None, &Device::Cpu).unwrap();
        crate::planning::lq::assert_solves(&problem, &plan);
    }

    #[test]
    fn actions_stay_in_bounds_when_the_optimum_is_outside() {
        let mut problem = LinearQuadratic::new();
        problem.bound = 0.05;
        let mut gd = GradientDescent::new(GradientConfig::default()).unwrap();
        let plan = gd.plan(&mut problem, None, &Device::Cpu).unwrap();
        assert!(plan.actions.iter().all(|x| x.abs() <= 0.05));
        assert!(
            plan.actions.iter().any(|x| x.abs() > 0.049),
            "{:?}",
            plan.actions
        );
    }
}
