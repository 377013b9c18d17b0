//! `pixel-ae`: the generative baseline of the World Models / Dreamer family. The same encoder and
//! latent predictor as the JEPAs, plus a decoder back to pixels; trained by the pixel MSE of the
//! decoded K-step rollout and of the reconstructed context frames. Surprise is pixel error.

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder, linear};

use super::dense::perceptron;
use super::encoder::per_frame;
use super::{Losses, ModelConfig, PatchEncoder, Predictor, WorldModel, patchify};
use crate::data::Batch;
use crate::error::Result;
use crate::ops::mse;

/// The model's registry name.
pub const NAME: &str = "pixel-ae";

/// The model.
pub struct PixelAe {
    config: ModelConfig,
    encoder: PatchEncoder,
    predictor: Predictor,
    dec1: Linear,
    dec2: Linear,
}

impl PixelAe {
    /// Builds the model's variables under `vb`.
    pub fn new(config: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
        let patch_dim = 3 * config.patch * config.patch;
        Ok(Self {
            encoder: PatchEncoder::new(
                config.size,
                config.patch,
                config.dim,
                config.hidden,
                vb.pp("encoder"),
            )?,
            predictor: Predictor::new(
                config.context,
                config.tokens(),
                config.dim,
                config.hidden,
                config.action_dim,
                config.film,
                vb.pp("predictor"),
            )?,
            dec1: linear(config.dim, config.hidden, vb.pp("decoder.fc1"))?,
            dec2: linear(config.hidden, patch_dim, vb.pp("decoder.fc2"))?,
            config: config.clone(),
        })
    }

    /// Latents `[B, L, N, D]` to pixel patches `[B, L, N, 3 p^2]`.
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        perceptron(&self.dec1, &self.dec2, z, false)
    }

    fn pixels(&self, frames: &Tensor) -> Result<Tensor> {
        per_frame(frames, |x| patchify(x, self.config.patch))
    }
}

impl WorldModel for PixelAe {
    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &ModelConfig {
        &self.config
    }

    fn encode(&self, frames: &Tensor) -> Result<Tensor> {
        self.encoder.encode_video(frames)
    }

    fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        self.predictor.rollout(context, actions, steps)
    }

    fn targets(&self, frames: &Tensor) -> Result<Tensor> {
        self.pixels(frames)
    }

    fn predict_targets(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        self.decode(&self.rollout(context, actions, steps)?)
    }

    fn copy_last(&self, context: &Tensor, _targets: &Tensor, steps: usize) -> Result<Tensor> {
        let (b, c, n, d) = context.dims4()?;
        let last = context
            .narrow(1, c - 1, 1)?
            .broadcast_as((b, steps, n, d))?;
        self.decode(&last)
    }

    fn loss(&self, batch: &Batch) -> Result<Losses> {
        let (c, k) = (self.config.context, self.config.horizon);
        // Only the context is encoded: the targets are pixels.
        let context = self.encode(&batch.frames.narrow(1, 0, c)?)?;
        let pixels = self.pixels(&batch.frames)?;
        let future = self.predict_targets(&context, &batch.actions.narrow(1, 0, c + k - 1)?, k)?;
        let prediction = mse(&future, &pixels.narrow(1, c, k)?)?;
        let reconstruction = mse(&self.decode(&context)?, &pixels.narrow(1, 0, c)?)?;
        Ok(Losses {
            total: (&prediction + &reconstruction)?,
            terms: vec![
                ("prediction", prediction),
                ("reconstruction", reconstruction),
            ],
        })
    }
}
