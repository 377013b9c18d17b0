//! `slot-untrained`: `slot-jepa` at its random initialisation, the control of the privileged
//! model. It is given the same instance masks and carries the same memory (the latent each slot
//! last showed), so whatever the architecture alone decides (a reappearing object compared with
//! the one that went behind the screen) shows here, and only what `slot-jepa` scores beyond it
//! was learnt.

use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::slot_jepa::SlotJepa;
use super::{Losses, ModelConfig, WorldModel};
use crate::data::Batch;
use crate::error::Result;

/// The model's registry name.
pub const NAME: &str = "slot-untrained";

/// The model: a `slot-jepa` that is never trained.
pub struct SlotUntrained(SlotJepa);

impl SlotUntrained {
    /// Builds the model's variables under `vb`.
    pub fn new(config: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        Ok(Self(SlotJepa::new(config, vb)?))
    }
}

impl WorldModel for SlotUntrained {
    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &ModelConfig {
        self.0.config()
    }

    fn encode(&self, frames: &Tensor) -> Result<Tensor> {
        self.0.encode(frames)
    }

    fn encode_batch(&self, batch: &Batch) -> Result<Tensor> {
        self.0.encode_batch(batch)
    }

    fn targets_batch(&self, batch: &Batch) -> Result<Tensor> {
        self.0.targets_batch(batch)
    }

    fn train_window(&self) -> usize {
        self.0.train_window()
    }

    fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        self.0.rollout(context, actions, steps)
    }

    fn loss(&self, batch: &Batch) -> Result<Losses> {
        self.0.loss(batch)
    }

    fn movie_surprise(&self, batch: &Batch) -> Result<Option<Vec<f32>>> {
        self.0.movie_surprise(batch)
    }

    fn has_memory(&self) -> bool {
        self.0.has_memory()
    }

    fn movie_states(&self, batch: &Batch) -> Result<Option<Tensor>> {
        self.0.movie_states(batch)
    }
}
