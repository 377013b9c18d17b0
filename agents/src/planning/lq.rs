//! A planning problem with a known optimum, for testing planners: linear dynamics
//! x' = A x + B u from x0, cost = sum over the horizon of |x_t|^2 + r |u_t|^2.

use candle_core::Tensor;

use super::{Differentiable, Objective};
use crate::error::Result;

const A: [[f32; 2]; 2] = [[1.0, 0.1], [0.0, 1.0]];
const B: [[f32; 2]; 2] = [[0.05, 0.0], [0.1, 0.05]];
const X0: [f32; 2] = [0.3, -0.2];
const R: f32 = 0.1;
const H: usize = 5;

/// The test problem.
pub(crate) struct LinearQuadratic {
    /// Action bound (symmetric).
    pub bound: f32,
}

impl LinearQuadratic {
    pub fn new() -> Self {
        Self { bound: 1.0 }
    }

    fn cost_of(&self, u: &[f32]) -> f32 {
        let mut x = X0;
        let mut cost = 0.0;
        for t in 0..H {
            let ut = &u[2 * t..2 * t + 2];
            x = [
                A[0][0] * x[0] + A[0][1] * x[1] + B[0][0] * ut[0] + B[0][1] * ut[1],
                A[1][0] * x[0] + A[1][1] * x[1] + B[1][0] * ut[0] + B[1][1] * ut[1],
            ];
            cost += x[0] * x[0] + x[1] * x[1] + R * (ut[0] * ut[0] + ut[1] * ut[1]);
        }
        cost
    }

    /// The unconstrained optimum and its cost, from the normal equations (in f64).
    pub fn optimum(&self) -> (Vec<f32>, f32) {
        // x_t = A^t x0 + sum_{s < t} A^(t-1-s) B u_s, stacked as f + G u.
        let n = 2 * H;
        let mut g = vec![vec![0f64; n]; 2 * H];
        let mut f = [0f64; 2 * H];
        let mul = |m: [[f64; 2]; 2], k: [[f64; 2]; 2]| {
            let mut o = [[0f64; 2]; 2];
            for i in 0..2 {
                for j in 0..2 {
                    o[i][j] = m[i][0] * k[0][j] + m[i][1] * k[1][j];
                }
            }
            o
        };
        let a = A.map(|r| r.map(f64::from));
        let b = B.map(|r| r.map(f64::from));
        let mut powers = vec![[[1.0, 0.0], [0.0, 1.0]]];
        for _ in 0..H {
            let last = *powers.last().unwrap();
            powers.push(mul(a, last));
        }
        for t in 1..=H {
            let p = powers[t];
            for i in 0..2 {
                f[2 * (t - 1) + i] = p[i][0] * f64::from(X0[0]) + p[i][1] * f64::from(X0[1]);
            }
            for s in 0..t {
                let m = mul(powers[t - 1 - s], b);
                for i in 0..2 {
                    for j in 0..2 {
                        g[2 * (t - 1) + i][2 * s + j] = m[i][j];
                    }
                }
            }
        }
        // (G^T G + r I) u = -G^T f
        let mut lhs = vec![vec![0f64; n + 1]; n];
        for i in 0..n {
            for j in 0..n {
                lhs[i][j] = (0..2 * H).map(|k| g[k][i] * g[k][j]).sum::<f64>()
                    + if i == j { f64::from(R) } else { 0.0 };
            }
            lhs[i][n] = -(0..2 * H).map(|k| g[k][i] * f[k]).sum::<f64>();
        }
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&p, &q| lhs[p][col].abs().total_cmp(&lhs[q][col].abs()))
                .unwrap();
            lhs.swap(col, pivot);
            for row in 0..n {
                if row != col {
                    let factor = lhs[row][col] / lhs[col][col];
                    let pivot_row = lhs[col].clone();
                    for (x, p) in lhs[row][col..].iter_mut().zip(&pivot_row[col..]) {
                        *x -= factor * p;
                    }
                }
            }
        }
        let u: Vec<f32> = (0..n).map(|i| (lhs[i][n] / lhs[i][i]) as f32).collect();
        assert!(
            u.iter().all(|x| x.abs() < self.bound),
            "optimum inside the bounds: {u:?}"
        );
        let cost = self.cost_of(&u);
        (u, cost)
    }
}

impl Objective for LinearQuadratic {
    fn horizon(&self) -> usize {
        H
    }
    fn action_dim(&self) -> usize {
        2
    }
    fn bounds(&self) -> (f32, f32) {
        (-self.bound, self.bound)
    }
    fn costs(&mut self, actions: &[f32], samples: usize) -> Result<Vec<f32>> {
        Ok(actions
            .chunks_exact(actions.len() / samples)
            .map(|u| self.cost_of(u))
            .collect())
    }
}

impl Differentiable for LinearQuadratic {
    fn cost_tensor(&self, actions: &Tensor) -> Result<Tensor> {
        let (s, h, _) = actions.dims3()?;
        let dev = actions.device();
        let at = Tensor::new(&[[A[0][0], A[1][0]], [A[0][1], A[1][1]]], dev)?;
        let bt = Tensor::new(&[[B[0][0], B[1][0]], [B[0][1], B[1][1]]], dev)?;
        let mut x = Tensor::new(&X0, dev)?
            .reshape((1, 2))?
            .broadcast_as((s, 2))?
            .contiguous()?;
        let mut cost = Tensor::zeros(s, candle_core::DType::F32, dev)?;
        for t in 0..h {
            let u = actions.narrow(1, t, 1)?.squeeze(1)?;
            x = (x.matmul(&at)? + u.matmul(&bt)?)?;
            cost = (cost + x.sqr()?.sum(1)? + (u.sqr()?.sum(1)? * f64::from(R))?)?;
        }
        Ok(cost)
    }
}

/// Asserts that `plan` is the problem's optimum: cost within 1%, every action within 0.05.
pub(crate) fn assert_solves(problem: &LinearQuadratic, plan: &super::Plan) {
    let (best, optimum) = problem.optimum();
    assert!(
        plan.cost <= optimum * 1.01 + 1e-5,
        "{} vs {optimum}",
        plan.cost
    );
    let err = plan
        .actions
        .iter()
        .zip(&best)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(err < 0.05, "actions off by {err}");
}

#[test]
fn the_tensor_and_the_plain_cost_agree() {
    let mut p = LinearQuadratic::new();
    let u: Vec<f32> = (0..2 * H).map(|i| (i as f32 * 0.37).sin() * 0.5).collect();
    let plain = p.costs(&u, 1).unwrap()[0];
    let t = p
        .cost_tensor(&Tensor::from_slice(&u, (1, H, 2), &candle_core::Device::Cpu).unwrap())
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()[0];
    assert!((plain - t).abs() < 1e-5, "{plain} vs {t}");
    let (best, opt) = p.optimum();
    // Any nudge of the optimum costs more.
    for i in 0..best.len() {
        let mut v = best.clone();
        v[i] += 0.01;
        assert!(p.costs(&v, 1).unwrap()[0] > opt);
    }
}
