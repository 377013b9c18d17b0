//! Surprise, as in Garrido et al. 2025 (jepa-intuitive-physics): slide a window of C context
//! frames and K predicted ones along the video; a window's surprise is the mean L1 distance
//! between the predicted and the actual targets (latents for JEPAs, pixels for pixel models).

use candle_core::{D, Tensor};

use super::WorldModel;
use crate::error::{AgentError, Result};

/// The surprise of every window of a video: frames `[1, T, 3, H, W]`, actions `[1, T, A]`.
/// Entry `s` scores the window whose first predicted frame is `s + C`.
pub fn surprise(model: &dyn WorldModel, frames: &Tensor, actions: &Tensor) -> Result<Vec<f32>> {
    surprise_strided(model, frames, actions, 1)
}

/// The surprise of the windows starting every `stride` frames: entry `i` scores the window
/// whose first predicted frame is `i * stride + C`. All windows of a video go through the model
/// as one batch, in order, so a window's number depends only on its frames and its place.
pub fn surprise_strided(
    model: &dyn WorldModel,
    frames: &Tensor,
    actions: &Tensor,
    stride: usize,
) -> Result<Vec<f32>> {
    if stride == 0 {
        return Err(AgentError::OutOfRange {
            what: "stride",
            value: "0".into(),
            expected: "at least 1".into(),
        });
    }
    let (c, k) = (model.config().context, model.config().horizon);
    let t = frames.dim(1)?;
    if t < c + k {
        return Err(AgentError::OutOfRange {
            what: "video length",
            value: t.to_string(),
            expected: format!("at least context + horizon = {}", c + k),
        });
    }
    let starts: Vec<usize> = (0..=t - c - k).step_by(stride).collect();
    let z = model.encode(frames)?;
    let targets = model.targets(frames)?;
    let stack = |x: &Tensor, start: usize, len: usize| -> Result<Tensor> {
        let parts = starts
            .iter()
            .map(|&s| x.narrow(1, s + start, len))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Tensor::cat(&parts, 0)?)
    };
    let context = stack(&z, 0, c)?;
    let acts = stack(actions, 0, c + k - 1)?;
    let actual = stack(&targets, c, k)?;
    let predicted = model.predict_targets(&context, &acts, k)?;
    let l1 = (predicted - actual)?
        .abs()?
        .flatten_from(1)?
        .mean(D::Minus1)?;
    Ok(l1.to_vec1()?)
}
