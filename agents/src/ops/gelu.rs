//! GELU (tanh approximation) as one fused pass forward and one backward.
//!
//! candle's own GELU builds its gradient from about ten whole-tensor ops, each allocating a
//! tensor as large as the activations; measured on a training step of the small JEPA it cost
//! about half the step. This computes the same function and its exact derivative element by
//! element, in parallel over chunks (each element alone, so the thread count changes no bit).
//! On devices other than the CPU it falls back to candle's.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::rows::{SumMiddle, map_added_rows};
use super::simd::vectorised;
use super::{CHUNK, contiguous, contiguous3, fused};
use crate::error::Result;

/// sqrt(2 / pi).
const K: f32 = 0.797_884_6;
/// The cubic coefficient of the tanh approximation.
const C: f32 = 0.044_715;
/// 2 K: tanh(K v) comes from e^(2 K v), and (2 K) v is 2 (K v) to the bit (scaling by two
/// commutes with rounding; where it would not, among subnormals, the exponential is 1 either
/// way), one multiplication fewer per element (tested).
const TWO_K: f32 = 2.0 * K;

/// `e^x` from a range reduction and a degree-6 polynomial (the Cephes single-precision
/// coefficients, within about one unit in the last place), written without branches or calls
/// so that the compiler vectorises the loops around it: libm's `expf` is a call per element,
/// and GELU over the widest activations was a third of the encoder's forward pass.
///
/// Only for `x` within `[-87, 88]`: no clamp, since its one caller, [`tanh_of_twice`], limits
/// its argument to `[-30, 30]` (a clamp here changed no bit and cost every GELU two
/// instructions).
#[inline]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that n * LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to the nearest integer, which then sits in the low bits.
    const ROUND: f32 = 12_582_912.0;
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    // The integer n without a float-to-int conversion (whose saturation is scalar code).
    let n_int = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits(((n_int + 127) as u32) << 23)
}

/// `x` limited to `[lo, hi]` as two selects (vectorisable; `f32::clamp` keeps NaN apart).
#[inline]
fn clamp(x: f32, lo: f32, hi: f32) -> f32 {
    let x = if x < lo { lo } else { x };
    if x > hi { hi } else { x }
}

/// tanh(u) through one exponential, from `w = 2 u`. Exact to float rounding of [`exp`];
/// saturates cleanly for large |u|.
#[inline]
fn tanh_of_twice(w: f32) -> f32 {
    let w = clamp(w, -30.0, 30.0);
    1.0 - 2.0 / (exp(w) + 1.0)
}

#[inline]
pub(crate) fn forward(x: f32) -> f32 {
    0.5 * x * (1.0 + tanh_of_twice(TWO_K * (x + C * x * x * x)))
}

#[inline]
pub(crate) fn derivative(x: f32) -> f32 {
    let t = tanh_of_twice(TWO_K * (x + C * x * x * x));
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
        let mut out = super::zeroed(x.len());
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(o, x)| {
                vectorised(
                    #[inline(always)]
                    || o.iter_mut().zip(x).for_each(|(o, &x)| *o = forward(x)),
                )
            });
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
        let mut out = super::zeroed(x.len());
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
            .for_each(|(o, (x, g))| {
                vectorised(
                    #[inline(always)]
                    || {
                        for ((o, &x), &g) in o.iter_mut().zip(x).zip(g) {
                            *o = derivative(x) * g;
                        }
                    },
                )
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

/// `gelu(x + b)` for `x [P, Q, R]` and rows `b [P, R]` added to each of the Q rows of their P:
/// the predictor's action term and activation as one node of the graph. The same numbers as
/// `gelu(add_rows(x, b))` to the bit, forward and backward, without the sum as a tensor of its
/// own (one pass over the widest activations less each way, and no gradient of it to
/// accumulate).
pub fn gelu_add_rows(x: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (p, q, r) = x.dims3()?;
    if b.dims2()? != (p, r) {
        return Err(candle_core::Error::Msg(format!(
            "gelu_add_rows: rows of shape {:?} added to [{p}, {q}, {r}]",
            b.dims()
        ))
        .into());
    }
    if !fused(&[x, b]) {
        return gelu(&super::add_rows(x, b)?);
    }
    Ok(x.contiguous()?
        .apply_op2(&b.contiguous()?, GeluAddRows { p, q, r })?)
}

/// `[P, Q, R]` and `[P, R]`; the rows handed to one task.
#[derive(Clone, Copy)]
struct GeluAddRows {
    p: usize,
    q: usize,
    r: usize,
}

impl CustomOp2 for GeluAddRows {
    fn name(&self) -> &'static str {
        "moravec-gelu-add-rows"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, b) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let out = map_added_rows(x, b, None, (self.q, self.r), |pre, _| forward(pre));
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let dpre = x.apply_op3_no_bwd(b, &grad.contiguous()?, &GeluAddRowsGrad(*self))?;
        let db = dpre.apply_op1_no_bwd(&SumMiddle {
            p: self.p,
            q: self.q,
            r: self.r,
        })?;
        Ok((Some(dpre), Some(db)))
    }
}

/// `gelu'(x + b) * grad`, the gradient of both x and (summed over Q) b.
struct GeluAddRowsGrad(GeluAddRows);

impl CustomOp3 for GeluAddRowsGrad {
    fn name(&self) -> &'static str {
        "moravec-gelu-add-rows-grad"
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
        let (x, b, g) = contiguous3((s1, l1), (s2, l2), (s3, l3))?;
        let out = map_added_rows(x, b, Some(g), (self.0.q, self.0.r), |pre, g| {
            derivative(pre) * g
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
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

    #[test]
    fn the_polynomial_exponential_is_within_a_few_ulps_of_libm() {
        let mut worst = 0f32;
        let mut x = -87f32;
        while x < 88.0 {
            let (ours, libm) = (exp(x), x.exp());
            worst = worst.max(((ours - libm) / libm).abs());
            x += 0.0137;
        }
        assert!(worst < 5e-7, "relative error {worst}");
        // tanh keeps the exponential's argument in its range: saturated, not NaN or infinite.
        for (u, t) in [(1e30, 1.0), (50.0, 1.0), (-50.0, -1.0), (-1e30, -1.0)] {
            assert_eq!(tanh_of_twice(2.0 * u), t, "tanh({u})");
        }
    }

    /// GELU and its derivative as first written, tanh(u) from e^(2u) with u = K v: the
    /// shortcut through [`TWO_K`] must give their bits (every trained model's numbers).
    #[test]
    fn twice_k_gives_the_bits_of_k_doubled() {
        fn tanh(u: f32) -> f32 {
            let u = clamp(u, -15.0, 15.0);
            1.0 - 2.0 / (exp(2.0 * u) + 1.0)
        }
        let forward_k = |x: f32| 0.5 * x * (1.0 + tanh(K * (x + C * x * x * x)));
        let derivative_k = |x: f32| {
            let t = tanh(K * (x + C * x * x * x));
            0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * K * (1.0 + 3.0 * C * x * x)
        };
        // Bit patterns across the whole range (subnormals, huge, infinite, NaN included) and
        // a dense sweep where GELU bends.
        let patterns = (0..=u32::MAX).step_by(40_009).map(f32::from_bits);
        let dense = (-80_000..80_000).map(|i| i as f32 * 1e-4);
        let special = [
            0.0,
            -0.0,
            1e-45,
            -1e-45,
            f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
        ];
        for x in patterns.chain(dense).chain(special) {
            assert_eq!(forward(x).to_bits(), forward_k(x).to_bits(), "GELU({x:e})");
            assert_eq!(
                derivative(x).to_bits(),
                derivative_k(x).to_bits(),
                "GELU'({x:e})"
            );
        }
    }

    #[test]
    fn gelu_add_rows_gives_the_bits_of_gelu_after_add_rows() {
        use crate::ops::add_rows;
        let dev = Device::Cpu;
        // 700 rows: several tasks and blocks, the last ones partial.
        for (p, q, r) in [(2, 700, 33), (3, 5, 7)] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 2.0, (p, q, r), &dev).unwrap()).unwrap();
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, (p, r), &dev).unwrap()).unwrap();
            let w = Tensor::randn(0f32, 1.0, (p, q, r), &dev).unwrap();
            let ours = gelu_add_rows(&x, &b).unwrap();
            let theirs = gelu(&add_rows(&x, &b).unwrap()).unwrap();
            let bits = crate::ops::testing::bits;
            assert_eq!(bits(&ours), bits(&theirs), "forward [{p}, {q}, {r}]");
            let g1 = (ours * &w).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (theirs * &w)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            for v in [&x, &b] {
                assert_eq!(bits(g1.get(v).unwrap()), bits(g2.get(v).unwrap()));
            }
        }
        let x = Tensor::zeros((2, 3, 4), candle_core::DType::F32, &dev).unwrap();
        let wrong = Tensor::zeros((3, 4), candle_core::DType::F32, &dev).unwrap();
        assert!(gelu_add_rows(&x, &wrong).is_err());
    }
}
