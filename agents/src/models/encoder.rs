//! The encoder: non-overlapping patches embedded by one matmul (stride = kernel, the shape candle
//! runs fastest on a CPU), a residual MLP per token and a LayerNorm; the output keeps the spatial
//! grid of patch tokens (DINO-WM found patch features plan far better than one global vector).

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder, linear};

use super::dense::perceptron;
use crate::error::Result;
use crate::ops::{self, layer_norm};

/// Frames to a grid of latent tokens.
pub struct PatchEncoder {
    patch: usize,
    embed: Linear,
    pos: Tensor,
    fc1: Linear,
    fc2: Linear,
    norm_weight: Tensor,
    norm_bias: Tensor,
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
            norm_weight: vb.get(dim, "norm.weight")?,
            norm_bias: vb.get(dim, "norm.bias")?,
        })
    }

    /// Videos `[B, L, 3, S, S]` to tokens `[B, L, N, D]`.
    pub fn encode_video(&self, frames: &Tensor) -> Result<Tensor> {
        let (b, l, c, h, w) = frames.dims5()?;
        let patches = patchify(&frames.reshape((b * l, c, h, w))?, self.patch)?;
        let (_, n, p) = patches.dims3()?;
        // The pixels carry no gradient: shaping them is free, and the layers below keep the
        // video's shape, so no reshape of the activations enters the graph.
        self.tokens(&patches.reshape((b, l, n, p))?)
    }

    /// Images `[M, 3, S, S]` to tokens `[M, N, D]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.tokens(&patchify(x, self.patch)?)
    }

    /// Patches `[..., N, 3 p^2]` to tokens `[..., N, D]`.
    fn tokens(&self, patches: &Tensor) -> Result<Tensor> {
        // The position embedding rides on the embedding's bias, one row per token.
        let bias = self
            .pos
            .broadcast_add(self.embed.bias().expect("linear layers have a bias"))?;
        let h = ops::linear(&patches.contiguous()?, self.embed.weight(), &bias)?;
        let h = perceptron(&self.fc1, &self.fc2, &h, true)?;
        layer_norm(&h, &self.norm_weight, &self.norm_bias)
    }
}

/// Applies a per-image map `[M, 3, S, S] -> [M, N, D]` to every frame of videos
/// `[B, L, 3, S, S]`, giving `[B, L, N, D]`.
pub fn per_frame(frames: &Tensor, f: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let (b, l, c, h, w) = frames.dims5()?;
    let z = f(&frames.reshape((b * l, c, h, w))?)?;
    let (_, n, d) = z.dims3()?;
    Ok(z.reshape((b, l, n, d))?)
}

/// Images `[M, 3, S, S]` to their non-overlapping `p` x `p` patches `[M, (S/p)^2, 3 p^2]`.
pub fn patchify(x: &Tensor, p: usize) -> Result<Tensor> {
    let (m, c, s, _) = x.dims4()?;
    let g = s / p;
    Ok(x.reshape((m, c, g, p, g, p))?
        .permute((0, 2, 4, 1, 3, 5))?
        .contiguous()?
        .reshape((m, g * g, c * p * p))?)
}
