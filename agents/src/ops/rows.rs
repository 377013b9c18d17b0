//! Broadcast additions over rows and sums over rows, with gradients that are fast to compute.
//!
//! `add_rows` is the bias of a linear layer, the position embedding of the encoder and the
//! action embedding of the predictor; its gradient with respect to the added rows is
//! `sum_middle` of the incoming gradient, taken per block of [`BLOCK`] rows and then over the
//! blocks, in order, so that the bits do not depend on the thread count.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::simd::vectorised;
use super::{BLOCK, CHUNK, contiguous, fused};
use crate::error::Result;

/// `x [P, Q, R] + b [P, R]`, `b` added to each of the Q rows of its P.
pub fn add_rows(x: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (p, q, r) = x.dims3()?;
    let (bp, br) = b.dims2()?;
    if (bp, br) != (p, r) {
        return Err(candle_core::Error::Msg(format!(
            "add_rows: rows of shape [{bp}, {br}] added to [{p}, {q}, {r}]"
        ))
        .into());
    }
    if fused(&[x, b]) {
        Ok(x.contiguous()?
            .apply_op2(&b.contiguous()?, AddRows { p, q, r })?)
    } else {
        Ok(x.broadcast_add(&b.unsqueeze(1)?)?)
    }
}

/// `x [P, Q, R]` summed over Q: `[P, R]`.
pub fn sum_middle(x: &Tensor) -> Result<Tensor> {
    let (p, q, r) = x.dims3()?;
    if fused(&[x]) {
        Ok(x.contiguous()?.apply_op1(SumMiddle { p, q, r })?)
    } else {
        Ok(x.sum(1)?)
    }
}

/// `z [N, D]` summed over its rows: `[D]`.
pub fn column_sum(z: &Tensor) -> Result<Tensor> {
    let (n, d) = z.dims2()?;
    Ok(sum_middle(&z.reshape((1, n, d))?)?.reshape(d)?)
}

/// `z [N, D]` averaged over its rows: `[D]`.
pub fn column_mean(z: &Tensor) -> Result<Tensor> {
    let n = z.dim(0)?;
    Ok((column_sum(z)? / n as f64)?)
}

/// `out = f(x + b, extra)` element by element, for `x [P, Q, R]` with the rows `b [P, R]` added
/// to each of the Q rows of their P, and `extra` shaped as `x` (`x` itself when `None`); in
/// parallel over tasks of whole rows, each loop compiled for the CPU's vector unit.
pub(crate) fn map_added_rows(
    x: &[f32],
    b: &[f32],
    extra: Option<&[f32]>,
    (q, r): (usize, usize),
    f: impl Fn(f32, f32) -> f32 + Sync,
) -> Vec<f32> {
    let rows_per_task = (CHUNK / r.max(1)).max(1);
    let extra = extra.unwrap_or(x);
    let mut out = super::zeroed(x.len());
    out.par_chunks_mut(rows_per_task * r)
        .zip(
            x.par_chunks(rows_per_task * r)
                .zip(extra.par_chunks(rows_per_task * r)),
        )
        .enumerate()
        .for_each(|(task, (o, (x, e)))| {
            let first = task * rows_per_task;
            vectorised(
                #[inline(always)]
                || {
                    for (i, ((o, x), e)) in o
                        .chunks_mut(r)
                        .zip(x.chunks(r))
                        .zip(e.chunks(r))
                        .enumerate()
                    {
                        let b = &b[((first + i) / q) * r..][..r];
                        for (((o, &x), &e), &b) in o.iter_mut().zip(x).zip(e).zip(b) {
                            *o = f(x + b, e);
                        }
                    }
                },
            )
        });
    out
}

struct AddRows {
    p: usize,
    q: usize,
    r: usize,
}

impl CustomOp2 for AddRows {
    fn name(&self) -> &'static str {
        "moravec-add-rows"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, b) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let out = map_added_rows(x, b, None, (self.q, self.r), |sum, _| sum);
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let db = grad.apply_op1_no_bwd(&SumMiddle {
            p: self.p,
            q: self.q,
            r: self.r,
        })?;
        Ok((Some(grad), Some(db)))
    }
}

/// `[P, Q, R]` summed over Q.
pub(crate) struct SumMiddle {
    pub p: usize,
    pub q: usize,
    pub r: usize,
}

/// Per block of rows, in order; then over the blocks, in order.
pub(crate) fn sum_middle_cpu(x: &[f32], p: usize, q: usize, r: usize) -> Vec<f32> {
    let blocks = q.div_ceil(BLOCK).max(1);
    let mut partial = super::zeroed(p * blocks * r);
    partial
        .par_chunks_mut(r.max(1))
        .enumerate()
        .for_each(|(i, acc)| {
            let (pi, bi) = (i / blocks, i % blocks);
            vectorised(
                #[inline(always)]
                || {
                    for qi in bi * BLOCK..((bi + 1) * BLOCK).min(q) {
                        let row = &x[(pi * q + qi) * r..][..r];
                        for (a, &v) in acc.iter_mut().zip(row) {
                            *a += v;
                        }
                    }
                },
            )
        });
    if blocks == 1 {
        return partial;
    }
    let mut out = super::zeroed(p * r);
    out.par_chunks_mut(r.max(1))
        .enumerate()
        .for_each(|(pi, o)| {
            for bi in 0..blocks {
                let part = &partial[(pi * blocks + bi) * r..][..r];
                for (o, &v) in o.iter_mut().zip(part) {
                    *o += v;
                }
            }
        });
    out
}

impl CustomOp1 for SumMiddle {
    fn name(&self) -> &'static str {
        "moravec-sum-middle"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous(storage, layout)?;
        let out = sum_middle_cpu(x, self.p, self.q, self.r);
        Ok((CpuStorage::F32(out), Shape::from((self.p, self.r))))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(
            grad.unsqueeze(1)?
                .broadcast_as((self.p, self.q, self.r))?
                .contiguous()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;
    use crate::ops::testing::{max_diff, with_threads};

    #[test]
    fn add_rows_and_its_gradients_match_candles_broadcast() {
        let dev = Device::Cpu;
        // 700 rows: several blocks, the last one partial.
        for (p, q, r) in [(1, 700, 5), (3, 7, 33), (4, 1, 2)] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (p, q, r), &dev).unwrap()).unwrap();
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, (p, r), &dev).unwrap()).unwrap();
            let w = Tensor::randn(0f32, 1.0, (p, q, r), &dev).unwrap();
            let ours = add_rows(&x, &b).unwrap();
            let theirs = x.broadcast_add(&b.unsqueeze(1).unwrap()).unwrap();
            assert_eq!(max_diff(&ours, &theirs), 0.0, "forward [{p}, {q}, {r}]");
            let g1 = (ours * &w).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (theirs * &w)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            assert_eq!(max_diff(g1.get(&x).unwrap(), g2.get(&x).unwrap()), 0.0);
            let db = max_diff(g1.get(&b).unwrap(), g2.get(&b).unwrap());
            assert!(
                db < 1e-3,
                "bias gradient of [{p}, {q}, {r}] differs by {db}"
            );
        }
    }

    #[test]
    fn column_sum_and_mean_match_candles_and_do_not_depend_on_threads() {
        let z = Tensor::randn(0f32, 1.0, (1000, 17), &Device::Cpu).unwrap();
        let ours = column_sum(&z).unwrap();
        assert!(max_diff(&ours, &z.sum(0).unwrap()) < 1e-3);
        assert!(max_diff(&column_mean(&z).unwrap(), &z.mean(0).unwrap()) < 1e-5);
        let one = with_threads(1, || column_sum(&z).unwrap());
        let a: Vec<u32> = ours
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let b: Vec<u32> = one
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn sum_middle_gradient_is_the_broadcast_gradient() {
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (2, 300, 3), &Device::Cpu).unwrap())
            .unwrap();
        let w = Tensor::randn(0f32, 1.0, (2, 3), &Device::Cpu).unwrap();
        let g = (sum_middle(&x).unwrap() * &w)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let expected = w.unsqueeze(1).unwrap().broadcast_as((2, 300, 3)).unwrap();
        assert_eq!(max_diff(g.get(&x).unwrap(), &expected), 0.0);
    }
}
