//! `untrained`: the JEPA architecture at its random initialisation. The control every VoE table
//! needs: it must score near chance on spliced quadruplets, or the suite leaks.

use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::jepa_vicreg::JepaVicreg;
use super::{FrozenPredictor, Losses, ModelConfig, WorldModel};
use crate::data::Batch;
use crate::error::Result;

/// The model's registry name.
pub const NAME: &str = "untrained";

/// The model: a `jepa-vicreg` that is never trained.
pub struct Untrained(JepaVicreg);

impl Untrained {
    /// Builds the model's variables under `vb`.
    pub fn new(config: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        Ok(Self(JepaVicreg::new(config, vb)?))
    }
}

impl WorldModel for Untrained {
    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &ModelConfig {
        self.0.config()
    }

    fn encode(&self, frames: &Tensor) -> Result<Tensor> {
        self.0.encode(frames)
    }

    fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        self.0.rollout(context, actions, steps)
    }

    fn frozen_predictor(&self) -> Result<Option<FrozenPredictor>> {
        self.0.frozen_predictor()
    }

    fn loss(&self, batch: &Batch) -> Result<Losses> {
        self.0.loss(batch)
    }
}
