//! Mean squared and mean absolute differences of two tensors as one node of the autograd graph.
//!
//! `(a - b).sqr().mean_all()` is three graph nodes as large as the predictions, and its
//! backward pass about ten whole-tensor passes (candle's gradients of the mean, the square and
//! the difference, each allocating a zeroed gradient to add into). The pixel models' losses run
//! over every predicted pixel. Here the forward pass is one sum (per block of [`CHUNK`]
//! elements, the blocks in order, in f64) and the backward pass one element-wise pass; the
//! second argument gets a gradient only if it carries one (targets usually do not).

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::{CHUNK, contiguous, fused};
use crate::error::Result;

/// Which distance.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Squared,
    Absolute,
}

/// `mean((a - b)^2)` over all elements, a scalar.
pub fn mse(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    distance(a, b, Kind::Squared)
}

/// `mean(|a - b|)` over all elements, a scalar.
pub fn l1(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    distance(a, b, Kind::Absolute)
}

fn distance(a: &Tensor, b: &Tensor, kind: Kind) -> Result<Tensor> {
    if a.dims() != b.dims() {
        return Err(candle_core::Error::Msg(format!(
            "distance: shapes {:?} and {:?}",
            a.dims(),
            b.dims()
        ))
        .into());
    }
    if !fused(&[a, b]) {
        let diff = (a - b)?;
        let per = match kind {
            Kind::Squared => diff.sqr()?,
            Kind::Absolute => diff.abs()?,
        };
        return Ok(per.mean_all()?);
    }
    Ok(a.contiguous()?
        .apply_op2(&b.contiguous()?, Distance(kind))?)
}

struct Distance(Kind);

impl CustomOp2 for Distance {
    fn name(&self) -> &'static str {
        "moravec-distance"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (a, b) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let kind = self.0;
        let partial: Vec<f64> = a
            .par_chunks(CHUNK)
            .zip(b.par_chunks(CHUNK))
            .map(|(a, b)| {
                let s: f32 = a
                    .iter()
                    .zip(b)
                    .map(|(&a, &b)| match kind {
                        Kind::Squared => (a - b) * (a - b),
                        Kind::Absolute => (a - b).abs(),
                    })
                    .sum();
                s as f64
            })
            .collect();
        let mean = partial.iter().sum::<f64>() / a.len().max(1) as f64;
        Ok((CpuStorage::F32(vec![mean as f32]), Shape::from(())))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let g = grad.to_dtype(candle_core::DType::F32)?.to_scalar::<f32>()?;
        let op = DistanceGrad {
            kind: self.0,
            scale: g / a.elem_count().max(1) as f32,
            both: b.track_op(),
        };
        let all = a.apply_op2_no_bwd(b, &op)?;
        if !op.both {
            return Ok((Some(all), None));
        }
        let n = a.elem_count();
        let da = all.narrow(0, 0, n)?.reshape(a.shape())?;
        let db = all.narrow(0, n, n)?.reshape(b.shape())?;
        Ok((Some(da), Some(db)))
    }
}

/// The gradient of `a` (shaped as `a`), or of `a` and `b` one after the other (flat).
struct DistanceGrad {
    kind: Kind,
    /// The incoming gradient over the element count.
    scale: f32,
    both: bool,
}

impl CustomOp2 for DistanceGrad {
    fn name(&self) -> &'static str {
        "moravec-distance-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (a, b) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let (kind, scale) = (self.kind, self.scale);
        let da: Vec<f32> = a
            .par_iter()
            .with_min_len(CHUNK)
            .zip(b.par_iter())
            .map(|(&a, &b)| match kind {
                Kind::Squared => 2.0 * scale * (a - b),
                Kind::Absolute => scale * sign(a - b),
            })
            .collect();
        if !self.both {
            return Ok((CpuStorage::F32(da), l1.shape().clone()));
        }
        let mut all = Vec::with_capacity(2 * da.len());
        all.extend_from_slice(&da);
        all.extend(da.iter().map(|&v| -v));
        let len = all.len();
        Ok((CpuStorage::F32(all), Shape::from(len)))
    }
}

/// -1, 0 or 1 (the subgradient of |x| at 0 is taken as 0, as PyTorch does).
#[inline]
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;
    use crate::ops::testing::{max_diff, with_threads};

    #[test]
    fn match_the_unfused_losses_and_their_gradients() {
        let dev = Device::Cpu;
        let a = Var::from_tensor(&Tensor::randn(0f32, 1.0, (3, 7000), &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, (3, 7000), &dev).unwrap()).unwrap();
        for kind in [Kind::Squared, Kind::Absolute] {
            let ours = distance(&a, &b, kind).unwrap();
            let diff = (a.as_tensor() - b.as_tensor()).unwrap();
            let theirs = match kind {
                Kind::Squared => diff.sqr().unwrap(),
                Kind::Absolute => diff.abs().unwrap(),
            }
            .mean_all()
            .unwrap();
            assert!(max_diff(&ours, &theirs) < 1e-5);
            let scaled = |t: Tensor| (t * 3.0).unwrap().backward().unwrap();
            let (g1, g2) = (scaled(ours), scaled(theirs));
            for v in [&a, &b] {
                let d = max_diff(g1.get(v).unwrap(), g2.get(v).unwrap());
                assert!(d < 1e-7, "gradient differs by {d}");
            }
        }
        // A target without gradient gets none.
        let t = Tensor::randn(0f32, 1.0, (3, 7000), &dev).unwrap();
        let g = mse(&a, &t).unwrap().backward().unwrap();
        assert!(g.get(&t).is_none() && g.get(&a).is_some());
        assert!(mse(&a, &t.narrow(1, 0, 10).unwrap()).is_err());
    }

    #[test]
    fn the_sum_does_not_depend_on_the_thread_count() {
        let a = Tensor::randn(0f32, 1.0, 100_000, &Device::Cpu).unwrap();
        let b = Tensor::zeros(100_000, candle_core::DType::F32, &Device::Cpu).unwrap();
        let run = || mse(&a, &b).unwrap().to_scalar::<f32>().unwrap().to_bits();
        assert_eq!(with_threads(1, run), with_threads(2, run));
    }
}
