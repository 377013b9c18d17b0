//! AdamW (Loshchilov and Hutter) with its moments in the open, so that checkpoints can hold them
//! (candle-nn's optimiser keeps them private and its VarMap saves weights only).

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use crate::error::Result;

/// AdamW over named variables.
pub struct AdamW {
    /// The variables, in name order.
    pub vars: Vec<(String, Var)>,
    /// First moments, one per variable.
    pub m: Vec<Tensor>,
    /// Second moments, one per variable.
    pub v: Vec<Tensor>,
    /// Updates taken so far.
    pub step: u64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl AdamW {
    /// An optimiser with zero moments.
    pub fn new(mut vars: Vec<(String, Var)>, weight_decay: f64) -> Result<Self> {
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let zeros = vars
            .iter()
            .map(|(_, v)| v.as_tensor().zeros_like())
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            m: zeros.clone(),
            v: zeros,
            vars,
            step: 0,
            weight_decay,
        })
    }

    /// An optimiser over every variable of `varmap`.
    pub fn from_varmap(varmap: &candle_nn::VarMap, weight_decay: f64) -> Result<Self> {
        let vars = varmap
            .data()
            .lock()
            .expect("varmap lock")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Self::new(vars, weight_decay)
    }

    /// One update with learning rate `lr`.
    pub fn update(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        self.step += 1;
        let bc1 = 1.0 - BETA1.powi(self.step as i32);
        let bc2 = 1.0 - BETA2.powi(self.step as i32);
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let m = ((&self.m[i] * BETA1)? + (g * (1.0 - BETA1))?)?;
            let v = ((&self.v[i] * BETA2)? + (g.sqr()? * (1.0 - BETA2))?)?;
            let m_hat = (&m / bc1)?;
            let v_hat = (&v / bc2)?;
            let step = (m_hat / (v_hat.sqrt()? + EPS)?)?;
            let decayed = (var.as_tensor() * (1.0 - lr * self.weight_decay))?;
            var.set(&(decayed - (step * lr)?)?)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }
}
