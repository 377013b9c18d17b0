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

/// Scores (or reuses the scores of) the headline sets at every earlier point of every curve,
/// in order (model, then step): with the other scoring stages, so that a run cut into shards
/// cuts these too.
pub fn score(
    runner: &mut Runner,
    work: &Path,
    inputs: &ScoreInputs,
    trained: &[Trained],
) -> Result<Vec<Scored>> {
    let mut scored = Vec::new();
    for t in trained {
        for &step in &t.config.keep {
            scored.push(score::run_at(runner, work, inputs, t, step)?);
        }
    }
    Ok(scored)
}

/// Probes (or reuses the probes of) every earlier point of every curve and joins them to their
/// scores ([`score`]'s, in its order). In a run making a shard of the probes, only the points
/// whose probe is dealt to it are returned.
pub fn probe(
    runner: &mut Runner,
    work: &Path,
    probes: &mut ProbeData,
    trained: &[Trained],
    scored: Vec<Scored>,
    device: &Device,
) -> Result<Vec<CurvePoint>> {
    let mut points = Vec::new();
    let mut scored = scored.into_iter();
    for t in trained {
        for &step in &t.config.keep {
            let scored = scored.next().expect("one score per point");
            if let Some(probed) = probe::run_at(runner, work, probes, t, step, device)? {
                points.push(CurvePoint {
                    name: t.name.clone(),
                    seed: t.seed,
                    step,
                    scored,
                    probed,
                });
            }
        }
    }
    Ok(points)
}
