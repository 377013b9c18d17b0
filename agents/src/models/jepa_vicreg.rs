//! `jepa-vicreg`: a joint-embedding predictive architecture whose collapse is prevented by VICReg.
//!
//! Loss = 25 x MSE(predicted, encoded future latents) over a K-step autoregressive rollout from C
//! context frames (the rollout loss of V-JEPA 2-AC), + 25 x variance + 1 x covariance of the
//! encoder's outputs through an expander (the last context frame and the last target frame as
//! the two branches, tokens as samples), exactly as `crate::vicreg` computes them.

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder, linear};

use super::dense::perceptron;
use super::{FrozenPredictor, Losses, ModelConfig, PatchEncoder, Predictor, WorldModel};
use crate::data::Batch;
use crate::error::Result;
use crate::vicreg::{COV_COEFF, SIM_COEFF, STD_COEFF, variance_covariance};

/// The model's registry name.
pub const NAME: &str = "jepa-vicreg";

/// The model.
pub struct JepaVicreg {
    config: ModelConfig,
    encoder: PatchEncoder,
    predictor: Predictor,
    expand1: Linear,
    expand2: Linear,
}

impl JepaVicreg {
    /// Builds the model's variables under `vb`.
    pub fn new(config: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
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
            expand1: linear(config.dim, config.expander, vb.pp("expander.fc1"))?,
            expand2: linear(config.expander, config.expander, vb.pp("expander.fc2"))?,
            config: config.clone(),
        })
    }

    fn expand(&self, z: &Tensor) -> Result<Tensor> {
        perceptron(&self.expand1, &self.expand2, z, false)
    }
}

impl WorldModel for JepaVicreg {
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

    fn frozen_predictor(&self) -> Result<Option<FrozenPredictor>> {
        Ok(Some(self.predictor.freeze()?))
    }

    fn loss(&self, batch: &Batch) -> Result<Losses> {
        let (c, k) = (self.config.context, self.config.horizon);
        // Context and targets encoded apart (the encoder works frame by frame, so the values
        // are the same): slicing one encoding would cost a full-size padded gradient per slice.
        let context = self.encode(&batch.frames.narrow(1, 0, c)?)?;
        let target = self.encode(&batch.frames.narrow(1, c, k)?)?;
        let (b, _, n, d) = context.dims4()?;
        let actions = batch.actions.narrow(1, 0, c + k - 1)?;
        let pred = self.rollout(&context, &actions, k)?;
        let prediction = crate::ops::mse(&pred, &target)?;
        let branch = |z: &Tensor, t: usize| -> Result<Tensor> {
            self.expand(&z.narrow(1, t, 1)?.reshape((b * n, d))?)
        };
        let (var_x, cov_x) = variance_covariance(&branch(&context, c - 1)?)?;
        let (var_y, cov_y) = variance_covariance(&branch(&target, k - 1)?)?;
        let variance = ((var_x + var_y)? * 0.5)?;
        let covariance = (cov_x + cov_y)?;
        let total =
            ((&prediction * SIM_COEFF)? + (&variance * STD_COEFF)? + (&covariance * COV_COEFF)?)?;
        Ok(Losses {
            total,
            terms: vec![
                ("prediction", prediction),
                ("variance", variance),
                ("covariance", covariance),
            ],
        })
    }
}
