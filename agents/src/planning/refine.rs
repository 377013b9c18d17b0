//! CEM, then gradient descent from CEM's best plan: sampling finds the basin (pushes that
//! reach the object at all), the gradient then settles the plan within it, where a few dozen
//! elites drawn around a Gaussian are too coarse to tell a cart stopped 3 cm from its spot
//! from one stopped 9 cm away.

use candle_core::Device;

use super::{Cem, Differentiable, GradientDescent, Plan};
use crate::error::Result;

/// CEM followed by projected gradient descent from its plan.
#[derive(Clone, Debug)]
pub struct Refined {
    /// The coarse search.
    pub cem: Cem,
    /// The refinement, started from CEM's plan (its first start; any others are its random
    /// restarts).
    pub gradient: GradientDescent,
}

impl Refined {
    /// The cheaper of CEM's plan and the best the gradient reached from it.
    pub fn plan(
        &mut self,
        objective: &mut dyn Differentiable,
        warm: Option<&[f32]>,
        device: &Device,
    ) -> Result<Plan> {
        let coarse = self.cem.plan(objective, warm)?;
        let fine = self
            .gradient
            .plan(objective, Some(&coarse.actions), device)?;
        Ok(if fine.cost < coarse.cost {
            fine
        } else {
            coarse
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::lq::LinearQuadratic;
    use crate::planning::{CemConfig, GradientConfig, Objective};

    fn refined(cem: CemConfig, steps: usize) -> Refined {
        Refined {
            cem: Cem::new(cem).unwrap(),
            gradient: GradientDescent::new(GradientConfig {
                steps,
                ..GradientConfig::refine()
            })
            .unwrap(),
        }
    }

    #[test]
    fn finds_the_linear_quadratic_optimum() {
        let mut problem = LinearQuadratic::new();
        let mut planner = refined(CemConfig::dino_wm(), 100);
        let plan = planner.plan(&mut problem, None, &Device::Cpu).unwrap();
        crate::planning::lq::assert_solves(&problem, &plan);
    }

    #[test]
    fn the_gradient_settles_what_a_coarse_search_left_rough() {
        // Two rounds of eight samples leave CEM far from the optimum; the gradient from its
        // plan closes most of the gap, and the plan returned is the one whose cost it reports.
        let coarse = CemConfig {
            samples: 8,
            iterations: 2,
            elites: 2,
            ..CemConfig::dino_wm()
        };
        let mut problem = LinearQuadratic::new();
        let (_, best) = problem.optimum();
        let cem_only = Cem::new(coarse.clone())
            .unwrap()
            .plan(&mut problem, None)
            .unwrap();
        let plan = refined(coarse, 200)
            .plan(&mut problem, None, &Device::Cpu)
            .unwrap();
        assert!(
            plan.cost - best < 0.1 * (cem_only.cost - best),
            "refined {} against CEM alone {} (optimum {best})",
            plan.cost,
            cem_only.cost
        );
        let again = problem.costs(&plan.actions, 1).unwrap()[0];
        assert!((again - plan.cost).abs() < 1e-4, "{again} vs {}", plan.cost);
    }
}
