//! The scoring stages: every trained model and every control on every suite movie, one cached
//! folder of surprise curves each (see [`crate::surprise`]).

use std::path::{Path, PathBuf};

use candle_core::Device;
use moravec_agents::models::ModelConfig;
use moravec_sim::voe::Suite;
use serde::Serialize;

use crate::config::RunConfig;
use crate::controls::find_control;
use crate::device::device_key;
use crate::error::Result;
use crate::progress::{rate, with_progress};
use crate::stages::cache::{CachedStage, StageKind};
use crate::stages::runner::Runner;
use crate::stages::suite::SuiteDir;
use crate::stages::train::{Models, Trained};
use crate::surprise::{Scorer, score_suite};

/// A scoring stage's cache key.
#[derive(Serialize)]
struct ScoreKey<'a> {
    scorer: &'a str,
    trained: Option<&'a str>,
    voe: &'a str,
    stride: usize,
    context: usize,
    horizon: usize,
    /// Where the model ran, if not on the CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
}

/// A model's or control's scored suite.
#[derive(Clone, Debug)]
pub struct Scored {
    /// The model or control.
    pub name: String,
    /// The folder of its curves.
    pub dir: PathBuf,
}

/// What the scoring stages read.
pub struct ScoreInputs<'a> {
    /// The run's config.
    pub config: &'a RunConfig,
    /// The suite on disk.
    pub suite_dir: &'a SuiteDir,
    /// The suite, read.
    pub suite: &'a Suite,
    /// The models' architecture (the controls use its windows).
    pub arch: &'a ModelConfig,
    /// Action entries of the models.
    pub action_dim: usize,
    /// Where models run.
    pub device: &'a Device,
}

/// Scores (or reuses the scores of) every trained model, then every control.
pub fn run(
    runner: &mut Runner,
    work: &Path,
    inputs: &ScoreInputs,
    trained: &[Trained],
    models: &mut Models,
) -> Result<Vec<Scored>> {
    let config = inputs.config;
    let mut scored = Vec::new();
    for t in trained {
        let k = key(
            inputs,
            &t.name,
            Some(&t.stage.hash),
            device_key(inputs.device),
        );
        let stage = CachedStage::new(work, StageKind::Score, &t.name, &k);
        runner.stage(&stage, |stage| {
            let model = models.get(&t.name)?;
            score_into(&Scorer::Model(model), inputs, stage)
        })?;
        scored.push(Scored {
            name: t.name.clone(),
            dir: stage.dir,
        });
    }
    for control in &config.score.controls {
        let spec = find_control(control)?;
        let stage = CachedStage::new(
            work,
            StageKind::Score,
            control,
            &key(inputs, control, None, None),
        );
        runner.stage(&stage, |stage| {
            let scorer = Scorer::Control {
                spec,
                context: inputs.arch.context,
                horizon: inputs.arch.horizon,
            };
            score_into(&scorer, inputs, stage)
        })?;
        scored.push(Scored {
            name: control.clone(),
            dir: stage.dir,
        });
    }
    Ok(scored)
}

/// The key of `scorer`'s stage.
fn key<'k>(
    inputs: &'k ScoreInputs,
    scorer: &'k str,
    trained: Option<&'k str>,
    device: Option<&'k str>,
) -> ScoreKey<'k> {
    ScoreKey {
        scorer,
        trained,
        voe: &inputs.suite_dir.hash,
        stride: inputs.config.score.stride,
        context: inputs.arch.context,
        horizon: inputs.arch.horizon,
        device,
    }
}

/// Scores the suite into a stage under a progress bar; returns movies/s.
fn score_into(
    scorer: &Scorer,
    inputs: &ScoreInputs,
    stage: &CachedStage,
) -> Result<Vec<(String, f64)>> {
    let movies: u64 = inputs
        .suite
        .meta
        .properties
        .iter()
        .map(|p| p.episodes)
        .sum();
    let ((), secs) = with_progress(movies, format!("score {}", stage.label), |bar| {
        score_suite(
            scorer,
            inputs.suite,
            inputs.action_dim,
            inputs.config.score.stride,
            &stage.dir,
            inputs.device,
            &|| bar.inc(1),
        )
    })?;
    Ok(vec![("movies_per_s".into(), rate(movies as f64, secs))])
}
