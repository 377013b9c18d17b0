//! `slot-jepa`: an object-centric JEPA with memory, in PLATO's setting (Piloto et al. 2022): the
//! instance masks are given, and they are the model's only privileged input.
//!
//! - **Slots.** The patch encoder's features are pooled over each body slot's pixels (the
//!   frame's instance mask says which), joined with where the slot is and how large
//!   ([`super::slots`]), and mapped to one layer-normed latent per slot; the slot's vector is
//!   that latent followed by the geometry itself (scaled by [`GEOMETRY_SCALE`]), so that where
//!   an object shows is predicted, and surprises, as directly as what it looks like. A slot
//!   that does not show in a frame has the zero vector and a visibility of 0.
//! - **Memory.** Each slot carries two things from frame to frame: the latent it last showed
//!   (kept unchanged while it is hidden: what the object looked like) and a recurrent state (a
//!   GRU cell) updated every frame from that latent, its visibility, the action and what the
//!   other slots' states say (attention across slots, the interaction). A hidden slot gets no
//!   new latent, so what the model knows of it is what its memory carried from before: that is
//!   what lets an object persist behind a screen, for as long as the movie lasts.
//! - **Objective.** After frame t, each slot predicts its vector at t + 1 as the vector it last
//!   showed plus a change read from its state (so that standing still costs nothing to learn),
//!   and whether it will show; the loss is the squared error on the slots that show (the
//!   latent's and the geometry's, each a mean, equally weighted), the visibility's
//!   cross-entropy, and VICReg's variance and covariance on the slot latents (`jepa-vicreg`'s
//!   weights), no pixel reconstruction.
//! - **Surprise.** Over a whole movie from its first frame ([`WorldModel::movie_surprise`]):
//!   per frame, the L1 error of each showing slot's predicted latent and of its geometry (each
//!   a mean over its entries) plus each slot's visibility cross-entropy (an object that
//!   vanishes, or shows where none was expected), summed over the slots.
//!
//! Revision 1 added the geometry to the slot vector: revision 0 predicted the latent alone,
//! and an object that came out of the wrong screen surprised it less than one that came out of
//! the right one (`docs/experiments/slot-jepa.md`).

use candle_core::{D, DType, Tensor};
use candle_nn::{Linear, VarBuilder, linear};

use super::dense::{dense, perceptron};
use super::slots::{GEOMETRY, MAX_SLOTS, SlotInputs, slot_inputs};
use super::{Losses, ModelConfig, PatchEncoder, WorldModel};
use crate::data::Batch;
use crate::error::{AgentError, Result};
use crate::ops::layer_norm;
use crate::vicreg::{COV_COEFF, SIM_COEFF, STD_COEFF, variance_covariance};

/// The model's registry name.
pub const NAME: &str = "slot-jepa";

/// Frames per training window: long enough for an object to pass behind a screen and come out
/// within one window, so that carrying it in memory is what training rewards.
pub const TRAIN_WINDOW: usize = 32;

/// Weight of the visibility cross-entropy in the loss.
const VISIBILITY_COEFF: f64 = 1.0;

/// The model's revision (see [`super::ModelSpec::revision`]).
pub const REVISION: u32 = 1;

/// The geometry's factor in the slot vector: a move across a tenth of the image (0.2 in image
/// units) counts as 2, about two standard deviations of a layer-normed latent entry, so that
/// where an object shows weighs in the prediction as much as what it looks like.
pub const GEOMETRY_SCALE: f64 = 10.0;

/// The model.
pub struct SlotJepa {
    config: ModelConfig,
    encoder: PatchEncoder,
    slot_in: Linear,
    norm_weight: Tensor,
    norm_bias: Tensor,
    query: Linear,
    key: Linear,
    value: Linear,
    gru_x: Linear,
    gru_h: Linear,
    out1: Linear,
    out2: Linear,
    visibility: Linear,
    expand1: Linear,
    expand2: Linear,
}

/// Width of a slot's recurrent state (and of the interaction and the prediction head): half the
/// preset's hidden width, which keeps the model at about `jepa-vicreg`'s parameter count and its
/// 31 sequential steps per training window within twice a windowed model's time per step.
fn memory_width(config: &ModelConfig) -> usize {
    (config.hidden / 2).max(1)
}

/// What each slot carries from frame to frame.
struct Memory {
    /// The recurrent state, `[B, K, H]`.
    state: Tensor,
    /// The vector (latent and geometry) each slot last showed (zero before it first shows),
    /// `[B, K, D + G]`.
    last: Tensor,
}

impl SlotJepa {
    /// Builds the model's variables under `vb`.
    pub fn new(config: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
        let (d, h, a) = (config.dim, memory_width(config), config.action_dim);
        Ok(Self {
            encoder: PatchEncoder::new(
                config.size,
                config.patch,
                d,
                config.hidden,
                vb.pp("encoder"),
            )?,
            slot_in: linear(d + GEOMETRY, d, vb.pp("slot_in"))?,
            norm_weight: vb.get(d, "slot_norm.weight")?,
            norm_bias: vb.get(d, "slot_norm.bias")?,
            query: linear(h, h, vb.pp("interaction.query"))?,
            key: linear(h, h, vb.pp("interaction.key"))?,
            value: linear(h, h, vb.pp("interaction.value"))?,
            gru_x: linear(d + GEOMETRY + 1 + a + h, 3 * h, vb.pp("memory.input"))?,
            gru_h: linear(h, 3 * h, vb.pp("memory.state"))?,
            out1: linear(h, h, vb.pp("predict.fc1"))?,
            out2: linear(h, d + GEOMETRY, vb.pp("predict.change_out"))?,
            visibility: linear(h, 1, vb.pp("predict.visibility"))?,
            expand1: linear(d, config.expander, vb.pp("expander.fc1"))?,
            expand2: linear(config.expander, config.expander, vb.pp("expander.fc2"))?,
            config: config.clone(),
        })
    }

    /// Frames `[B, L, 3, H, W]` and their masks `[B, L, H, W]` to slot vectors
    /// `[B, L, K, D + G]` (the latent, then the scaled geometry; zero where a slot does not
    /// show), with the mask's slot inputs.
    fn slots(&self, frames: &Tensor, masks: &Tensor) -> Result<(Tensor, SlotInputs)> {
        let features = self.encoder.encode_video(frames)?;
        let inputs = slot_inputs(masks, self.config.patch, frames.device())?;
        let pooled = inputs.pool.matmul(&features)?;
        let x = Tensor::cat(&[&pooled, &inputs.geometry], 3)?;
        let z = layer_norm(
            &dense(&self.slot_in, &x)?,
            &self.norm_weight,
            &self.norm_bias,
        )?;
        let z = Tensor::cat(&[&z, &(&inputs.geometry * GEOMETRY_SCALE)?], 3)?;
        Ok((z.broadcast_mul(&inputs.visible)?, inputs))
    }

    /// The masks of a batch, or an error saying the model needs them.
    fn masks(batch: &Batch) -> Result<&Tensor> {
        batch.masks.as_ref().ok_or_else(no_masks)
    }

    /// A blank memory for `b` movies.
    fn blank(&self, b: usize, device: &candle_core::Device) -> Result<Memory> {
        let k = MAX_SLOTS;
        Ok(Memory {
            state: Tensor::zeros((b, k, memory_width(&self.config)), DType::F32, device)?,
            last: Tensor::zeros((b, k, self.config.dim + GEOMETRY), DType::F32, device)?,
        })
    }

    /// One step of the memory from frame `t`'s slot vectors `[B, K, D + G]` and visibility
    /// `[B, K, 1]`, with the actions `[B, L, A]`: what each slot last showed, then the states
    /// updated by it.
    fn step(
        &self,
        memory: &Memory,
        latents: &Tensor,
        visible: &Tensor,
        actions: &Tensor,
        t: usize,
    ) -> Result<Memory> {
        // last <- v z + (1 - v) last, as last + v (z - last).
        let last = (&memory.last + (latents - &memory.last)?.broadcast_mul(visible)?)?;
        let state = &memory.state;
        let (b, k, h) = state.dims3()?;
        let q = dense(&self.query, state)?;
        let keys = dense(&self.key, state)?;
        let values = dense(&self.value, state)?;
        let attention = (q.matmul(&keys.transpose(1, 2)?.contiguous()?)? / (h as f64).sqrt())?;
        let attention = candle_nn::ops::softmax(&attention, D::Minus1)?;
        let messages = attention.matmul(&values)?;
        let mut parts = vec![last.clone(), visible.clone()];
        let dim = self.config.action_dim;
        if dim > 0 {
            let a = actions.narrow(1, t, 1)?;
            parts.push(a.broadcast_as((b, k, dim))?.contiguous()?);
        }
        parts.push(messages);
        let x = Tensor::cat(&parts, 2)?;
        let gx = dense(&self.gru_x, &x)?;
        let gh = dense(&self.gru_h, state)?;
        let gate = |i: usize, t: &Tensor| t.narrow(2, i * h, h);
        let sigmoid =
            |t: Tensor| -> candle_core::Result<Tensor> { (t.neg()?.exp()? + 1.0)?.recip() };
        let r = sigmoid((gate(0, &gx)? + gate(0, &gh)?)?)?;
        let z = sigmoid((gate(1, &gx)? + gate(1, &gh)?)?)?;
        let n = (gate(2, &gx)? + (r * gate(2, &gh)?)?)?.tanh()?;
        // (1 - z) n + z h, as n + z (h - n).
        let state = (&n + (z * (state - &n)?)?)?;
        Ok(Memory { state, last })
    }

    /// What a memory predicts of the next frame: slot vectors `[B, K, D + G]` (the last shown
    /// plus a change) and the logits of their visibility `[B, K, 1]`.
    fn heads(&self, memory: &Memory) -> Result<(Tensor, Tensor)> {
        let change = perceptron(&self.out1, &self.out2, &memory.state, false)?;
        Ok((
            (&memory.last + change)?,
            dense(&self.visibility, &memory.state)?,
        ))
    }

    /// Runs the memory over every frame of slots `[B, L, K, D + G]` with visibility
    /// `[B, L, K, 1]` from a blank state: the predictions for frames 1 to L - 1,
    /// `[B, L - 1, K, D + G]` and `[B, L - 1, K, 1]`.
    fn predict_movie(
        &self,
        latents: &Tensor,
        visible: &Tensor,
        actions: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let (b, l, _, _) = latents.dims4()?;
        let mut memory = self.blank(b, latents.device())?;
        let (mut preds, mut logits) = (Vec::with_capacity(l), Vec::with_capacity(l));
        for t in 0..l - 1 {
            let z = latents.narrow(1, t, 1)?.squeeze(1)?;
            let v = visible.narrow(1, t, 1)?.squeeze(1)?;
            memory = self.step(&memory, &z, &v, actions, t)?;
            let (p, g) = self.heads(&memory)?;
            preds.push(p);
            logits.push(g);
        }
        Ok((Tensor::stack(&preds, 1)?, Tensor::stack(&logits, 1)?))
    }
}

/// The error of frames given without the instance masks the model reads.
fn no_masks() -> AgentError {
    AgentError::OutOfRange {
        what: "input",
        value: "frames without instance masks".into(),
        expected: "a batch with masks: slot-jepa is given instance masks".into(),
    }
}

/// `log(1 + e^x) - x y`: the cross-entropy of logits `x` against 0/1 targets `y`, element-wise,
/// in the form that never overflows (`max(x, 0) + log(1 + e^-|x|) - x y`).
fn bce_with_logits(x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let softplus = (x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    Ok((softplus - (x * y)?)?)
}

impl WorldModel for SlotJepa {
    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &ModelConfig {
        &self.config
    }

    fn encode(&self, _frames: &Tensor) -> Result<Tensor> {
        Err(no_masks())
    }

    fn encode_batch(&self, batch: &Batch) -> Result<Tensor> {
        Ok(self.slots(&batch.frames, Self::masks(batch)?)?.0)
    }

    fn targets_batch(&self, batch: &Batch) -> Result<Tensor> {
        self.encode_batch(batch)
    }

    fn train_window(&self) -> usize {
        TRAIN_WINDOW
    }

    /// From context slot vectors `[B, C, K, D + G]` (a slot that does not show is all zeros, as
    /// [`WorldModel::encode_batch`] gives it) and actions `[B, C + S - 1, A]`: the memory runs
    /// over the context, then feeds each prediction back, a slot shown where the model expects
    /// it to show. `[B, S, K, D + G]`.
    fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        let (b, c, _, _) = context.dims4()?;
        let shows = |z: &Tensor| -> Result<Tensor> {
            Ok(z.abs()?
                .sum_keepdim(D::Minus1)?
                .gt(0.0)?
                .to_dtype(DType::F32)?)
        };
        let mut memory = self.blank(b, context.device())?;
        for t in 0..c {
            let z = context.narrow(1, t, 1)?.squeeze(1)?;
            memory = self.step(&memory, &z, &shows(&z)?, actions, t)?;
        }
        let mut out = Vec::with_capacity(steps);
        for s in 0..steps {
            let (p, logit) = self.heads(&memory)?;
            let v = logit.gt(0.0)?.to_dtype(DType::F32)?;
            let p = p.broadcast_mul(&v)?;
            if s + 1 < steps {
                memory = self.step(&memory, &p, &v, actions, c + s)?;
            }
            out.push(p);
        }
        Ok(Tensor::stack(&out, 1)?)
    }

    fn loss(&self, batch: &Batch) -> Result<Losses> {
        let (vectors, inputs) = self.slots(&batch.frames, Self::masks(batch)?)?;
        let (b, l, k, _) = vectors.dims4()?;
        let d = self.config.dim;
        let (preds, logits) = self.predict_movie(&vectors, &inputs.visible, &batch.actions)?;
        let shown = inputs.visible.narrow(1, 1, l - 1)?;
        let squared = (preds - vectors.narrow(1, 1, l - 1)?)?
            .sqr()?
            .broadcast_mul(&shown)?;
        // Slots that show in frames 1 to L - 1, the predicted ones.
        let shown_count: f32 = inputs
            .visible_host
            .chunks(l * k)
            .map(|movie| movie[k..].iter().sum::<f32>())
            .sum();
        let mean = |from: usize, width: usize| -> Result<Tensor> {
            Ok((squared.narrow(3, from, width)?.sum_all()?
                / (f64::from(shown_count) * width as f64).max(1.0))?)
        };
        let prediction = mean(0, d)?;
        let geometry = mean(d, GEOMETRY)?;
        let latents = vectors.narrow(3, 0, d)?;
        let visibility = bce_with_logits(&logits, &shown)?.mean_all()?;
        // VICReg's variance and covariance over the latents of every slot that shows.
        let rows: Vec<u32> = inputs
            .visible_host
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0)
            .map(|(i, _)| i as u32)
            .collect();
        let zero = || Tensor::zeros((), DType::F32, latents.device());
        let (variance, covariance) = if rows.len() >= 2 {
            let index = Tensor::from_vec(rows.clone(), rows.len(), latents.device())?;
            let shown_latents = latents.reshape((b * l * k, d))?.index_select(&index, 0)?;
            let expanded = perceptron(&self.expand1, &self.expand2, &shown_latents, false)?;
            variance_covariance(&expanded)?
        } else {
            (zero()?, zero()?)
        };
        let total = (((&prediction + &geometry)? * SIM_COEFF)?
            + (&variance * STD_COEFF)?
            + (&covariance * COV_COEFF)?
            + (&visibility * VISIBILITY_COEFF)?)?;
        Ok(Losses {
            total,
            terms: vec![
                ("prediction", prediction),
                ("geometry", geometry),
                ("visibility", visibility),
                ("variance", variance),
                ("covariance", covariance),
            ],
        })
    }

    fn movie_surprise(&self, batch: &Batch) -> Result<Option<Vec<f32>>> {
        let (latents, inputs) = self.slots(&batch.frames, Self::masks(batch)?)?;
        let (b, l, k, _) = latents.dims4()?;
        if b != 1 {
            return Err(AgentError::OutOfRange {
                what: "movies per batch",
                value: b.to_string(),
                expected: "1".into(),
            });
        }
        let d = self.config.dim;
        let (preds, logits) = self.predict_movie(&latents, &inputs.visible, &batch.actions)?;
        let shown = inputs.visible.narrow(1, 1, l - 1)?;
        let error = (preds - latents.narrow(1, 1, l - 1)?)?.abs()?;
        let error = (error.narrow(3, 0, d)?.mean_keepdim(D::Minus1)?
            + error.narrow(3, d, GEOMETRY)?.mean_keepdim(D::Minus1)?)?
        .broadcast_mul(&shown)?;
        let surprise = (error + bce_with_logits(&logits, &shown)?)?
            .reshape((l - 1, k))?
            .sum(1)?;
        Ok(Some(surprise.to_vec1::<f32>()?))
    }

    fn has_memory(&self) -> bool {
        true
    }

    /// Each slot's recurrent state and the vector it last showed, after every frame:
    /// `[B, L, K * (H + D + G)]`.
    fn movie_states(&self, batch: &Batch) -> Result<Option<Tensor>> {
        let (vectors, inputs) = self.slots(&batch.frames, Self::masks(batch)?)?;
        let (b, l, _, _) = vectors.dims4()?;
        let mut memory = self.blank(b, vectors.device())?;
        let mut rows = Vec::with_capacity(l);
        for t in 0..l {
            let z = vectors.narrow(1, t, 1)?.squeeze(1)?;
            let v = inputs.visible.narrow(1, t, 1)?.squeeze(1)?;
            memory = self.step(&memory, &z, &v, &batch.actions, t)?;
            rows.push(Tensor::cat(&[&memory.state, &memory.last], 2)?.flatten_from(1)?);
        }
        Ok(Some(Tensor::stack(&rows, 1)?))
    }
}
