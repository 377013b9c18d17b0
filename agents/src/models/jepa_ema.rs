//! `jepa-ema`: the target encoder is an exponential moving average of the online encoder
//! (momentum 0.996 rising to 1.0, applied by the trainer), targets are layer-normed and carry no
//! gradient, and the loss is the L1 distance between predicted and target latents over a K-step
//! rollout (I-JEPA / V-JEPA).

use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::{FrozenPredictor, Losses, ModelConfig, PatchEncoder, Predictor, WorldModel};
use crate::data::Batch;
use crate::error::Result;
use crate::ops::normalise;

/// The model's registry name.
pub const NAME: &str = "jepa-ema";

/// The model.
pub struct JepaEma {
    config: ModelConfig,
    online: PatchEncoder,
    target: PatchEncoder,
    predictor: Predictor,
}

impl JepaEma {
    /// Builds the model's variables under `vb` (`encoder.*` online, `target.*` EMA).
    pub fn new(config: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
        let enc = |name: &str| {
            PatchEncoder::new(
                config.size,
                config.patch,
                config.dim,
                config.hidden,
                vb.pp(name),
            )
        };
        Ok(Self {
            online: enc("encoder")?,
            target: enc("target")?,
            predictor: Predictor::new(
                config.context,
                config.tokens(),
                config.dim,
                config.hidden,
                config.action_dim,
                config.film,
                vb.pp("predictor"),
            )?,
            config: config.clone(),
        })
    }
}

impl WorldModel for JepaEma {
    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &ModelConfig {
        &self.config
    }

    fn encode(&self, frames: &Tensor) -> Result<Tensor> {
        self.online.encode_video(frames)
    }

    fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        self.predictor.rollout(context, actions, steps)
    }

    fn frozen_predictor(&self) -> Result<Option<FrozenPredictor>> {
        Ok(Some(self.predictor.freeze()?))
    }

    fn targets(&self, frames: &Tensor) -> Result<Tensor> {
        Ok(normalise(&self.target.encode_video(frames)?)?.detach())
    }

    fn loss(&self, batch: &Batch) -> Result<Losses> {
        let (c, k) = (self.config.context, self.config.horizon);
        let context = self.encode(&batch.frames.narrow(1, 0, c)?)?;
        let target = self.targets(&batch.frames.narrow(1, c, k)?)?;
        let pred = self.rollout(&context, &batch.actions.narrow(1, 0, c + k - 1)?, k)?;
        let l1 = crate::ops::l1(&pred, &target)?;
        Ok(Losses {
            total: l1.clone(),
            terms: vec![("prediction", l1)],
        })
    }

    fn ema_prefixes(&self) -> Option<(&'static str, &'static str)> {
        Some(("target.", "encoder."))
    }
}
