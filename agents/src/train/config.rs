//! How to train one model, and the one place a model's architecture is resolved from its preset
//! and the overrides: the trainer builds from it and the harness keys and scores with it, so the
//! two can never disagree on a context length or a horizon.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::models::ModelConfig;

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
    /// Steps at which a copy of the checkpoint is kept as `checkpoint-<step>.safetensors`
    /// ([`snapshot_path`]): the learning curves score the model as it was at each. Left out of
    /// the saved config when empty, so runs without curves keep their keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<u64>,
}

/// Where the trainer in `out` keeps its copy of the checkpoint at `step` (see
/// [`TrainConfig::keep`]).
pub fn snapshot_path(out: &std::path::Path, step: u64) -> std::path::PathBuf {
    out.join(format!("checkpoint-{step:08}.safetensors"))
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
            keep: Vec::new(),
        }
    }

    /// The architecture this config trains, for images of `size` and actions of `action_dim`
    /// entries (already concatenated over the frameskip): the preset with the overrides laid
    /// over it, validated.
    pub fn model_config(&self, size: usize, action_dim: usize) -> Result<ModelConfig> {
        let mut config = ModelConfig::preset(&self.preset, size, action_dim)?;
        if let Some(context) = self.context {
            config.context = context;
        }
        if let Some(horizon) = self.horizon {
            config.horizon = horizon;
        }
        if let Some(k) = self.frameskip {
            config.frameskip = k;
        }
        config.film = self.film;
        config.validate()?;
        Ok(config)
    }
}
