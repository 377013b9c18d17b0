//! A linear layer `x W^T + b` over the last dimension of a tensor of any rank, as one node of
//! the autograd graph.
//!
//! Written from candle's ops it is a reshape, a matrix product, a broadcast addition and a
//! reshape back: four graph nodes as large as the activations, and candle's backward pass
//! allocates a zeroed gradient and adds into it for every node. Here the bias is written into
//! the output and the product accumulated onto it by the gemm kernels; the backward pass is two
//! products (input and weight gradients, the latter on transposed views without copies) and a
//! sum over rows in fixed blocks.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};

use super::gemm::{View, gemm_into};
use super::rows::SumMiddle;
use super::{contiguous, contiguous3, fused, repeat_rows};
use crate::error::Result;

/// `x [..., in] W^T + b`, with `weight [out, in]` and `bias [out]`, or `bias [T, out]` whose
/// rows repeat with period T down the rows of `x` (T divides them): a per-token bias such as
/// a position embedding folded into the layer.
pub fn linear(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let (out, inp) = weight.dims2()?;
    let dims = x.dims().to_vec();
    let last = *dims.last().expect("a tensor of rank >= 1");
    let rows = x.elem_count() / inp.max(1);
    let period = match bias.dims() {
        [o] if *o == out => 1,
        [t, o] if *o == out && *t > 0 && rows.is_multiple_of(*t) => *t,
        _ => usize::MAX,
    };
    if last != inp || period == usize::MAX {
        return Err(candle_core::Error::Msg(format!(
            "linear: input {:?} against weight [{out}, {inp}] and bias {:?}",
            dims,
            bias.dims()
        ))
        .into());
    }
    let mut out_dims = dims;
    *out_dims.last_mut().expect("rank >= 1") = out;
    if fused(&[x, weight, bias]) {
        Ok(x.contiguous()?.apply_op3(
            &weight.contiguous()?,
            &bias.contiguous()?,
            Linear {
                rows,
                inp,
                out,
                period,
                shape: Shape::from(out_dims),
            },
        )?)
    } else {
        let y = x
            .contiguous()?
            .reshape((rows / period, period, inp))?
            .broadcast_matmul(&weight.t()?)?
            .broadcast_add(bias)?;
        Ok(y.reshape(out_dims)?)
    }
}

struct Linear {
    rows: usize,
    inp: usize,
    out: usize,
    /// Rows of the bias, repeated down the rows of the output.
    period: usize,
    shape: Shape,
}

impl CustomOp3 for Linear {
    fn name(&self) -> &'static str {
        "moravec-linear"
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
        let (rows, inp, out) = (self.rows, self.inp, self.out);
        let mut y = repeat_rows(b, rows / self.period);
        gemm_into(
            &mut y,
            View::rows(x, rows, inp),
            View::rows(w, out, inp).t(),
            true,
        );
        Ok((CpuStorage::F32(y), self.shape.clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (rows, inp, out) = (self.rows, self.inp, self.out);
        let grad = grad.contiguous()?;
        // An input that carries no gradient (pixels, say) gets none: candle would add it into
        // a zeroed tensor, after a product as large as the layer's own.
        let dx = if x.track_op() {
            Some(grad.apply_op2_no_bwd(
                w,
                &InputGrad {
                    rows,
                    inp,
                    out,
                    shape: x.shape().clone(),
                },
            )?)
        } else {
            None
        };
        let dw = grad.apply_op2_no_bwd(x, &WeightGrad { rows, inp, out })?;
        let period = self.period;
        let db = grad
            .apply_op1_no_bwd(&SumMiddle {
                p: 1,
                q: rows / period,
                r: period * out,
            })?
            .reshape(b.shape())?;
        Ok((dx, Some(dw), Some(db)))
    }
}

/// `grad [rows, out] W [out, in]`.
struct InputGrad {
    rows: usize,
    inp: usize,
    out: usize,
    shape: Shape,
}

impl CustomOp2 for InputGrad {
    fn name(&self) -> &'static str {
        "moravec-linear-input-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (g, w) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let mut dx = super::zeroed(self.rows * self.inp);
        gemm_into(
            &mut dx,
            View::rows(g, self.rows, self.out),
            View::rows(w, self.out, self.inp),
            false,
        );
        Ok((CpuStorage::F32(dx), self.shape.clone()))
    }
}

/// `grad^T [out, rows] x [rows, in]`.
struct WeightGrad {
    rows: usize,
    inp: usize,
    out: usize,
}

impl CustomOp2 for WeightGrad {
    fn name(&self) -> &'static str {
        "moravec-linear-weight-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (g, x) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let mut dw = super::zeroed(self.out * self.inp);
        gemm_into(
            &mut dw,
            View::rows(g, self.rows, self.out).t(),
            View::rows(x, self.rows, self.inp),
            false,
        );
        Ok((CpuStorage::F32(dw), Shape::from((self.out, self.inp))))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;
    use crate::ops::testing::{assert_same_gradients, bits, max_diff, with_threads};

    #[test]
    fn matches_candles_linear_and_its_gradients() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (3, 37, 19), &dev).unwrap()).unwrap();
        let w = Var::from_tensor(&Tensor::randn(0f32, 0.3, (23, 19), &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.3, 23, &dev).unwrap()).unwrap();
        let up = Tensor::randn(0f32, 1.0, (3, 37, 23), &dev).unwrap();
        let ours = linear(&x, &w, &b).unwrap();
        assert_eq!(ours.dims(), [3, 37, 23]);
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
            &[("x", &x), ("weight", &w), ("bias", &b)],
            1e-4,
        );
    }

    #[test]
    fn bits_do_not_depend_on_the_thread_count() {
        let dev = Device::Cpu;
        // Large enough for gemm to split the work between threads.
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (3000, 64), &dev).unwrap()).unwrap();
        let w = Var::from_tensor(&Tensor::randn(0f32, 0.1, (256, 64), &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.1, 256, &dev).unwrap()).unwrap();
        let up = Tensor::randn(0f32, 1.0, (3000, 256), &dev).unwrap();
        let run = || {
            let y = linear(&x, &w, &b).unwrap();
            let g = (&y * &up).unwrap().sum_all().unwrap().backward().unwrap();
            [
                bits(&y),
                bits(g.get(&x).unwrap()),
                bits(g.get(&w).unwrap()),
                bits(g.get(&b).unwrap()),
            ]
        };
        let one = with_threads(1, run);
        let two = with_threads(2, run);
        assert!(one == two, "linear depends on the thread count");
    }

    #[test]
    fn a_bias_of_several_rows_repeats_down_the_rows() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (5, 7, 3), &dev).unwrap()).unwrap();
        let w = Var::from_tensor(&Tensor::randn(0f32, 0.3, (4, 3), &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.3, (7, 4), &dev).unwrap()).unwrap();
        let up = Tensor::randn(0f32, 1.0, (5, 7, 4), &dev).unwrap();
        let ours = linear(&x, &w, &b).unwrap();
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
            &[("x", &x), ("weight", &w), ("bias", &b)],
            1e-4,
        );
        let bad = Tensor::zeros((6, 4), candle_core::DType::F32, &dev).unwrap();
        assert!(
            linear(&x, &w, &bad).is_err(),
            "35 rows do not repeat a bias of 6"
        );
    }

    #[test]
    fn an_input_without_gradient_gets_none_and_the_weights_theirs() {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (50, 6), &dev).unwrap();
        let w = Var::from_tensor(&Tensor::randn(0f32, 0.3, (4, 6), &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.3, 4, &dev).unwrap()).unwrap();
        let up = Tensor::randn(0f32, 1.0, (50, 4), &dev).unwrap();
        let ours = linear(&x, &w, &b).unwrap();
        let theirs = x
            .matmul(&w.t().unwrap())
            .unwrap()
            .broadcast_add(&b)
            .unwrap();
        let g1 = (ours * &up).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (theirs * &up)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert!(g1.get(&x).is_none(), "pixels got a gradient");
        assert!(max_diff(g1.get(&w).unwrap(), g2.get(&w).unwrap()) < 1e-4);
        assert!(max_diff(g1.get(&b).unwrap(), g2.get(&b).unwrap()) < 1e-4);
    }

    #[test]
    fn rejects_mismatched_shapes() {
        let dev = Device::Cpu;
        let x = Tensor::zeros((4, 5), candle_core::DType::F32, &dev).unwrap();
        let w = Tensor::zeros((3, 6), candle_core::DType::F32, &dev).unwrap();
        let b = Tensor::zeros(3, candle_core::DType::F32, &dev).unwrap();
        assert!(linear(&x, &w, &b).is_err());
    }
}
