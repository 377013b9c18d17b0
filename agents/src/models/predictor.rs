//! The predictor: from the last C latent grids and the actions, the next grid. Each token sees
//! its own history over the whole context (memory: an object hidden for several frames is still
//! in the context), tokens exchange information through a token-mixing layer (things move across
//! patches), and the output is a residual on the last latent.

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder, linear};

use super::dense::{dense, perceptron};
use crate::error::Result;
use crate::ops::{add_rows, gelu, token_mix};

/// Latent dynamics.
pub struct Predictor {
    context: usize,
    action_dim: usize,
    temporal: Linear,
    action: Option<Linear>,
    mix: Linear,
    hidden: Linear,
    out: Linear,
}

impl Predictor {
    /// A predictor over `context` grids of `tokens` tokens of `dim`, with `action_dim` actions.
    pub fn new(
        context: usize,
        tokens: usize,
        dim: usize,
        hidden: usize,
        action_dim: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            context,
            action_dim,
            temporal: linear(context * dim, hidden, vb.pp("temporal"))?,
            action: if action_dim > 0 {
                Some(linear(context * action_dim, hidden, vb.pp("action"))?)
            } else {
                None
            },
            mix: linear(tokens, tokens, vb.pp("mix"))?,
            hidden: linear(hidden, hidden, vb.pp("hidden"))?,
            out: linear(hidden, dim, vb.pp("out"))?,
        })
    }

    /// Context length C.
    pub fn context(&self) -> usize {
        self.context
    }

    /// One step: context `[B, C, N, D]`, actions `[B, C, A]` to the next grid `[B, N, D]`.
    pub fn step(&self, ctx: &Tensor, actions: &Tensor) -> Result<Tensor> {
        let (b, c, n, d) = ctx.dims4()?;
        let x = ctx
            .permute((0, 2, 1, 3))?
            .contiguous()?
            .reshape((b, n, c * d))?;
        let mut h = dense(&self.temporal, &x)?;
        if let Some(action) = &self.action {
            let a = dense(action, &actions.reshape((b, c * self.action_dim))?)?;
            h = add_rows(&h, &a)?;
        }
        let h = gelu(&h)?;
        let h = token_mix(
            &h,
            self.mix.weight(),
            self.mix.bias().expect("linear layers have a bias"),
        )?;
        let delta = perceptron(&self.hidden, &self.out, &h, false)?;
        let last = ctx.narrow(1, c - 1, 1)?.squeeze(1)?;
        Ok((last + delta)?)
    }

    /// `steps` autoregressive steps from context `[B, C, N, D]` with actions `[B, C + K - 1, A]`.
    pub fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        let c = self.context;
        let mut window = context.clone();
        let mut preds = Vec::with_capacity(steps);
        for k in 0..steps {
            let acts = actions.narrow(1, k, c)?;
            let next = self.step(&window, &acts)?;
            window = Tensor::cat(&[window.narrow(1, 1, c - 1)?, next.unsqueeze(1)?], 1)?;
            preds.push(next);
        }
        Ok(Tensor::stack(&preds, 1)?)
    }
}
