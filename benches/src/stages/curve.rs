//! The learning curve: each trained model of the first training seed scored again, on the
//! headline sets and with the state probes, at the checkpoints its training kept (halvings of
//! the steps, see [`crate::RunConfig::curve_steps`]); the curve's last point is the end of
//! training, which the scoring and probe stages already cover.

use std::path::Path;

use candle_core::Device;

use crate::error::Result;
use crate::stages::probe::{self, ProbeData, Probed};
use crate::stages::runner::Runner;
use crate::stages::score::{self, ScoreInputs, Scored};
use crate::stages::train::Trained;

/// One point of a model's learning curve before the end of training.
#[derive(Clone, Debug)]
pub struct CurvePoint {
    /// The model's registry name.
    pub name: String,
    /// Its training seed.
    pub seed: u64,
    /// Steps trained.
    pub step: u64,
    /// Its headline sets, scored.
    pub scored: Scored,
    /// Its probes.
    pub probed: Probed,
}

/// Scores and probes (or reuses) every earlier point of every curve.
pub fn run(
    runner: &mut Runner,
    work: &Path,
    inputs: &ScoreInputs,
    probes: &mut ProbeData,
    trained: &[Trained],
    device: &Device,
) -> Result<Vec<CurvePoint>> {
    let mut points = Vec::new();
    for t in trained {
        for &step in &t.config.keep {
            let scored = score::run_at(runner, work, inputs, t, step)?;
            let probed = probe::run_at(runner, work, probes, t, step, device)?;
            points.push(CurvePoint {
                name: t.name.clone(),
                seed: t.seed,
                step,
                scored,
                probed,
            });
        }
    }
    Ok(points)
}
