//! The architecture shared by every model: image and patch size, widths, context and horizon.

use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};

/// Architecture and horizon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Image side, pixels.
    pub size: usize,
    /// Patch side, pixels.
    pub patch: usize,
    /// Latent width per token.
    pub dim: usize,
    /// Hidden width of the MLPs.
    pub hidden: usize,
    /// Context frames C.
    pub context: usize,
    /// Predicted frames K.
    pub horizon: usize,
    /// Action length (0 for scenes without agent).
    pub action_dim: usize,
    /// Expander width for VICReg.
    pub expander: usize,
    /// Simulator steps per model step (DINO-WM's frameskip): the model sees every k-th frame,
    /// and its action is the k simulator actions in between, concatenated (`action_dim` counts
    /// them all). A 5-step plan then covers 25 simulator steps, with a predictor that never
    /// rolls out more than 5 of its own predictions. 1 (the default, left out of the saved
    /// config so older checkpoints read the same) is every frame.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub frameskip: usize,
    /// FiLM action conditioning in the predictor: the window's actions scale each hidden
    /// channel (`h * (1 + film(a)) + action(a)`) instead of only shifting it. Why: a push
    /// changes a token only where the pusher is, a product of action and content that a shift
    /// followed by a GELU reaches only at the GELU's bend. Off by default (left out of the saved
    /// config, so older checkpoints read the same).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub film: bool,
}

fn one() -> usize {
    1
}

fn is_one(k: &usize) -> bool {
    *k == 1
}

impl ModelConfig {
    /// A named preset for images of `size` and actions of `action_dim`: `tiny` (tests) or `small`.
    pub fn preset(name: &str, size: usize, action_dim: usize) -> Result<Self> {
        let (dim, hidden, expander) = match name {
            "tiny" => (32, 64, 64),
            "small" => (64, 256, 256),
            _ => {
                return Err(AgentError::OutOfRange {
                    what: "preset",
                    value: name.to_owned(),
                    expected: "tiny or small".into(),
                });
            }
        };
        let config = Self {
            size,
            patch: 8,
            dim,
            hidden,
            context: 8,
            horizon: 4,
            action_dim,
            expander,
            frameskip: 1,
            film: false,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks that the sizes fit together.
    pub fn validate(&self) -> Result<()> {
        if self.patch == 0 || !self.size.is_multiple_of(self.patch) {
            return Err(AgentError::OutOfRange {
                what: "patch",
                value: self.patch.to_string(),
                expected: format!("a divisor of the image size {}", self.size),
            });
        }
        if self.context < 2 || self.horizon < 1 {
            return Err(AgentError::OutOfRange {
                what: "context/horizon",
                value: format!("{}/{}", self.context, self.horizon),
                expected: "context >= 2 and horizon >= 1".into(),
            });
        }
        if self.frameskip == 0 || !self.action_dim.is_multiple_of(self.frameskip) {
            return Err(AgentError::OutOfRange {
                what: "frameskip",
                value: self.frameskip.to_string(),
                expected: format!(
                    "at least 1 and a divisor of the action length {}",
                    self.action_dim
                ),
            });
        }
        Ok(())
    }

    /// Entries of one simulator action: the model's action length over its frameskip.
    pub fn step_action_dim(&self) -> usize {
        self.action_dim / self.frameskip.max(1)
    }

    /// Frames per training window: context + horizon.
    pub fn window(&self) -> usize {
        self.context + self.horizon
    }

    /// Patch tokens per frame.
    pub fn tokens(&self) -> usize {
        (self.size / self.patch).pow(2)
    }
}
