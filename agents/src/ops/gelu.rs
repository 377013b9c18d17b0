//! GELU (tanh approximation) as one fused pass forward and one backward.
//!
//! candle's own GELU builds its gradient from about ten whole-tensor ops, each allocating a
//! tensor as large as the activations; measured on a training step of the small JEPA it cost
//! about half the step. This computes the same function and its exact derivative element by
//! element, in parallel over chunks (each element alone, so the thread count changes no bit).
//! On devices other than the CPU it falls back to candle's.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::{CHUNK, contiguous, fused};
use crate::error::Result;

/// sqrt(2 / pi).
const K: f32 = 0.797_884_6;
/// The cubic coefficient of the tanh approximation.
const C: f32 = 0.044_715;

/// tanh through one exponential: libm's `tanh` is several times slower and this is the hot
/// loop of every MLP. Exact to float rounding; saturates cleanly for large |u|.
#[inline]
fn tanh(u: f32) -> f32 {
    let u = u.clamp(-15.0, 15.0);
    1.0 - 2.0 / ((2.0 * u).exp() + 1.0)
}

#[inline]
pub(crate) fn forward(x: f32) -> f32 {
    0.5 * x * (1.0 + tanh(K * (x + C * x * x * x)))
}

#[inline]
pub(crate) fn derivative(x: f32) -> f32 {
    let t = tanh(K * (x + C * x * x * x));
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * K * (1.0 + 3.0 * C * x * x)
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "moravec-gelu"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(storage, layout)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(o, x)| o.iter_mut().zip(x).for_each(|(o, &x)| *o = forward(x)));
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(arg.apply_op2_no_bwd(&grad.contiguous()?, &GeluGrad)?))
    }
}

/// gelu'(x) * grad, element by element.
struct GeluGrad;

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "moravec-gelu-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(s1, l1)?;
        let g = contiguous(s2, l2)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
            .for_each(|(o, (x, g))| {
                for ((o, &x), &g) in o.iter_mut().zip(x).zip(g) {
                    *o = derivative(x) * g;
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// GELU with the tanh approximation (the same function as candle's `Tensor::gelu`).
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if fused(&[x]) {
        Ok(x.contiguous()?.apply_op1(Gelu)?)
    } else {
        Ok(x.gelu()?)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    #[test]
    fn matches_candles_gelu_and_its_gradient() {
        let x = Var::from_tensor(&(Tensor::randn(0f32, 2.0, (37, 129), &Device::Cpu).unwrap()))
            .unwrap();
        let w = Tensor::randn(0f32, 1.0, (37, 129), &Device::Cpu).unwrap();
        let ours = gelu(x.as_tensor()).unwrap();
        let theirs = x.as_tensor().gelu().unwrap();
        let diff = (&ours - &theirs).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-5);
        let g_ours = (ours * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let g_theirs = (theirs * &w)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let (a, b) = (
            g_ours.get(x.as_tensor()).unwrap(),
            g_theirs.get(x.as_tensor()).unwrap(),
        );
        let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap();
        assert!(
            diff.to_scalar::<f32>().unwrap() < 1e-4,
            "gradients differ by {diff}"
        );
    }
}
