//! LayerNorm over the last dimension as one pass forward and one backward.
//!
//! candle-nn's fused CPU LayerNorm has no backward pass, and the same function written from
//! tensor ops costs about ten whole-tensor passes forward and twenty backward, two of them
//! slow reductions over rows for the gradients of the scale and shift. Here each row is
//! normalised alone; the scale and shift gradients are summed per block of rows and then over
//! the blocks, in order, so the bits do not depend on the thread count.

use candle_core::{CpuStorage, CustomOp3, D, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::simd::vectorised;
use super::{BLOCK, contiguous3, fused};
use crate::error::Result;

/// Added to the variance before its square root, as in PyTorch.
const EPS: f32 = 1e-5;

/// `(x - mean) / sqrt(var + 1e-5) * weight + bias` over the last dimension of `x`.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let d = x.dim(D::Minus1)?;
    if fused(&[x, weight, bias]) {
        let rows = x.elem_count() / d.max(1);
        Ok(x.contiguous()?.apply_op3(
            &weight.contiguous()?,
            &bias.contiguous()?,
            LayerNorm { rows, d },
        )?)
    } else {
        Ok(normalise_ops(x)?
            .broadcast_mul(weight)?
            .broadcast_add(bias)?)
    }
}

/// LayerNorm without scale and shift.
pub fn normalise(x: &Tensor) -> Result<Tensor> {
    let d = x.dim(D::Minus1)?;
    if fused(&[x]) {
        let ones = Tensor::ones(d, x.dtype(), x.device())?;
        let zeros = Tensor::zeros(d, x.dtype(), x.device())?;
        layer_norm(x, &ones, &zeros)
    } else {
        normalise_ops(x)
    }
}

/// The same normalisation from candle's tensor ops, for other devices.
fn normalise_ops(x: &Tensor) -> Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    Ok(centred.broadcast_div(&(var + 1e-5)?.sqrt()?)?)
}

/// The mean and `sqrt(var + eps)` of one row.
#[inline]
fn moments(x: &[f32]) -> (f32, f32) {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, (var + EPS).sqrt())
}

struct LayerNorm {
    rows: usize,
    d: usize,
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "moravec-layer-norm"
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
        let (x, w, b) = contiguous3((s1, l1), (s2, l2), (s3, l3))?;
        let d = self.d;
        let mut out = super::zeroed(x.len());
        out.par_chunks_mut(BLOCK * d)
            .zip(x.par_chunks(BLOCK * d))
            .for_each(|(o, x)| {
                vectorised(
                    #[inline(always)]
                    || {
                        for (o, x) in o.chunks_mut(d).zip(x.chunks(d)) {
                            let (mean, s) = moments(x);
                            for (((o, &x), &w), &b) in o.iter_mut().zip(x).zip(w).zip(b) {
                                *o = (x - mean) / s * w + b;
                            }
                        }
                    },
                )
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (rows, d) = (self.rows, self.d);
        let packed = x.apply_op3_no_bwd(w, &grad.contiguous()?, &LayerNormGrad { rows, d })?;
        let dx = packed.narrow(0, 0, rows * d)?.reshape(x.shape())?;
        let dw = packed.narrow(0, rows * d, d)?;
        let db = packed.narrow(0, rows * d + d, d)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

/// The gradients of x, weight and bias packed into one vector `[rows * d + 2 d]`.
struct LayerNormGrad {
    rows: usize,
    d: usize,
}

impl CustomOp3 for LayerNormGrad {
    fn name(&self) -> &'static str {
        "moravec-layer-norm-grad"
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
        let (x, w, g) = contiguous3((s1, l1), (s2, l2), (s3, l3))?;
        let (rows, d) = (self.rows, self.d);
        let blocks = rows.div_ceil(BLOCK).max(1);
        let mut packed = super::zeroed(rows * d + 2 * d);
        let (dx, dwb) = packed.split_at_mut(rows * d);
        let mut partial = super::zeroed(blocks * 2 * d);
        dx.par_chunks_mut(BLOCK * d)
            .zip(partial.par_chunks_mut(2 * d))
            .zip(x.par_chunks(BLOCK * d).zip(g.par_chunks(BLOCK * d)))
            .for_each(|((dx, part), (x, g))| {
                vectorised(
                    #[inline(always)]
                    || {
                        let (pw, pb) = part.split_at_mut(d);
                        let mut xhat = vec![0f32; d];
                        for ((dx, x), g) in dx.chunks_mut(d).zip(x.chunks(d)).zip(g.chunks(d)) {
                            let (mean, s) = moments(x);
                            let (mut m1, mut m2) = (0f32, 0f32);
                            for (((h, &x), &g), &w) in xhat.iter_mut().zip(x).zip(g).zip(w) {
                                *h = (x - mean) / s;
                                let dh = g * w;
                                m1 += dh;
                                m2 += dh * *h;
                            }
                            let (m1, m2) = (m1 / d as f32, m2 / d as f32);
                            for ((((dx, &h), &g), &w), (pw, pb)) in dx
                                .iter_mut()
                                .zip(&xhat)
                                .zip(g)
                                .zip(w)
                                .zip(pw.iter_mut().zip(pb.iter_mut()))
                            {
                                *dx = (g * w - m1 - h * m2) / s;
                                *pw += g * h;
                                *pb += g;
                            }
                        }
                    },
                )
            });
        for part in partial.chunks(2 * d) {
            for (o, &v) in dwb.iter_mut().zip(part) {
                *o += v;
            }
        }
        Ok((CpuStorage::F32(packed), Shape::from(rows * d + 2 * d)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;
    use crate::ops::testing::{assert_same_gradients, bits, max_diff, with_threads};

    #[test]
    fn matches_the_tensor_op_layer_norm_and_its_gradients() {
        let dev = Device::Cpu;
        // 600 rows of 3 x 200: several blocks, the last one partial.
        let x = Var::from_tensor(&Tensor::randn(1f32, 3.0, (3, 200, 24), &dev).unwrap()).unwrap();
        let w = Var::from_tensor(&Tensor::randn(1f32, 0.5, 24, &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.5, 24, &dev).unwrap()).unwrap();
        let up = Tensor::randn(0f32, 1.0, (3, 200, 24), &dev).unwrap();
        let ours = layer_norm(&x, &w, &b).unwrap();
        let theirs = normalise_ops(&x)
            .unwrap()
            .broadcast_mul(&w)
            .unwrap()
            .broadcast_add(&b)
            .unwrap();
        assert!(max_diff(&ours, &theirs) < 1e-5);
        assert_same_gradients(
            ours,
            theirs,
            &up,
            &[("x", &x), ("weight", &w), ("bias", &b)],
            1e-3,
        );
        let n = normalise(&x).unwrap();
        assert!(max_diff(&n, &normalise_ops(&x).unwrap()) < 1e-5);
    }

    #[test]
    fn bits_do_not_depend_on_the_thread_count() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (1000, 16), &dev).unwrap()).unwrap();
        let w = Var::from_tensor(&Tensor::randn(1f32, 0.5, 16, &dev).unwrap()).unwrap();
        let b =
            Var::from_tensor(&Tensor::zeros(16, candle_core::DType::F32, &dev).unwrap()).unwrap();
        let up = Tensor::randn(0f32, 1.0, (1000, 16), &dev).unwrap();
        let run = || {
            let g = (layer_norm(&x, &w, &b).unwrap() * &up)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            (bits(g.get(&x).unwrap()), bits(g.get(&w).unwrap()))
        };
        let one = with_threads(1, run);
        assert_eq!(one, run());
    }
}
