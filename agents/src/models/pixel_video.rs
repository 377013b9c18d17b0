//! `pixel-video`: a generative baseline that predicts future frames directly in pixel space. Its
//! "latents" are the raw 8x8 patches; the predictor (the same architecture as the JEPAs') works
//! on them, and the loss is the pixel MSE of a K-step rollout.

use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::encoder::per_frame;
use super::{FrozenPredictor, Losses, ModelConfig, Predictor, WorldModel, patchify};
use crate::data::Batch;
use crate::error::Result;

/// The model's registry name.
pub const NAME: &str = "pixel-video";

/// The model.
pub struct PixelVideo {
    config: ModelConfig,
    predictor: Predictor,
}

impl PixelVideo {
    /// Builds the model's variables under `vb`.
    pub fn new(config: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
        let patch_dim = 3 * config.patch * config.patch;
        Ok(Self {
            predictor: Predictor::new(
                config.context,
                config.tokens(),
                patch_dim,
                config.hidden,
                config.action_dim,
                config.film,
                vb.pp("predictor"),
            )?,
            config: config.clone(),
        })
    }
}

impl WorldModel for PixelVideo {
    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &ModelConfig {
        &self.config
    }

    fn encode(&self, frames: &Tensor) -> Result<Tensor> {
        per_frame(frames, |x| patchify(x, self.config.patch))
    }

    fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        self.predictor.rollout(context, actions, steps)
    }

    fn frozen_predictor(&self) -> Result<Option<FrozenPredictor>> {
        Ok(Some(self.predictor.freeze()?))
    }

    fn loss(&self, batch: &Batch) -> Result<Losses> {
        let (c, k) = (self.config.context, self.config.horizon);
        let x = self.encode(&batch.frames)?;
        let pred = self.rollout(
            &x.narrow(1, 0, c)?,
            &batch.actions.narrow(1, 0, c + k - 1)?,
            k,
        )?;
        let mse = crate::ops::mse(&pred, &x.narrow(1, c, k)?)?;
        Ok(Losses {
            total: mse.clone(),
            terms: vec![("prediction", mse)],
        })
    }
}
