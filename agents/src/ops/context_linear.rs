//! The predictor's temporal layer: each token's history over the context, `[B, C, N, D]`, to
//! one hidden vector per token, `[B, N, H]`, as one node of the autograd graph.
//!
//! The layer reads token n's C latents as one row of C x D numbers. From candle's ops that is
//! a permutation, a copy and a reshape before the product (three graph nodes per rollout step,
//! each with a zeroed gradient and an addition in the backward pass, one of them a strided
//! copy). Here the rows are gathered into a scratch buffer inside the op, used for one
//! product, and gathered again in the backward pass instead of being kept.

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::gemm::{View, gemm_into};
use super::rows::sum_middle_cpu;
use super::{contiguous3, fused, repeat_rows};
use crate::error::Result;

/// `ctx [B, C, N, D]` to `[B, N, H]`: `W [H, C D]` applied to each token's context row
/// `(z_1[n], ..., z_C[n])`, plus `b [H]`.
pub fn context_linear(ctx: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (batch, c, n, d) = ctx.dims4()?;
    let (h, cd) = w.dims2()?;
    if cd != c * d || b.dims() != [h] {
        return Err(candle_core::Error::Msg(format!(
            "context_linear: context {:?} against W {:?} and b {:?}",
            ctx.dims(),
            w.dims(),
            b.dims()
        ))
        .into());
    }
    if !fused(&[ctx, w, b]) {
        let x = ctx
            .permute((0, 2, 1, 3))?
            .contiguous()?
            .reshape((batch, n, c * d))?;
        return super::linear(&x, w, b);
    }
    Ok(ctx.contiguous()?.apply_op3(
        &w.contiguous()?,
        &b.contiguous()?,
        ContextLinear {
            batch,
            c,
            n,
            d,
            h,
            k: 0,
            inputs: true,
            context: true,
        },
    )?)
}

/// [`context_linear`] of the window that a rollout has reached after `k` steps: the last
/// `C - k` frames of `ctx [B, C, N, D]` followed by the `k` predictions `preds [B, k, N, D]`
/// (`1 <= k <= C`), without building the window.
pub fn window_linear(ctx: &Tensor, preds: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (batch, c, n, d) = ctx.dims4()?;
    let (pb, k, pn, pd) = preds.dims4()?;
    if (pb, pn, pd) != (batch, n, d) || k == 0 || k > c {
        return Err(candle_core::Error::Msg(format!(
            "window_linear: context {:?} and predictions {:?}",
            ctx.dims(),
            preds.dims()
        ))
        .into());
    }
    let (h, cd) = w.dims2()?;
    if cd != c * d || b.dims() != [h] {
        return Err(candle_core::Error::Msg(format!(
            "window_linear: context {:?} against W {:?} and b {:?}",
            ctx.dims(),
            w.dims(),
            b.dims()
        ))
        .into());
    }
    if !fused(&[ctx, preds, w, b]) {
        let window = Tensor::cat(&[&ctx.narrow(1, k, c - k)?, preds], 1)?;
        return context_linear(&window, w, b);
    }
    let packed = Tensor::cat(&[&w.flatten_all()?, &b.contiguous()?], 0)?;
    Ok(ctx.contiguous()?.apply_op3(
        &preds.contiguous()?,
        &packed,
        WindowLinear(ContextLinear {
            batch,
            c,
            n,
            d,
            h,
            k,
            inputs: true,
            context: true,
        }),
    )?)
}

/// `W rows + b` from gathered rows.
fn project(op: &ContextLinear, x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    let mut y = repeat_rows(b, op.rows());
    gemm_into(
        &mut y,
        View::rows(x, op.rows(), op.c * op.d),
        View::rows(w, op.h, op.c * op.d).t(),
        true,
    );
    y
}

/// The gradients of the window's frames (scattered, when `op.inputs`), of W and of b, packed.
fn gradients(op: &ContextLinear, ctx: &[f32], preds: &[f32], w: &[f32], g: &[f32]) -> Vec<f32> {
    let (rows, cd, h) = (op.rows(), op.c * op.d, op.h);
    let x = op.gather(ctx, preds);
    let params = h * cd + h;
    let mut out = if op.inputs && !op.context && op.k > 0 {
        // The context frames take no gradient (pixels): only the predictions' columns of W.
        let kd = op.k * op.d;
        let mut dx = super::zeroed(rows * kd);
        let w_predictions = View {
            data: &w[(op.c - op.k) * op.d..],
            rows: h,
            cols: kd,
            rs: cd,
            cs: 1,
        };
        gemm_into(&mut dx, View::rows(g, rows, h), w_predictions, false);
        op.scatter_predictions(&dx, params)
    } else if op.inputs {
        let mut dx = super::zeroed(rows * cd);
        gemm_into(&mut dx, View::rows(g, rows, h), View::rows(w, h, cd), false);
        op.scatter(&dx, params)
    } else {
        Vec::with_capacity(params)
    };
    let mut dw = super::zeroed(h * cd);
    gemm_into(
        &mut dw,
        View::rows(g, rows, h).t(),
        View::rows(&x, rows, cd),
        false,
    );
    out.extend_from_slice(&dw);
    out.extend_from_slice(&sum_middle_cpu(g, 1, rows, h));
    out
}

struct WindowLinear(ContextLinear);

impl CustomOp3 for WindowLinear {
    fn name(&self) -> &'static str {
        "moravec-window-linear"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let op = &self.0;
        let (ctx, preds, p) = contiguous3((s1, l1), (s2, l2), (s3, l3))?;
        let (w, b) = p.split_at(op.h * op.c * op.d);
        let y = project(op, &op.gather(ctx, preds), w, b);
        Ok((CpuStorage::F32(y), Shape::from((op.batch, op.n, op.h))))
    }

    fn bwd(
        &self,
        ctx: &Tensor,
        preds: &Tensor,
        packed: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        // The gradient op needs four inputs: the parameters and the incoming gradient travel
        // together (both as small as one step's hidden layer).
        let tail = Tensor::cat(&[packed, &grad.flatten_all()?], 0)?;
        let op = ContextLinear {
            inputs: ctx.track_op() || preds.track_op(),
            context: ctx.track_op(),
            ..self.0
        };
        let all = ctx.apply_op3_no_bwd(preds, &tail, &WindowLinearGrad(op))?;
        let (lc, lp) = match (op.inputs, op.context) {
            (true, true) => (ctx.elem_count(), preds.elem_count()),
            (true, false) => (0, preds.elem_count()),
            (false, _) => (0, 0),
        };
        let dpacked = all.narrow(0, lc + lp, packed.elem_count())?;
        if !op.inputs {
            return Ok((None, None, Some(dpacked)));
        }
        // Untracked inputs (pixels) get no gradient: candle would add it into a zeroed one.
        let dctx = ctx.track_op().then(|| all.narrow(0, 0, lc)).transpose()?;
        let dctx = dctx.map(|t| t.reshape(ctx.shape())).transpose()?;
        let dpreds = preds
            .track_op()
            .then(|| all.narrow(0, lc, lp))
            .transpose()?;
        let dpreds = dpreds.map(|t| t.reshape(preds.shape())).transpose()?;
        Ok((dctx, dpreds, Some(dpacked)))
    }
}

/// The gradients of the context, the predictions, and the packed (W, b), packed.
struct WindowLinearGrad(ContextLinear);

impl CustomOp3 for WindowLinearGrad {
    fn name(&self) -> &'static str {
        "moravec-window-linear-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let op = &self.0;
        let (ctx, preds, tail) = contiguous3((s1, l1), (s2, l2), (s3, l3))?;
        let (w, rest) = tail.split_at(op.h * op.c * op.d);
        let out = gradients(op, ctx, preds, w, &rest[op.h..]);
        let len = out.len();
        Ok((CpuStorage::F32(out), Shape::from(len)))
    }
}

/// The shapes: the window is the last `C - k` frames of a `[B, C, N, D]` context followed by
/// `k` predicted frames `[B, k, N, D]`.
#[derive(Clone, Copy)]
struct ContextLinear {
    batch: usize,
    c: usize,
    n: usize,
    d: usize,
    h: usize,
    k: usize,
    /// Whether the gradient of the window's frames is wanted (not for pixels, say).
    inputs: bool,
    /// Whether the context's frames want it too (with `inputs` but not `context`, only the
    /// predictions get one: a pixel predictor's rollout, where the context is pixels).
    context: bool,
}

impl ContextLinear {
    /// The window's frame `t` of batch entry `b`: `(from predictions, frame index)`.
    fn source(&self, t: usize) -> (bool, usize) {
        if t + self.k < self.c {
            (false, t + self.k)
        } else {
            (true, t + self.k - self.c)
        }
    }

    /// Context `[B, C, N, D]` and predictions `[B, k, N, D]` to rows `[B, N, C D]`.
    fn gather(&self, ctx: &[f32], preds: &[f32]) -> Vec<f32> {
        let (c, n, d, k) = (self.c, self.n, self.d, self.k);
        let mut rows = super::zeroed(self.batch * n * c * d);
        rows.par_chunks_mut(n * c * d)
            .enumerate()
            .for_each(|(b, rows)| {
                for t in 0..c {
                    let frame = match self.source(t) {
                        (false, f) => &ctx[(b * c + f) * n * d..][..n * d],
                        (true, f) => &preds[(b * k + f) * n * d..][..n * d],
                    };
                    for (tok, z) in frame.chunks(d).enumerate() {
                        rows[(tok * c + t) * d..][..d].copy_from_slice(z);
                    }
                }
            });
        rows
    }

    /// Rows `[B, N, C D]` back to the gradients of the context `[B, C, N, D]` (zero for the
    /// frames outside the window) and of the predictions `[B, k, N, D]`, one after the other,
    /// with room for `spare` more numbers.
    fn scatter(&self, rows: &[f32], spare: usize) -> Vec<f32> {
        let (c, n, d, k) = (self.c, self.n, self.d, self.k);
        let ctx_len = self.batch * c * n * d;
        let len = ctx_len + self.batch * k * n * d;
        let mut out = super::zeroed_with_spare(len, spare);
        let (dctx, dpreds) = out.split_at_mut(ctx_len);
        let fill = |(dctx, dpreds): (&mut [f32], &mut [f32]), rows: &[f32]| {
            for t in 0..c {
                let frame = match self.source(t) {
                    (false, f) => &mut dctx[f * n * d..][..n * d],
                    (true, f) => &mut dpreds[f * n * d..][..n * d],
                };
                for (tok, z) in frame.chunks_mut(d).enumerate() {
                    z.copy_from_slice(&rows[(tok * c + t) * d..][..d]);
                }
            }
        };
        let per_entry = rows.par_chunks(n * c * d);
        if k == 0 {
            dctx.par_chunks_mut(c * n * d)
                .zip(per_entry)
                .for_each(|(dctx, rows)| fill((dctx, &mut []), rows));
        } else {
            dctx.par_chunks_mut(c * n * d)
                .zip(dpreds.par_chunks_mut(k * n * d))
                .zip(per_entry)
                .for_each(|(parts, rows)| fill(parts, rows));
        }
        out
    }

    /// The predictions' columns of the rows, `[B, N, k D]`, to the predictions' gradient
    /// `[B, k, N, D]`, with room for `spare` more numbers.
    fn scatter_predictions(&self, rows: &[f32], spare: usize) -> Vec<f32> {
        let (n, d, k) = (self.n, self.d, self.k);
        let len = self.batch * k * n * d;
        let mut out = super::zeroed_with_spare(len, spare);
        out.par_chunks_mut(k * n * d)
            .zip(rows.par_chunks(n * k * d))
            .for_each(|(dpreds, rows)| {
                for f in 0..k {
                    for tok in 0..n {
                        dpreds[(f * n + tok) * d..][..d]
                            .copy_from_slice(&rows[(tok * k + f) * d..][..d]);
                    }
                }
            });
        out
    }

    fn rows(&self) -> usize {
        self.batch * self.n
    }
}

impl CustomOp3 for ContextLinear {
    fn name(&self) -> &'static str {
        "moravec-context-linear"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (ctx, w, b) = contiguous3((s1, l1), (s2, l2), (s3, l3))?;
        let y = project(self, &self.gather(ctx, &[]), w, b);
        Ok((
            CpuStorage::F32(y),
            Shape::from((self.batch, self.n, self.h)),
        ))
    }

    fn bwd(
        &self,
        ctx: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let op = ContextLinear {
            inputs: ctx.track_op(),
            context: ctx.track_op(),
            ..*self
        };
        let all = ctx.apply_op3_no_bwd(w, &grad.contiguous()?, &ContextLinearGrad(op))?;
        let len = if op.inputs { ctx.elem_count() } else { 0 };
        let dw = all.narrow(0, len, w.elem_count())?.reshape(w.shape())?;
        let db = all.narrow(0, len + w.elem_count(), self.h)?;
        let dctx = match op.inputs {
            true => Some(all.narrow(0, 0, len)?.reshape(ctx.shape())?),
            false => None,
        };
        Ok((dctx, Some(dw), Some(db)))
    }
}

/// The gradients of the context, W and b, packed `[B C N D + H C D + H]`.
struct ContextLinearGrad(ContextLinear);

impl CustomOp3 for ContextLinearGrad {
    fn name(&self) -> &'static str {
        "moravec-context-linear-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let op = &self.0;
        let (ctx, w, g) = contiguous3((s1, l1), (s2, l2), (s3, l3))?;
        let out = gradients(op, ctx, &[], w, g);
        let len = out.len();
        Ok((CpuStorage::F32(out), Shape::from(len)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::ops::testing::{assert_same_gradients, max_diff, var};

    #[test]
    fn matches_the_permuted_linear_layer_and_its_gradients() {
        let (ctx, w, b) = (var(&[3, 4, 5, 6], 1.0), var(&[7, 24], 0.3), var(&[7], 0.3));
        let up = Tensor::randn(0f32, 1.0, (3, 5, 7), &Device::Cpu).unwrap();
        let ours = context_linear(&ctx, &w, &b).unwrap();
        let x = ctx
            .permute((0, 2, 1, 3))
            .unwrap()
            .contiguous()
            .unwrap()
            .reshape((3, 5, 24))
            .unwrap();
        let theirs = x
            .broadcast_matmul(&w.t().unwrap())
            .unwrap()
            .broadcast_add(&b)
            .unwrap();
        assert!(max_diff(&ours, &theirs) < 1e-5);
        assert_same_gradients(
            ours,
            theirs,
            &up,
            &[("ctx", &ctx), ("w", &w), ("b", &b)],
            1e-4,
        );
    }

    #[test]
    fn window_linear_matches_the_built_window_and_its_gradients() {
        for k in [1, 3, 4] {
            let (ctx, preds) = (var(&[2, 4, 5, 3], 1.0), var(&[2, k, 5, 3], 1.0));
            let (w, b) = (var(&[7, 12], 0.3), var(&[7], 0.3));
            let up = Tensor::randn(0f32, 1.0, (2, 5, 7), &Device::Cpu).unwrap();
            let ours = window_linear(&ctx, &preds, &w, &b).unwrap();
            let window =
                Tensor::cat(&[&ctx.narrow(1, k, 4 - k).unwrap(), preds.as_tensor()], 1).unwrap();
            let theirs = context_linear(&window, &w, &b).unwrap();
            assert_eq!(max_diff(&ours, &theirs), 0.0, "forward, k = {k}");
            assert_same_gradients(
                ours,
                theirs,
                &up,
                &[("ctx", &ctx), ("preds", &preds), ("w", &w), ("b", &b)],
                1e-5,
            );
        }
        // Pixels as the context: no gradient for them, the same for the rest.
        let pixels = Tensor::randn(0f32, 1.0, (2, 4, 5, 3), &Device::Cpu).unwrap();
        let (w, b) = (var(&[7, 12], 0.3), var(&[7], 0.3));
        let up = Tensor::randn(0f32, 1.0, (2, 5, 7), &Device::Cpu).unwrap();
        for k in [0, 1, 2, 4] {
            let preds = var(&[2, k.max(1), 5, 3], 1.0);
            let (ours, theirs) = if k == 0 {
                let rows = pixels
                    .permute((0, 2, 1, 3))
                    .unwrap()
                    .contiguous()
                    .unwrap()
                    .reshape((2, 5, 12))
                    .unwrap();
                let unfused = rows
                    .broadcast_matmul(&w.t().unwrap())
                    .unwrap()
                    .broadcast_add(&b)
                    .unwrap();
                (context_linear(&pixels, &w, &b).unwrap(), unfused)
            } else {
                let window = Tensor::cat(
                    &[&pixels.narrow(1, k, 4 - k).unwrap(), preds.as_tensor()],
                    1,
                )
                .unwrap();
                (
                    window_linear(&pixels, &preds, &w, &b).unwrap(),
                    context_linear(&window, &w, &b).unwrap(),
                )
            };
            let g1 = (ours * &up).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (theirs * &up)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            assert!(g1.get(&pixels).is_none(), "pixels got a gradient, k = {k}");
            for v in [&w, &b] {
                assert!(max_diff(g1.get(v).unwrap(), g2.get(v).unwrap()) < 1e-5);
            }
            if k > 0 {
                assert!(max_diff(g1.get(&preds).unwrap(), g2.get(&preds).unwrap()) < 1e-5);
            }
        }
        let (ctx, w, b) = (var(&[2, 4, 5, 3], 1.0), var(&[7, 12], 0.3), var(&[7], 0.3));
        let too_many = var(&[2, 5, 5, 3], 1.0);
        assert!(window_linear(&ctx, &too_many, &w, &b).is_err());
    }
}
