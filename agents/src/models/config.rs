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
        Ok(())
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
