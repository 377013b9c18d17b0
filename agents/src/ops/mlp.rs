//! A two-layer perceptron `[x +] W2 gelu(W1 x + b1) + b2` as one node of the autograd graph.
//!
//! Every MLP of the models (the encoder's residual block, the expander, the decoder, the
//! predictor's head) runs over tens of thousands of token rows with a hidden layer four times
//! wider than its input. As separate candle ops that is five graph nodes, two of them as wide as
//! the hidden layer, and candle's backward pass allocates a zeroed gradient and adds into it for
//! each. Here the forward pass keeps the hidden pre-activation and activation for the backward
//! pass (as PyTorch's autograd saves them) and the backward pass is four matrix products, two
//! sums over rows in fixed blocks and one element-wise pass.

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::gelu::{derivative, forward};
use super::gemm::{View, gemm_into};
use super::rows::sum_middle_cpu;
use super::simd::vectorised;
use super::{CHUNK, contiguous, contiguous3, fused, repeat_rows};
use crate::error::Result;

/// `W2 gelu(W1 x + b1) + b2` over the last dimension of `x`, plus `x` itself when `residual`
/// (which needs W2's output width to equal x's). `w1 [H, D]`, `b1 [H]`, `w2 [O, H]`, `b2 [O]`.
pub fn mlp(
    x: &Tensor,
    (w1, b1): (&Tensor, &Tensor),
    (w2, b2): (&Tensor, &Tensor),
    residual: bool,
) -> Result<Tensor> {
    let (h, d) = w1.dims2()?;
    let (o, h2) = w2.dims2()?;
    let dims = x.dims().to_vec();
    let last = *dims.last().expect("a tensor of rank >= 1");
    if last != d || h2 != h || b1.dims() != [h] || b2.dims() != [o] || (residual && o != d) {
        return Err(candle_core::Error::Msg(format!(
            "mlp: input {dims:?} against W1 [{h}, {d}], b1 {:?}, W2 [{o}, {h2}], b2 {:?} \
             (residual {residual})",
            b1.dims(),
            b2.dims()
        ))
        .into());
    }
    if !fused(&[x, w1, b1, w2, b2]) {
        let y = super::linear(&super::gelu(&super::linear(x, w1, b1)?)?, w2, b2)?;
        return Ok(if residual { (x + y)? } else { y });
    }
    let rows = x.elem_count() / d.max(1);
    let mut out_dims = dims;
    *out_dims.last_mut().expect("rank >= 1") = o;
    // The parameters travel as one vector (a CustomOp takes at most three inputs); the
    // concatenation is as small as the weights and its gradient splits back to each.
    let packed = Tensor::cat(
        &[
            &w1.flatten_all()?,
            &b1.contiguous()?,
            &w2.flatten_all()?,
            &b2.contiguous()?,
        ],
        0,
    )?;
    Ok(x.contiguous()?.apply_op2(
        &packed,
        Mlp {
            shape: Shape::from(out_dims),
            dims: Dims {
                rows,
                d,
                h,
                o,
                residual,
            },
            saved: Arc::new(Mutex::new(None)),
        },
    )?)
}

#[derive(Clone, Copy)]
struct Dims {
    rows: usize,
    d: usize,
    h: usize,
    o: usize,
    residual: bool,
}

impl Dims {
    /// The parameters' slices in the packed vector: W1, b1, W2, b2.
    fn split<'a>(&self, p: &'a [f32]) -> (&'a [f32], &'a [f32], &'a [f32], &'a [f32]) {
        let (w1, p) = p.split_at(self.h * self.d);
        let (b1, p) = p.split_at(self.h);
        let (w2, b2) = p.split_at(self.o * self.h);
        (w1, b1, w2, b2)
    }

    fn params(&self) -> usize {
        self.h * self.d + self.h + self.o * self.h + self.o
    }
}

/// The hidden pre-activation and activation `[rows, H]`, kept from the forward pass.
type Saved = Arc<Mutex<Option<(Vec<f32>, Vec<f32>)>>>;

struct Mlp {
    shape: Shape,
    dims: Dims,
    saved: Saved,
}

impl CustomOp2 for Mlp {
    fn name(&self) -> &'static str {
        "moravec-mlp"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, p) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let Dims {
            rows,
            d,
            h,
            o,
            residual,
        } = self.dims;
        let (w1, b1, w2, b2) = self.dims.split(p);
        let mut pre = repeat_rows(b1, rows);
        gemm_into(
            &mut pre,
            View::rows(x, rows, d),
            View::rows(w1, h, d).t(),
            true,
        );
        let mut act = super::zeroed(pre.len());
        act.par_chunks_mut(CHUNK)
            .zip(pre.par_chunks(CHUNK))
            .for_each(|(a, p)| {
                vectorised(
                    #[inline(always)]
                    || a.iter_mut().zip(p).for_each(|(a, &p)| *a = forward(p)),
                )
            });
        let mut y = repeat_rows(b2, rows);
        if residual {
            y.par_chunks_mut(CHUNK)
                .zip(x.par_chunks(CHUNK))
                .for_each(|(y, x)| {
                    vectorised(
                        #[inline(always)]
                        || y.iter_mut().zip(x).for_each(|(y, &x)| *y += x),
                    )
                });
        }
        gemm_into(
            &mut y,
            View::rows(&act, rows, h),
            View::rows(w2, o, h).t(),
            true,
        );
        *self.saved.lock().expect("mlp: poisoned") = Some((pre, act));
        Ok((CpuStorage::F32(y), self.shape.clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        packed: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let all = x.apply_op3_no_bwd(
            packed,
            &grad.contiguous()?,
            &MlpGrad {
                dims: self.dims,
                saved: self.saved.clone(),
            },
        )?;
        let n = self.dims.rows * self.dims.d;
        let dx = all.narrow(0, 0, n)?.reshape(x.shape())?;
        let dp = all.narrow(0, n, self.dims.params())?;
        Ok((Some(dx), Some(dp)))
    }
}

/// The gradients of the input and of the packed parameters, packed `[rows * D + params]`.
struct MlpGrad {
    dims: Dims,
    saved: Saved,
}

impl CustomOp3 for MlpGrad {
    fn name(&self) -> &'static str {
        "moravec-mlp-grad"
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
        let (x, p, g) = contiguous3((s1, l1), (s2, l2), (s3, l3))?;
        let Dims {
            rows,
            d,
            h,
            o,
            residual,
        } = self.dims;
        let (w1, _, w2, _) = self.dims.split(p);
        let saved = self.saved.lock().expect("mlp: poisoned");
        let (pre, act) = saved
            .as_ref()
            .ok_or_else(|| candle_core::Error::Msg("mlp: backward before forward".into()))?;
        let mut out = super::zeroed(rows * d + self.dims.params());
        let (dx, dp) = out.split_at_mut(rows * d);
        let (dw1, dp) = dp.split_at_mut(h * d);
        let (db1, dp) = dp.split_at_mut(h);
        let (dw2, db2) = dp.split_at_mut(o * h);
        // Output layer: dW2 = g^T act, db2 = sum of g over rows.
        gemm_into(
            dw2,
            View::rows(g, rows, o).t(),
            View::rows(act, rows, h),
            false,
        );
        db2.copy_from_slice(&sum_middle_cpu(g, 1, rows, o));
        // Hidden layer: da = (g W2) * gelu'(pre).
        let mut da = super::zeroed(rows * h);
        gemm_into(&mut da, View::rows(g, rows, o), View::rows(w2, o, h), false);
        da.par_chunks_mut(CHUNK)
            .zip(pre.par_chunks(CHUNK))
            .for_each(|(da, p)| {
                vectorised(
                    #[inline(always)]
                    || {
                        da.iter_mut()
                            .zip(p)
                            .for_each(|(da, &p)| *da *= derivative(p))
                    },
                )
            });
        gemm_into(
            dw1,
            View::rows(&da, rows, h).t(),
            View::rows(x, rows, d),
            false,
        );
        db1.copy_from_slice(&sum_middle_cpu(&da, 1, rows, h));
        // Input: dx = da W1 (+ g through the residual).
        if residual {
            dx.copy_from_slice(g);
        }
        gemm_into(dx, View::rows(&da, rows, h), View::rows(w1, h, d), residual);
        Ok((
            CpuStorage::F32(out),
            Shape::from(rows * d + self.dims.params()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::ops::testing::{assert_same_gradients, bits, max_diff, var, with_threads};

    #[test]
    fn matches_the_unfused_layers_and_their_gradients() {
        for residual in [false, true] {
            let o = if residual { 6 } else { 5 };
            let x = var(&[3, 300, 6], 1.0);
            let (w1, b1) = (var(&[11, 6], 0.5), var(&[11], 0.5));
            let (w2, b2) = (var(&[o, 11], 0.5), var(&[o], 0.5));
            let up = Tensor::randn(0f32, 1.0, (3, 300, o), &Device::Cpu).unwrap();
            let ours = mlp(&x, (&w1, &b1), (&w2, &b2), residual).unwrap();
            let hidden = crate::ops::gelu(
                &x.broadcast_matmul(&w1.t().unwrap())
                    .unwrap()
                    .broadcast_add(&b1)
                    .unwrap(),
            )
            .unwrap();
            let mut theirs = hidden
                .broadcast_matmul(&w2.t().unwrap())
                .unwrap()
                .broadcast_add(&b2)
                .unwrap();
            if residual {
                theirs = (theirs + x.as_tensor()).unwrap();
            }
            assert!(
                max_diff(&ours, &theirs) < 1e-4,
                "forward (residual {residual})"
            );
            assert_same_gradients(
                ours,
                theirs,
                &up,
                &[
                    ("x", &x),
                    ("w1", &w1),
                    ("b1", &b1),
                    ("w2", &w2),
                    ("b2", &b2),
                ],
                1e-3,
            );
        }
    }

    #[test]
    fn bits_do_not_depend_on_the_thread_count() {
        let x = var(&[4000, 64], 1.0);
        let (w1, b1) = (var(&[256, 64], 0.1), var(&[256], 0.1));
        let (w2, b2) = (var(&[64, 256], 0.1), var(&[64], 0.1));
        let up = Tensor::randn(0f32, 1.0, (4000, 64), &Device::Cpu).unwrap();
        let run = || {
            let y = mlp(&x, (&w1, &b1), (&w2, &b2), true).unwrap();
            let g = (&y * &up).unwrap().sum_all().unwrap().backward().unwrap();
            let mut all = vec![bits(&y)];
            all.extend([&x, &w1, &b1, &w2, &b2].map(|v| bits(g.get(v).unwrap())));
            all
        };
        assert!(
            with_threads(1, run) == with_threads(2, run),
            "mlp depends on the thread count"
        );
    }

    #[test]
    fn rejects_mismatched_shapes() {
        let x = var(&[4, 6], 1.0);
        let (w1, b1) = (var(&[11, 6], 0.5), var(&[11], 0.5));
        let (w2, b2) = (var(&[5, 11], 0.5), var(&[5], 0.5));
        assert!(
            mlp(&x, (&w1, &b1), (&w2, &b2), true).is_err(),
            "residual of width 5 on 6"
        );
        assert!(mlp(&x, (&w2, &b2), (&w1, &b1), false).is_err());
    }
}
