//! The predictor: from the last C latent grids and the actions, the next grid. Each token sees
//! its own history over the whole context (memory: an object hidden for several frames is still
//! in the context), tokens exchange information through a token-mixing layer (things move across
//! patches), and the output is a residual on the last latent. Optionally (FiLM) the actions
//! also scale each hidden channel, so an action can multiply what a token holds (a push moves
//! the cart only where the pusher touches it) rather than only shift it.

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder, linear};

use super::dense::{dense, perceptron};
use super::frozen::FrozenPredictor;
use crate::error::Result;
use crate::ops::{add_rows, context_linear, gelu, gelu_add_rows, token_mix, window_linear};

/// Latent dynamics.
pub struct Predictor {
    pub(super) context: usize,
    pub(super) action_dim: usize,
    pub(super) temporal: Linear,
    pub(super) action: Option<Linear>,
    /// FiLM's gains: the window's actions to `1 + film(a)` per hidden channel.
    pub(super) film: Option<Linear>,
    pub(super) mix: Linear,
    pub(super) hidden: Linear,
    pub(super) out: Linear,
}

impl Predictor {
    /// A predictor over `context` grids of `tokens` tokens of `dim`, with `action_dim` actions,
    /// their gains too when `film` (see [`super::ModelConfig::film`]).
    pub fn new(
        context: usize,
        tokens: usize,
        dim: usize,
        hidden: usize,
        action_dim: usize,
        film: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            film: if film && action_dim > 0 {
                Some(linear(context * action_dim, hidden, vb.pp("film"))?)
            } else {
                None
            },
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

    /// The weights as they are now, out of the autograd graph, for planning's many rollouts.
    pub fn freeze(&self) -> Result<FrozenPredictor> {
        FrozenPredictor::new(self)
    }

    /// One step: context `[B, C, N, D]`, actions `[B, C, A]` to the next grid `[B, N, D]`.
    pub fn step(&self, ctx: &Tensor, actions: &Tensor) -> Result<Tensor> {
        let c = ctx.dim(1)?;
        let h = context_linear(ctx, self.temporal.weight(), self.temporal_bias())?;
        self.finish(h, &ctx.narrow(1, c - 1, 1)?.squeeze(1)?, actions)
    }

    fn temporal_bias(&self) -> &Tensor {
        self.temporal.bias().expect("linear layers have a bias")
    }

    /// The rest of a step from the temporal layer's output `[B, N, H]` and the window's last
    /// grid `[B, N, D]`.
    fn finish(&self, h: Tensor, last: &Tensor, actions: &Tensor) -> Result<Tensor> {
        let (b, c) = (h.dim(0)?, self.context);
        let h = match &self.action {
            Some(action) => {
                let flat = actions.reshape((b, c * self.action_dim))?;
                let h = match &self.film {
                    // h * (1 + film(a)), the gains broadcast over the tokens.
                    Some(film) => {
                        let gain = (dense(film, &flat)? + 1.0)?;
                        h.broadcast_mul(&gain.unsqueeze(1)?)?
                    }
                    None => h,
                };
                let a = dense(action, &flat)?;
                gelu_add_rows(&h, &a)?
            }
            None => gelu(&h)?,
        };
        let h = token_mix(
            &h,
            self.mix.weight(),
            self.mix.bias().expect("linear layers have a bias"),
        )?;
        let delta = perceptron(&self.hidden, &self.out, &h, false)?;
        Ok((last + delta)?)
    }

    /// `steps` autoregressive steps from context `[B, C, N, D]` with actions `[B, C + K - 1, A]`.
    /// A context of batch 1 with actions of batch S > 1 (a planner's samples from one
    /// observation) is shared: its part of the temporal layer is computed once, not S times.
    pub fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        let (cb, ab) = (context.dim(0)?, actions.dim(0)?);
        if cb == 1 && ab > 1 {
            return self.rollout_shared(context, actions, steps);
        }
        let c = self.context;
        let mut preds: Vec<Tensor> = Vec::with_capacity(steps);
        for k in 0..steps {
            let acts = actions.narrow(1, k, c)?;
            // The window (the context's last C - k grids, then the k predictions) is never
            // built: the temporal layer reads it from both (a copy of the window per step,
            // and its gradient, cost more than the rest of the step's bookkeeping).
            let next = match k {
                0 => self.step(context, &acts)?,
                _ => {
                    let m = k.min(c);
                    let recent = Tensor::stack(&preds[k - m..], 1)?;
                    let (w, bias) = (self.temporal.weight(), self.temporal_bias());
                    let h = if m == c {
                        context_linear(&recent, w, bias)?
                    } else {
                        window_linear(context, &recent, w, bias)?
                    };
                    self.finish(h, &preds[k - 1], &acts)?
                }
            };
            preds.push(next);
        }
        Ok(Tensor::stack(&preds, 1)?)
    }

    /// [`Predictor::rollout`] of S action sequences from one context `[1, C, N, D]`: at step k
    /// the temporal layer is the context's last C - k grids through their columns of W (once)
    /// plus the samples' k predictions through theirs.
    fn rollout_shared(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        let (c, s) = (self.context, actions.dim(0)?);
        let (_, _, n, d) = context.dims4()?;
        let w = self.temporal.weight();
        let hidden = w.dim(0)?;
        let zeros = Tensor::zeros(hidden, w.dtype(), w.device())?;
        let last_context = context
            .narrow(1, c - 1, 1)?
            .squeeze(1)?
            .broadcast_as((s, n, d))?
            .contiguous()?;
        let mut preds: Vec<Tensor> = Vec::with_capacity(steps);
        for k in 0..steps {
            let acts = actions.narrow(1, k, c)?;
            let m = k.min(c);
            let shared = match c - m {
                0 => None,
                kept => Some(context_linear(
                    &context.narrow(1, m, kept)?,
                    &w.narrow(1, 0, kept * d)?,
                    self.temporal_bias(),
                )?),
            };
            let own = match m {
                0 => None,
                _ => Some(context_linear(
                    &Tensor::stack(&preds[k - m..], 1)?,
                    &w.narrow(1, (c - m) * d, m * d)?,
                    if shared.is_some() {
                        &zeros
                    } else {
                        self.temporal_bias()
                    },
                )?),
            };
            let h = match (shared, own) {
                (Some(shared), None) => shared.broadcast_as((s, n, hidden))?.contiguous()?,
                (None, Some(own)) => own,
                (Some(shared), Some(own)) => add_rows(
                    &own.reshape((1, s, n * hidden))?,
                    &shared.reshape((1, n * hidden))?,
                )?
                .reshape((s, n, hidden))?,
                (None, None) => unreachable!("a window has at least one grid"),
            };
            let last = if k == 0 { &last_context } else { &preds[k - 1] };
            let next = self.finish(h, last, &acts)?;
            preds.push(next);
        }
        Ok(Tensor::stack(&preds, 1)?)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    use super::*;

    #[test]
    fn rollout_equals_stepping_through_explicit_windows() {
        for film in [false, true] {
            rollout_equals_stepping(film);
        }
    }

    fn rollout_equals_stepping(film: bool) {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let (c, n, d) = (3, 4, 5);
        let predictor = Predictor::new(c, n, d, 16, 2, film, vb).unwrap();
        let context = Tensor::randn(0f32, 1.0, (2, c, n, d), &Device::Cpu).unwrap();
        let steps = 5;
        let actions = Tensor::randn(0f32, 1.0, (2, c + steps - 1, 2), &Device::Cpu).unwrap();
        let fast = predictor.rollout(&context, &actions, steps).unwrap();
        let mut window = context.clone();
        for k in 0..steps {
            let next = predictor
                .step(&window, &actions.narrow(1, k, c).unwrap())
                .unwrap();
            let ours = fast.narrow(1, k, 1).unwrap().squeeze(1).unwrap();
            let bits = |t: &Tensor| -> Vec<u32> {
                let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                v.iter().map(|v| v.to_bits()).collect()
            };
            assert_eq!(bits(&ours), bits(&next), "step {k}");
            window = Tensor::cat(
                &[
                    window.narrow(1, 1, c - 1).unwrap(),
                    next.unsqueeze(1).unwrap(),
                ],
                1,
            )
            .unwrap();
        }
    }

    /// FiLM's gains multiply the context's part of the hidden layer: all 0, the prediction's
    /// change no longer depends on anything but the actions, so two windows with the same
    /// last grid predict the same bits; at their initial 1 the windows' earlier grids count.
    #[test]
    fn film_gains_scale_what_the_context_contributes() {
        let varmap = VarMap::new();
        let dev = Device::Cpu;
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        let (c, n, d) = (3, 4, 5);
        let predictor = Predictor::new(c, n, d, 16, 2, true, vb).unwrap();
        crate::models::init::init(&varmap, 3).unwrap();
        let a = Tensor::randn(0f32, 0.3, (2, c, n, d), &dev).unwrap();
        let b = Tensor::randn(0f32, 0.3, (2, c, n, d), &dev).unwrap();
        // Window b: a's last grid after other earlier grids.
        let b = Tensor::cat(
            &[
                b.narrow(1, 0, c - 1).unwrap(),
                a.narrow(1, c - 1, 1).unwrap(),
            ],
            1,
        )
        .unwrap();
        let actions = Tensor::randn(0f32, 1.0, (2, c, 2), &dev).unwrap();
        let bits = |t: &Tensor| -> Vec<u32> {
            let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            v.iter().map(|v| v.to_bits()).collect()
        };
        let step = |x: &Tensor| bits(&predictor.step(x, &actions).unwrap());
        assert_ne!(step(&a), step(&b), "gains of 1 keep the context");
        varmap.data().lock().unwrap()["film.bias"]
            .set(&Tensor::full(-1f32, 16, &dev).unwrap())
            .unwrap();
        assert_eq!(step(&a), step(&b), "gains of 0 drop the context");
    }

    #[test]
    fn a_shared_context_gives_the_broadcast_rollout() {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let (c, n, d) = (3, 4, 5);
        let predictor = Predictor::new(c, n, d, 16, 2, false, vb).unwrap();
        let context = Tensor::randn(0f32, 1.0, (1, c, n, d), &Device::Cpu).unwrap();
        let steps = 5;
        let actions = Tensor::randn(0f32, 1.0, (6, c + steps - 1, 2), &Device::Cpu).unwrap();
        let shared = predictor.rollout(&context, &actions, steps).unwrap();
        let full = context
            .broadcast_as((6, c, n, d))
            .unwrap()
            .contiguous()
            .unwrap();
        let broadcast = predictor.rollout(&full, &actions, steps).unwrap();
        let max_abs = |t: &Tensor| {
            t.abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        // The same sums split in two: equal up to rounding, relative to the values' size.
        let diff = max_abs(&(&shared - &broadcast).unwrap()) / max_abs(&broadcast);
        assert!(diff < 1e-5, "differs by {diff} of the largest value");
    }
}
