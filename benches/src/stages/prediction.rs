//! The prediction stages of a nuisance sweep: each trained model's multi-step prediction error
//! on the held-out episodes of every scene, against copying the last context frame forward
//! ([`moravec_agents::eval::evaluate`]), in the model's own target space (latents for the
//! JEPAs, pixels for the pixel models). Their ratio is what can be compared across models: below
//! 1 the model predicts better than nothing moving. One cached `prediction.csv` per model and
//! seed.
//!
//! Only a sweep (`nuisance = [...]`) makes these stages: an ordinary run's stages and results
//! stay as they were.

use std::path::Path;

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::eval::evaluate;
use moravec_agents::train::load_checkpoint;
use serde::Serialize;

use crate::config::RunConfig;
use crate::device::device_key;
use crate::error::{HarnessError, Result};
use crate::files::{num, open_csv, write_csv};
use crate::stages::cache::{CachedStage, StageKind};
use crate::stages::data::Datasets;
use crate::stages::runner::Runner;
use crate::stages::train::{Trained, action_dim, architecture};

/// Columns of a stage's `prediction.csv`.
const STAGE_HEADER: &[&str] = &["scene", "model_error", "copy_error"];

/// One model's prediction error on one scene's held-out episodes.
#[derive(Clone, Debug, PartialEq)]
pub struct PredictionRow {
    /// Scene.
    pub scene: String,
    /// Mean squared error of the model's rollout against the future targets.
    pub model_error: f64,
    /// The same for copying the last context target forward.
    pub copy_error: f64,
}

impl PredictionRow {
    /// Model error over copy-last error: below 1, the model predicts better than copying.
    pub fn ratio(&self) -> f64 {
        self.model_error / self.copy_error
    }
}

/// A model's prediction rows, one per scene.
#[derive(Clone, Debug)]
pub struct Predicted {
    /// Registry name.
    pub name: String,
    /// Training seed.
    pub seed: u64,
    /// Its rows.
    pub rows: Vec<PredictionRow>,
}

/// A prediction stage's cache key.
#[derive(Serialize)]
struct PredictionKey<'a> {
    trained: &'a str,
    test: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
}

/// The prediction stage of `t`: what [`run`] makes and `bench run --plan-only` lists.
pub(crate) fn prediction_stage(
    work: &Path,
    t: &Trained,
    held_out: &Datasets,
    device: &Device,
) -> CachedStage {
    let key = PredictionKey {
        trained: &t.stage.hash,
        test: &held_out.hashes,
        device: device_key(device),
    };
    CachedStage::new(
        work,
        StageKind::Probe,
        &format!("prediction-{}", t.label),
        &key,
    )
}

/// Evaluates (or reuses the evaluation of) every trained model on every scene's held-out
/// episodes. In a run making one shard of the probes, the stages are dealt out with them and
/// only this shard's are returned.
pub fn run(
    runner: &mut Runner,
    work: &Path,
    config: &RunConfig,
    trained: &[Trained],
    held_out: &Datasets,
    device: &Device,
) -> Result<Vec<Predicted>> {
    let actions = action_dim(config)?;
    let arch = architecture(config, actions)?;
    // Every scene's held-out episodes, read on first use and shared by the models.
    let mut scenes: Option<Vec<Clips>> = None;
    let mut out = Vec::new();
    for t in trained {
        let stage = prediction_stage(work, t, held_out, device);
        let path = stage.dir.join("prediction.csv");
        let done = runner.stage_whole(&stage, |_| {
            let vars = load_checkpoint(&t.checkpoint(), device)?;
            if scenes.is_none() {
                let mut all = Vec::new();
                for dir in &held_out.dirs {
                    all.push(Clips::load(dir)?.fit_actions(actions));
                }
                scenes = Some(all);
            }
            let clips = scenes.as_deref().expect("just read");
            let mut rows = Vec::new();
            for (scene, clips) in config.data.scenes.iter().zip(clips) {
                let e = evaluate(&*vars.model, clips, arch.context, arch.horizon, device)?;
                rows.push(vec![
                    scene.clone(),
                    num(f64::from(e.model_error)),
                    num(f64::from(e.copy_error)),
                ]);
            }
            write_csv(&path, STAGE_HEADER, &rows)?;
            Ok(Vec::new())
        })?;
        if done.is_some() {
            out.push(Predicted {
                name: t.name.clone(),
                seed: t.seed,
                rows: read_rows(&path)?,
            });
        }
    }
    Ok(out)
}

fn read_rows(path: &Path) -> Result<Vec<PredictionRow>> {
    let (mut reader, _) = open_csv(path, Some(STAGE_HEADER))?;
    let mut out = Vec::new();
    for rec in reader.deserialize::<(String, f64, f64)>() {
        let (scene, model_error, copy_error) = rec.map_err(|e| HarnessError::Schema {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        out.push(PredictionRow {
            scene,
            model_error,
            copy_error,
        });
    }
    Ok(out)
}
