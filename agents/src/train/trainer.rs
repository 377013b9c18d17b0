//! The training loop.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;

use super::checkpoint::{self, CheckpointHeader};
use super::config::TrainConfig;
use super::{AdamW, learning_rate};
use crate::data::Clips;
use crate::ema;
use crate::error::{AgentError, Result};
use crate::models::{self, ModelVars, init::init};

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

/// The model `config` trains, for data shaped like `clips` (already strided by the frameskip,
/// see [`Clips::frameskip`]), initialised from `config.seed` (an EMA target starts as a copy of
/// its online encoder).
pub fn build(config: &TrainConfig, clips: &Clips, device: &Device) -> Result<ModelVars> {
    let model_config = config.model_config(clips.size, clips.action_dim)?;
    let vars = ModelVars::new(&config.model, &model_config, device)?;
    init(&vars.varmap, config.seed)?;
    let (targets, onlines): (Vec<_>, Vec<_>) = vars.ema.iter().cloned().unzip();
    ema::update(&targets, &onlines, 0.0)?;
    Ok(vars)
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
    let ModelVars {
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
    // A kept snapshot at or before the checkpoint's step that is missing (a run killed between
    // the two writes, by a build that wrote the checkpoint first) can only be made again by
    // training from the start; training is deterministic, so that gives the same bits.
    let resumable = ckpt.exists() && {
        let step = checkpoint::read_header(&ckpt)?.step;
        config
            .keep
            .iter()
            .all(|&k| k > step || super::snapshot_path(out, k).exists())
    };
    let resumed_from = if resumable {
        checkpoint::restore(&ckpt, model.name(), &model_config, &mut opt)?.step
    } else {
        0
    };

    let meta_at = |step: u64| CheckpointHeader {
        schema: checkpoint::SCHEMA,
        model: model.name().to_owned(),
        config: model_config.clone(),
        train: config.clone(),
        step,
        sha256: None,
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
    // A model that asks for windows longer than its context and horizon (memory) trains on
    // whole episodes when they are shorter; a window the episodes cannot hold stays an error.
    let window = model
        .train_window()
        .min(clips.length.max(model_config.window()));
    let probe = model.loss(&clips.batch(config.seed, 0, 1, window, device)?)?;
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
        let keep = config.keep.contains(&done);
        if keep {
            // Saved again rather than copied: the same write, atomic by the same path. Before
            // the checkpoint, so that a checkpoint at or past a kept step means its snapshot is
            // there (a kill between the two writes redoes the step).
            checkpoint::save(&super::snapshot_path(out, done), &meta_at(done), &opt)?;
        }
        if !go_on || keep || done % config.checkpoint_every.max(1) == 0 || done == config.steps {
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
