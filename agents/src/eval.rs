//! Held-out checks of a trained model: multi-step prediction error against the copy-last-frame
//! predictor (z_{t+k} = z_t) in the model's own target space (latents, or pixels for the pixel
//! models), and the per-dimension spread of its embeddings (a collapsed encoder has none).

use candle_core::{D, Device, Tensor};

use crate::data::Clips;
use crate::error::Result;
use crate::models::WorldModel;

/// What [`evaluate`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean squared error of the model's K-step rollout against the future targets.
    pub model_error: f32,
    /// The same for copying the last context latent K times ([`WorldModel::copy_last`]).
    pub copy_error: f32,
    /// Smallest per-dimension standard deviation of the embeddings over all tokens and frames.
    pub min_std: f32,
    /// Mean per-dimension standard deviation.
    pub mean_std: f32,
}

/// Evaluates `model` on every non-overlapping window of `context + horizon` frames of `clips`.
pub fn evaluate(
    model: &dyn WorldModel,
    clips: &Clips,
    context: usize,
    horizon: usize,
    device: &Device,
) -> Result<Evaluation> {
    let window = context + horizon;
    let picks: Vec<(usize, usize)> = (0..clips.episodes)
        .flat_map(|ep| {
            (0..=clips.length - window)
                .step_by(window)
                .map(move |s| (ep, s))
        })
        .collect();
    let (mut model_sum, mut copy_sum, mut n) = (0.0f64, 0.0f64, 0usize);
    let mut all = Vec::new();
    for chunk in picks.chunks(16) {
        let batch = clips.windows(chunk, window, device)?;
        let z = model.encode_batch(&batch)?;
        let targets = model.targets_batch(&batch)?;
        let ctx = z.narrow(1, 0, context)?;
        let target = targets.narrow(1, context, horizon)?;
        let actions = batch.actions.narrow(1, 0, window - 1)?;
        let pred = model.predict_targets(&ctx, &actions, horizon)?;
        let last = model.copy_last(&ctx, &targets.narrow(1, 0, context)?, horizon)?;
        model_sum += (pred - &target)?.sqr()?.mean_all()?.to_scalar::<f32>()? as f64;
        copy_sum += (last - &target)?.sqr()?.mean_all()?.to_scalar::<f32>()? as f64;
        n += 1;
        let d = z.dim(D::Minus1)?;
        all.push(z.reshape(((), d))?);
    }
    let z = Tensor::cat(&all, 0)?;
    let std = z
        .broadcast_sub(&z.mean_keepdim(0)?)?
        .sqr()?
        .mean(0)?
        .sqrt()?;
    Ok(Evaluation {
        model_error: (model_sum / n as f64) as f32,
        copy_error: (copy_sum / n as f64) as f32,
        min_std: std.min(0)?.to_scalar()?,
        mean_std: std.mean_all()?.to_scalar()?,
    })
}
