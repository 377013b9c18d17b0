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
use crate::stages::runner::{Part, Runner};
use crate::stages::suite::SuiteDir;
use crate::stages::train::{Models, Trained};
use crate::surprise::{Movies, Scorer, score_suite};
use crate::surprise_sliced::{merge_suite_slices, score_suite_slice};
use moravec_agents::train::load_checkpoint;

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
    /// The training step of a learning-curve point (its kept checkpoint; the headline sets
    /// only).
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<u64>,
}

/// A model's or control's scored suite.
#[derive(Clone, Debug)]
pub struct Scored {
    /// The model or control.
    pub name: String,
    /// The model's training seed (None for a control).
    pub seed: Option<u64>,
    /// The model and seed as the per-seed rows name it (see [`Trained::label`]).
    pub label: String,
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
        let stage = model_stage(work, &inputs.basis(), t, None, inputs.device);
        runner.stage_sharded(&stage, |stage, part| match part {
            // A merge reads curves only: the model is loaded for scoring alone.
            Part::Merge(count) => merge_slices(inputs, stage, count, Movies::All),
            part => score_part(
                &Scorer::Model(models.get(&t.label)?),
                inputs,
                part,
                stage,
                Movies::All,
            ),
        })?;
        scored.push(Scored {
            name: t.name.clone(),
            seed: Some(t.seed),
            label: t.label.clone(),
            dir: stage.dir,
        });
    }
    for control in &config.score.controls {
        let spec = find_control(control)?;
        let stage = control_stage(work, &inputs.basis(), control);
        let scorer = Scorer::Control {
            spec,
            context: inputs.arch.context,
            horizon: inputs.arch.horizon,
        };
        runner.stage_sharded(&stage, |stage, part| match part {
            Part::Merge(count) => merge_slices(inputs, stage, count, Movies::All),
            part => score_part(&scorer, inputs, part, stage, Movies::All),
        })?;
        scored.push(Scored {
            name: control.clone(),
            seed: None,
            label: control.clone(),
            dir: stage.dir,
        });
    }
    Ok(scored)
}

/// Scores (or reuses the scores of) the headline sets with `t` as it was after `step` steps:
/// a point of its learning curve. The kept checkpoint is read only if the stage is not done.
pub fn run_at(
    runner: &mut Runner,
    work: &Path,
    inputs: &ScoreInputs,
    t: &Trained,
    step: u64,
) -> Result<Scored> {
    let stage = model_stage(work, &inputs.basis(), t, Some(step), inputs.device);
    let label = stage.label.clone();
    runner.stage_sharded(&stage, |stage, part| match part {
        Part::Merge(count) => merge_slices(inputs, stage, count, Movies::Headline),
        part => {
            let vars = load_checkpoint(&t.checkpoint_at(step), inputs.device)?;
            let scorer = Scorer::Model(&*vars.model);
            score_part(&scorer, inputs, part, stage, Movies::Headline)
        }
    })?;
    Ok(Scored {
        name: t.name.clone(),
        seed: Some(t.seed),
        label,
        dir: stage.dir,
    })
}

/// What every scoring stage's key is made of besides its scorer: the run's config, the suite's
/// stage hash and the models' windows.
pub(crate) struct ScoreBasis<'a> {
    /// The run's config.
    pub config: &'a RunConfig,
    /// The suite's stage hash.
    pub voe: &'a str,
    /// The models' architecture (its context and horizon).
    pub arch: &'a ModelConfig,
}

impl ScoreInputs<'_> {
    /// What its stages' keys are made of.
    pub(crate) fn basis(&self) -> ScoreBasis<'_> {
        ScoreBasis {
            config: self.config,
            voe: &self.suite_dir.hash,
            arch: self.arch,
        }
    }
}

/// The scoring stage of trained model `t`, after `step` steps for a learning-curve point (its
/// label then `<label>@step<step>`).
pub(crate) fn model_stage(
    work: &Path,
    basis: &ScoreBasis,
    t: &Trained,
    step: Option<u64>,
    device: &Device,
) -> CachedStage {
    let k = ScoreKey {
        step,
        ..key(basis, &t.name, Some(&t.stage.hash), device_key(device))
    };
    let label = match step {
        Some(step) => format!("{}@step{step}", t.label),
        None => t.label.clone(),
    };
    CachedStage::new(work, StageKind::Score, &label, &k)
}

/// The scoring stage of control `control`.
pub(crate) fn control_stage(work: &Path, basis: &ScoreBasis, control: &str) -> CachedStage {
    CachedStage::new(
        work,
        StageKind::Score,
        control,
        &key(basis, control, None, None),
    )
}

/// The key of `scorer`'s stage.
fn key<'k>(
    basis: &'k ScoreBasis,
    scorer: &'k str,
    trained: Option<&'k str>,
    device: Option<&'k str>,
) -> ScoreKey<'k> {
    ScoreKey {
        scorer,
        trained,
        voe: basis.voe,
        stride: basis.config.score.stride,
        context: basis.arch.context,
        horizon: basis.arch.horizon,
        device,
        step: None,
    }
}

/// Scores `movies` of the suite (or one shard of them) into a stage.
fn score_part(
    scorer: &Scorer,
    inputs: &ScoreInputs,
    part: Part,
    stage: &CachedStage,
    movies: Movies,
) -> Result<Vec<(String, f64)>> {
    match part {
        Part::Shard(slice) => {
            score_slice(scorer, inputs, slice, stage, movies).map(|()| Vec::new())
        }
        _ => score_into(scorer, inputs, movies, stage),
    }
}

/// Scores shard `slice` of `movies` of the suite into a stage, under a progress bar.
fn score_slice(
    scorer: &Scorer,
    inputs: &ScoreInputs,
    slice: moravec_sim::WorkSlice,
    stage: &CachedStage,
    movies: Movies,
) -> Result<()> {
    let range = slice.range(movies.count(inputs.suite));
    with_progress(
        range.end - range.start,
        format!("score {} shard {slice}", stage.label),
        |bar| {
            score_suite_slice(
                scorer,
                inputs.suite,
                movies,
                slice,
                inputs.action_dim,
                inputs.config.score.stride,
                &stage.dir,
                inputs.device,
                &|| bar.inc(1),
            )
        },
    )?;
    Ok(())
}

/// Joins the `count` shards of a scoring stage of `movies` into its curves files.
fn merge_slices(
    inputs: &ScoreInputs,
    stage: &CachedStage,
    count: u64,
    movies: Movies,
) -> Result<Vec<(String, f64)>> {
    merge_suite_slices(inputs.suite, movies, &stage.dir, count)?;
    Ok(Vec::new())
}

/// Scores `movies` of the suite into a stage under a progress bar; returns movies/s.
fn score_into(
    scorer: &Scorer,
    inputs: &ScoreInputs,
    movies: Movies,
    stage: &CachedStage,
) -> Result<Vec<(String, f64)>> {
    let count = movies.count(inputs.suite);
    let ((), secs) = with_progress(count, format!("score {}", stage.label), |bar| {
        score_suite(
            scorer,
            inputs.suite,
            movies,
            inputs.action_dim,
            inputs.config.score.stride,
            &stage.dir,
            inputs.device,
            &|| bar.inc(1),
        )
    })?;
    Ok(vec![("movies_per_s".into(), rate(count as f64, secs))])
}
