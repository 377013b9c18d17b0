//! The training loop.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

use super::checkpoint::{self, CheckpointMeta};
use super::{AdamW, learning_rate};
use crate::data::Clips;
use crate::ema;
use crate::error::{AgentError, Result};
use crate::models::{self, ModelConfig, WorldModel, init::init};

/// How to train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Model registry name.
    pub model: String,
    /// Architecture preset.
    pub preset: String,
    /// Total optimiser steps.
    pub steps: u64,
    /// Windows per batch.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Warm-up steps.
    pub warmup: u64,
    /// Final learning rate as a share of the peak.
    pub lr_floor: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Seed of the initial weights and of the data order.
    pub seed: u64,
    /// Steps between checkpoints (one is always written at the end).
    pub checkpoint_every: u64,
    /// Context frames C, when not the preset's (longer context = memory that reaches further back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<usize>,
    /// Predicted frames K of the rollout loss, when not the preset's (planning looks 25 steps
    /// ahead; a predictor trained on 4 has never fed on its own predictions for long).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon: Option<usize>,
    /// Simulator steps per model step, when not 1 (see [`ModelConfig::frameskip`]): the data
    /// is strided before training, so context and horizon count model steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frameskip: Option<usize>,
    /// FiLM action conditioning in the predictor (see [`ModelConfig::film`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub film: bool,
}

impl TrainConfig {
    /// Defaults for `model` with `preset`.
    pub fn new(model: &str, preset: &str, steps: u64) -> Self {
        Self {
            model: model.to_owned(),
            preset: preset.to_owned(),
            steps,
            batch: 16,
            lr: 1e-3,
            warmup: steps.min(50),
            lr_floor: 0.1,
            weight_decay: 0.01,
            seed: 0,
            checkpoint_every: 100,
            context: None,
            horizon: None,
            frameskip: None,
            film: false,
        }
    }
}

/// What a training run ended with.
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// Steps done when it returned (including those before a resume).
    pub steps: u64,
    /// The step training resumed from (0 for a fresh run).
    pub resumed_from: u64,
    /// The last step's loss terms.
    pub last: Vec<(String, f32)>,
    /// The checkpoint file.
    pub checkpoint: PathBuf,
}

/// Columns of the training log, after `step`: `total` then the model's terms, `lr`,
/// `samples_per_s`, `elapsed_s`.
fn header(terms: &[&str]) -> String {
    let mut cols = vec!["step", "total"];
    cols.extend_from_slice(terms);
    cols.extend(["lr", "samples_per_s", "elapsed_s"]);
    cols.join(",")
}

/// A built model with its variables.
pub struct Built {
    /// The model.
    pub model: Box<dyn WorldModel>,
    /// Its architecture.
    pub config: ModelConfig,
    /// Its variables.
    pub varmap: VarMap,
    /// (target, online) variable pairs of an EMA target encoder.
    pub ema: Vec<(candle_core::Var, candle_core::Var)>,
}

/// Builds the model of `config` for data shaped like `clips` (already strided by the frameskip,
/// see [`Clips::frameskip`]), initialised from `config.seed` (an EMA target starts as a copy of
/// its online encoder).
pub fn build(config: &TrainConfig, clips: &Clips, device: &Device) -> Result<Built> {
    let spec = models::find(&config.model)?;
    let mut model_config = ModelConfig::preset(&config.preset, clips.size, clips.action_dim)?;
    if let Some(context) = config.context {
        model_config.context = context;
    }
    if let Some(horizon) = config.horizon {
        model_config.horizon = horizon;
    }
    if let Some(k) = config.frameskip {
        model_config.frameskip = k;
    }
    model_config.film = config.film;
    model_config.validate()?;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
    let model = (spec.build)(&model_config, vb)?;
    init(&varmap, config.seed)?;
    let mut pairs = Vec::new();
    if let Some((target, online)) = model.ema_prefixes() {
        let data = varmap.data().lock().expect("varmap lock");
        let mut names: Vec<&String> = data.keys().filter(|k| k.starts_with(target)).collect();
        names.sort();
        for name in names {
            let twin = format!("{online}{}", &name[target.len()..]);
            if let Some(o) = data.get(&twin) {
                pairs.push((data[name].clone(), o.clone()));
            }
        }
    }
    let (targets, onlines): (Vec<_>, Vec<_>) = pairs.iter().cloned().unzip();
    ema::update(&targets, &onlines, 0.0)?;
    Ok(Built {
        model,
        config: model_config,
        varmap,
        ema: pairs,
    })
}

impl Built {
    /// Number of trained parameters (an EMA target's copies not counted).
    pub fn parameters(&self) -> usize {
        let total: usize = self.varmap.all_vars().iter().map(|v| v.elem_count()).sum();
        let ema: usize = self.ema.iter().map(|(t, _)| t.elem_count()).sum();
        total - ema
    }
}

/// The model of `config` with the weights of the checkpoint at `path`.
pub fn load(config: &TrainConfig, clips: &Clips, path: &Path, device: &Device) -> Result<Built> {
    let built = build(config, clips, device)?;
    let mut opt = AdamW::from_varmap(&built.varmap, config.weight_decay)?;
    let config_json = serde_json::to_value(&built.config).expect("config serialises");
    checkpoint::restore(path, built.model.name(), &config_json, &mut opt)?;
    Ok(built)
}

/// The model saved in a checkpoint, built from the configs the checkpoint carries (for tools
/// that get a checkpoint and nothing else, like planning).
pub fn load_checkpoint(path: &Path, device: &Device) -> Result<Built> {
    let meta = checkpoint::read_meta(path)?;
    let bad = |what: &str, e: serde_json::Error| AgentError::BadCheckpoint {
        path: path.to_owned(),
        reason: format!("its {what} config does not read: {e}"),
    };
    let train: TrainConfig =
        serde_json::from_value(meta.train.clone()).map_err(|e| bad("training", e))?;
    let model: ModelConfig =
        serde_json::from_value(meta.config.clone()).map_err(|e| bad("model", e))?;
    let shape = Clips {
        frames: Vec::new(),
        actions: Vec::new(),
        episodes: 0,
        length: 0,
        size: model.size,
        action_dim: model.action_dim,
    };
    load(&train, &shape, path, device)
}

/// Trains on `clips`, writing `out/checkpoint.safetensors` and `out/training.csv`. If a
/// checkpoint of the same model and config is there, training resumes from it; rows of the log
/// past the checkpoint's step are dropped first. `on_step(steps_done)` is called after each step;
/// when it returns `false`, training writes a checkpoint and stops there (an interruption that a
/// later call resumes).
pub fn train(
    config: &TrainConfig,
    clips: &Clips,
    out: &Path,
    device: &Device,
    on_step: &dyn Fn(u64) -> bool,
) -> Result<TrainReport> {
    let strided;
    let clips = match config.frameskip {
        Some(k) if k != 1 => {
            strided = clips.frameskip(k)?;
            &strided
        }
        _ => clips,
    };
    let Built {
        model,
        config: model_config,
        varmap,
        ema: ema_pairs,
    } = build(config, clips, device)?;
    let trains = models::find(&config.model)?.trains;
    std::fs::create_dir_all(out).map_err(|e| AgentError::Io {
        action: "cannot create",
        path: out.to_owned(),
        source: e,
    })?;
    let mut opt = AdamW::from_varmap(&varmap, config.weight_decay)?;
    let ckpt = out.join("checkpoint.safetensors");
    let config_json = serde_json::to_value(&model_config).expect("config serialises");
    let train_json = serde_json::to_value(config).expect("config serialises");
    let resumed_from = if ckpt.exists() {
        checkpoint::restore(&ckpt, model.name(), &config_json, &mut opt)?.step
    } else {
        0
    };

    let meta_at = |step: u64| CheckpointMeta {
        schema: checkpoint::SCHEMA,
        model: model.name().to_owned(),
        config: config_json.clone(),
        train: train_json.clone(),
        step,
    };
    if !trains {
        // A control that is never trained: its checkpoint holds the initial weights.
        checkpoint::save(&ckpt, &meta_at(0), &opt)?;
        return Ok(TrainReport {
            steps: 0,
            resumed_from,
            last: Vec::new(),
            checkpoint: ckpt,
        });
    }
    let (ema_targets, ema_onlines): (Vec<_>, Vec<_>) = ema_pairs.into_iter().unzip();
    let log_path = out.join("training.csv");
    let probe = model.loss(&clips.batch(config.seed, 0, 1, model_config.window(), device)?)?;
    let terms: Vec<&str> = probe.terms.iter().map(|t| t.0).collect();
    let mut rows: Vec<String> = match std::fs::read_to_string(&log_path) {
        Ok(text) if resumed_from > 0 => text
            .lines()
            .skip(1)
            .filter(|l| {
                l.split(',')
                    .next()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|s| s < resumed_from)
            })
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let window = model_config.window();
    let start = Instant::now();
    let mut last = Vec::new();
    for step in resumed_from..config.steps {
        let t0 = Instant::now();
        let lr = learning_rate(
            step,
            config.steps,
            config.warmup,
            config.lr,
            config.lr_floor,
        );
        let batch = clips.batch(config.seed, step, config.batch, window, device)?;
        let losses = model.loss(&batch)?;
        let total: f32 = losses.total.to_scalar()?;
        if !total.is_finite() {
            write_log(&log_path, &terms, &rows)?;
            return Err(AgentError::NonFinite { step, value: total });
        }
        let grads = losses.total.backward()?;
        opt.update(&grads, lr)?;
        if !ema_targets.is_empty() {
            ema::update(
                &ema_targets,
                &ema_onlines,
                ema::momentum(step, config.steps),
            )?;
        }
        let mut row = vec![step.to_string(), format!("{total}")];
        last = vec![("total".to_owned(), total)];
        for (name, t) in &losses.terms {
            let v: f32 = t.to_scalar()?;
            row.push(format!("{v}"));
            last.push((name.to_string(), v));
        }
        let secs = t0.elapsed().as_secs_f64();
        row.push(format!("{lr}"));
        row.push(format!("{:.1}", config.batch as f64 / secs.max(1e-9)));
        row.push(format!("{:.3}", start.elapsed().as_secs_f64()));
        rows.push(row.join(","));
        let done = step + 1;
        let go_on = on_step(done);
        if !go_on || done % config.checkpoint_every.max(1) == 0 || done == config.steps {
            checkpoint::save(&ckpt, &meta_at(done), &opt)?;
            write_log(&log_path, &terms, &rows)?;
        }
        if !go_on {
            return Ok(TrainReport {
                steps: done,
                resumed_from,
                last,
                checkpoint: ckpt,
            });
        }
    }
    Ok(TrainReport {
        steps: config.steps,
        resumed_from,
        last,
        checkpoint: ckpt,
    })
}

/// Rewrites the log atomically.
fn write_log(path: &Path, terms: &[&str], rows: &[String]) -> Result<()> {
    let tmp = path.with_extension("csv.tmp");
    let io = |e| AgentError::Io {
        action: "cannot write",
        path: path.to_owned(),
        source: e,
    };
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    writeln!(f, "{}", header(terms)).map_err(io)?;
    for r in rows {
        writeln!(f, "{r}").map_err(io)?;
    }
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)
}
