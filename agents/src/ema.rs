//! The exponential moving average that makes a JEPA's target encoder (I-JEPA, V-JEPA):
//! target <- m * target + (1 - m) * online, m rising linearly from 0.996 to 1.0 over training.

use candle_core::Var;

use crate::error::Result;

/// Momentum at the start of training.
pub const MOMENTUM_START: f64 = 0.996;
/// Momentum at the end of training.
pub const MOMENTUM_END: f64 = 1.0;

/// The momentum at `step` of `total` steps.
pub fn momentum(step: u64, total: u64) -> f64 {
    let frac = if total == 0 {
        1.0
    } else {
        (step as f64 / total as f64).min(1.0)
    };
    MOMENTUM_START + (MOMENTUM_END - MOMENTUM_START) * frac
}

/// One EMA step of every target variable towards its online twin (same order, same shapes).
pub fn update(target: &[Var], online: &[Var], momentum: f64) -> Result<()> {
    for (t, o) in target.iter().zip(online) {
        let next = ((t.as_tensor() * momentum)? + (o.as_tensor() * (1.0 - momentum))?)?;
        t.set(&next)?;
    }
    Ok(())
}
