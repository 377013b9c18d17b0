//! The training stages: every model of the run on the pooled datasets, one cached checkpoint
//! each, and [`Models`], which loads each trained model once for everything after training.
//! `bench train` trains through the same [`train_with_progress`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::models::{ModelConfig, ModelVars, WorldModel};
use moravec_agents::train::{TrainConfig, TrainReport, load_checkpoint, train};
use serde::Serialize;

use crate::config::RunConfig;
use crate::device::device_key;
use crate::error::{HarnessError, Result};
use crate::progress::{rate, with_progress};
use crate::stages::cache::{CachedStage, StageKind};
use crate::stages::data::Datasets;
use crate::stages::runner::Runner;

/// A training stage's cache key: the model's config, and the datasets it reads.
#[derive(Serialize)]
pub(crate) struct TrainKey<'a> {
    pub(crate) train: &'a TrainConfig,
    pub(crate) data: &'a [String],
    /// Where it ran, if not on the CPU: a GPU run must not reuse CPU checkpoints (nor the
    /// reverse), and CPU stages keep the keys they had before devices were keyed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) device: Option<&'a str>,
    /// The model's revision ([`moravec_agents::models::ModelSpec::revision`]): a revised model
    /// trains again. Left out at 0, so models never revised keep their keys.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) revision: u32,
}

impl<'a> TrainKey<'a> {
    /// The key of `train` on the datasets `data`, run on `device`.
    pub(crate) fn new(train: &'a TrainConfig, data: &'a [String], device: &Device) -> Self {
        Self {
            train,
            data,
            device: device_key(device),
            revision: moravec_agents::models::find(&train.model).map_or(0, |m| m.revision),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A model the run trained, with one of its training seeds.
#[derive(Clone, Debug)]
pub struct Trained {
    /// Its registry name.
    pub name: String,
    /// Its training seed.
    pub seed: u64,
    /// What names it in stages and per-seed rows: the name alone in a run of one seed, else
    /// `name@seed`.
    pub label: String,
    /// How it was trained.
    pub config: TrainConfig,
    /// Its stage (checkpoint and log).
    pub stage: CachedStage,
}

impl Trained {
    /// Its checkpoint.
    pub fn checkpoint(&self) -> PathBuf {
        self.stage.dir.join("checkpoint.safetensors")
    }

    /// Its training log.
    pub fn log(&self) -> PathBuf {
        self.stage.dir.join("training.csv")
    }

    /// Its checkpoint as it was after `step` steps: the final one, or a copy kept for the
    /// learning curve.
    pub fn checkpoint_at(&self, step: u64) -> PathBuf {
        if step >= self.config.steps {
            self.checkpoint()
        } else {
            moravec_agents::train::snapshot_path(&self.stage.dir, step)
        }
    }
}

/// The label of `model` trained with `seed` in a run of `seeds`.
pub fn label(model: &str, seed: u64, seeds: &[u64]) -> String {
    if seeds.len() == 1 {
        model.to_owned()
    } else {
        format!("{model}@{seed}")
    }
}

/// Action entries the run's models take: the most of any training scene (scenes with fewer are
/// padded).
pub fn action_dim(config: &RunConfig) -> Result<usize> {
    let mut most = 0;
    for s in &config.data.scenes {
        most = most.max(moravec_sim::scene::find(s)?.action_dim);
    }
    Ok(most)
}

/// How the run trains `model` with its first training seed (the one whose learning curve is
/// scored: it keeps the checkpoints of the curve's steps).
pub fn train_config(config: &RunConfig, model: &str) -> TrainConfig {
    train_config_seeded(config, model, config.train_seeds()[0])
}

/// How the run trains `model` with `seed`.
pub fn train_config_seeded(config: &RunConfig, model: &str, seed: u64) -> TrainConfig {
    let trains = moravec_agents::models::find(model).is_ok_and(|m| m.trains);
    let steps = config.curve_steps();
    let keep = if trains && seed == config.train_seeds()[0] {
        steps[..steps.len() - 1].to_vec()
    } else {
        Vec::new()
    };
    TrainConfig {
        batch: config.train.batch,
        lr: config.train.lr,
        warmup: config.train.warmup.min(config.train.steps),
        seed,
        checkpoint_every: config.train.checkpoint_every,
        context: config.train.context,
        keep,
        ..TrainConfig::new(model, &config.train.arch, config.train.steps)
    }
}

/// The architecture every model of the run has, for actions of `action_dim` entries (their
/// windows are the scoring windows).
pub fn architecture(config: &RunConfig, action_dim: usize) -> Result<ModelConfig> {
    let any = config
        .train
        .models
        .first()
        .map_or("untrained", String::as_str);
    Ok(train_config(config, any).model_config(config.size, action_dim)?)
}

/// Trains under a progress bar into `out` (resuming from its checkpoint); returns the report
/// and the samples per second of the steps this call took.
pub fn train_with_progress(
    config: &TrainConfig,
    clips: &Clips,
    out: &Path,
    device: &Device,
) -> Result<(TrainReport, f64)> {
    let (report, secs) = with_progress(config.steps, format!("train {}", config.model), |bar| {
        train(config, clips, out, device, &|s| {
            bar.set_position(s);
            true
        })
    })?;
    let done = (report.steps - report.resumed_from) as f64;
    Ok((report, rate(done * config.batch as f64, secs)))
}

/// Trains (or reuses) every model of the run. The pooled datasets are read only if some model
/// still has to train.
pub fn run(
    runner: &mut Runner,
    work: &Path,
    config: &RunConfig,
    data: &Datasets,
    device: &Device,
) -> Result<Vec<Trained>> {
    let mut pooled: Option<Clips> = None;
    let mut trained = Vec::new();
    for t in planned(work, config, &data.hashes, device) {
        // Cut into shards, training shares out whole models, dealt round-robin; the merge
        // only checks that every one is done.
        let done = runner.stage_whole(&t.stage, |stage| {
            if pooled.is_none() {
                let parts = data
                    .dirs
                    .iter()
                    .map(|d| Clips::load(d))
                    .collect::<moravec_agents::Result<Vec<_>>>()?;
                pooled = Some(Clips::concat(&parts)?);
            }
            let clips = pooled.as_ref().expect("just loaded");
            let (_, samples_per_s) = train_with_progress(&t.config, clips, &stage.dir, device)?;
            Ok(vec![("samples_per_s".into(), samples_per_s)])
        })?;
        if done.is_none() {
            continue;
        }
        trained.push(t);
    }
    Ok(trained)
}

/// Every model of the run, per training seed, with its stage (trained or not): what [`run`]
/// trains, in its order, and `bench run --plan-only` lists. `data` are the datasets' stage
/// hashes.
pub(crate) fn planned(
    work: &Path,
    config: &RunConfig,
    data: &[String],
    device: &Device,
) -> Vec<Trained> {
    let seeds = config.train_seeds();
    let mut out = Vec::new();
    for &seed in &seeds {
        for model in &config.train.models {
            let tc = train_config_seeded(config, model, seed);
            let key = TrainKey::new(&tc, data, device);
            let label = label(model, seed, &seeds);
            let stage = CachedStage::new(work, StageKind::Train, &label, &key);
            out.push(Trained {
                name: model.clone(),
                seed,
                label,
                config: tc,
                stage,
            });
        }
    }
    out
}

/// The run's trained models, each loaded from its checkpoint the first time a stage asks for it
/// and kept for every later stage (scoring, planning).
pub struct Models<'a> {
    trained: &'a [Trained],
    device: Device,
    loaded: BTreeMap<String, ModelVars>,
    reads: usize,
}

impl<'a> Models<'a> {
    /// The models of `trained`, loaded on `device` when first asked for.
    pub fn new(trained: &'a [Trained], device: &Device) -> Self {
        Self {
            trained,
            device: device.clone(),
            loaded: BTreeMap::new(),
            reads: 0,
        }
    }

    /// How many checkpoints it has read so far.
    pub fn reads(&self) -> usize {
        self.reads
    }

    /// The trained model `label` (see [`Trained::label`]).
    pub fn get(&mut self, name: &str) -> Result<&dyn WorldModel> {
        if !self.loaded.contains_key(name) {
            let t = self
                .trained
                .iter()
                .find(|t| t.label == name)
                .ok_or_else(|| HarnessError::Invalid {
                    what: "model".into(),
                    value: name.into(),
                    expected: "a model this run trained".into(),
                })?;
            let vars = load_checkpoint(&t.checkpoint(), &self.device)?;
            self.reads += 1;
            self.loaded.insert(name.to_owned(), vars);
        }
        Ok(&*self.loaded[name].model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scoring and planning ask for the same model many times; its checkpoint is read once.
    #[test]
    fn a_trained_model_is_read_from_its_checkpoint_once() {
        let tmp = tempfile::tempdir().unwrap();
        let (episodes, length, size) = (2, 12, 16);
        let clips = Clips {
            masks: Vec::new(),
            frames: vec![7; episodes * length * size * size * 3],
            actions: Vec::new(),
            episodes,
            length,
            size,
            action_dim: 0,
        };
        let config = TrainConfig::new("untrained", "tiny", 1);
        let stage = CachedStage::new(tmp.path(), StageKind::Train, "untrained", &1);
        train(&config, &clips, &stage.dir, &Device::Cpu, &|_| true).unwrap();
        let trained = [Trained {
            name: "untrained".into(),
            seed: 0,
            label: "untrained".into(),
            config,
            stage,
        }];
        let mut models = Models::new(&trained, &Device::Cpu);
        assert_eq!(models.get("untrained").unwrap().name(), "untrained");
        assert_eq!(models.get("untrained").unwrap().config().size, size);
        assert_eq!(models.reads(), 1);
        let e = models.get("gpt").err().unwrap().to_string();
        assert!(e.contains("gpt"), "{e}");
    }
}
