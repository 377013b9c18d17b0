//! The encoder: non-overlapping patches embedded by one matmul (stride = kernel, the shape candle
//! runs fastest on a CPU), a residual MLP per token and a LayerNorm; the output keeps the spatial
//! grid of patch tokens (DINO-WM found patch features plan far better than one global vector).

use candle_core::{Module, Tensor};
use candle_nn::{LayerNorm, Linear, VarBuilder, layer_norm, linear};

use crate::error::Result;

/// Frames to a grid of latent tokens.
pub struct PatchEncoder {
    patch: usize,
    embed: Linear,
    pos: Tensor,
    fc1: Linear,
    fc2: Linear,
    norm: LayerNorm,
}

impl PatchEncoder {
    /// An encoder of `size` x `size` RGB images into `(size / patch)^2` tokens of `dim`.
    pub fn new(
        size: usize,
        patch: usize,
        dim: usize,
        hidden: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let tokens = (size / patch) * (size / patch);
        Ok(Self {
            patch,
            embed: linear(3 * patch * patch, dim, vb.pp("embed"))?,
            pos: vb.get((tokens, dim), "pos")?,
            fc1: linear(dim, hidden, vb.pp("fc1"))?,
            fc2: linear(hidden, dim, vb.pp("fc2"))?,
            norm: layer_norm(dim, 1e-5, vb.pp("norm"))?,
        })
    }

    /// Images `[M, 3, S, S]` to tokens `[M, N, D]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (m, c, s, _) = x.dims4()?;
        let (p, g) = (self.patch, s / self.patch);
        let patches = x
            .reshape((m, c, g, p, g, p))?
            .permute((0, 2, 4, 1, 3, 5))?
            .contiguous()?
            .reshape((m, g * g, c * p * p))?;
        let h = self.embed.forward(&patches)?.broadcast_add(&self.pos)?;
        let h = (&h + self.fc2.forward(&self.fc1.forward(&h)?.gelu()?)?)?;
        Ok(self.norm.forward(&h)?)
    }
}
