//! World models, one file each, candle style: a serde `Config` with named presets and
//! `new(&Config, VarBuilder)`; the same code trains (VarMap) and evaluates (loaded weights).

mod encoder;
pub mod init;
pub mod jepa_vicreg;
mod predictor;

pub use encoder::PatchEncoder;
pub use predictor::Predictor;

use candle_core::Tensor;

use crate::data::Batch;
use crate::error::Result;

/// The loss of one batch: the total that is minimised and its named terms for the log.
pub struct Losses {
    /// What the optimiser minimises.
    pub total: Tensor,
    /// Each term, by name, as scalar tensors (for the training log).
    pub terms: Vec<(&'static str, Tensor)>,
}

/// A world model: encodes frames to a grid of latents and predicts future latents from a context
/// and the actions taken.
pub trait WorldModel {
    /// The model's registry name.
    fn name(&self) -> &'static str;
    /// Frames `[B, L, 3, H, W]` in `[0, 1]` to latents `[B, L, N, D]` (N patch tokens of D).
    fn encode(&self, frames: &Tensor) -> Result<Tensor>;
    /// From context latents `[B, C, N, D]` and actions `[B, C + K - 1, A]`, the next `K` latents
    /// `[B, K, N, D]`, each fed back as context for the next (differentiable end to end).
    fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor>;
    /// The training loss of a batch of windows of `context + horizon` frames.
    fn loss(&self, batch: &Batch) -> Result<Losses>;
}
