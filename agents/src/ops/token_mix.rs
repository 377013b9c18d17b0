//! The predictor's token-mixing layer `h + gelu(W h + b)` as one node of the autograd graph.
//!
//! Tokens exchange information by a learned `N x N` matrix applied to each batch entry's
//! `[N, H]` grid. Written from candle's ops that is a transpose, a copy, a linear layer, a
//! transpose back, another copy, a GELU and an addition: seven graph nodes per rollout step,
//! each paying a zeroed gradient and an addition in the backward pass. Here each batch entry
//! is one small product (the entries run in parallel, each product on one thread, so the
//! thread count changes no bit), and the gradients of W and b are summed over the batch in
//! order.

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::gelu::{derivative, forward};
use super::gemm::{View, gemm_serial};
use super::simd::vectorised;
use super::{contiguous, contiguous3, fused};
use crate::error::Result;

/// `h + gelu(W h_b + b)` for every batch entry `h_b [N, H]` of `h [B, N, H]`, with
/// `w [N, N]` and `b [N]` (one bias per output token).
pub fn token_mix(h: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (batch, n, hidden) = h.dims3()?;
    if w.dims() != [n, n] || b.dims() != [n] {
        return Err(candle_core::Error::Msg(format!(
            "token_mix: input {:?} against W {:?} and b {:?}",
            h.dims(),
            w.dims(),
            b.dims()
        ))
        .into());
    }
    if !fused(&[h, w, b]) {
        let mixed = h
            .transpose(1, 2)?
            .broadcast_matmul(&w.t()?)?
            .broadcast_add(b)?
            .transpose(1, 2)?;
        return Ok((h + super::gelu(&mixed.contiguous()?)?)?);
    }
    let packed = Tensor::cat(&[&w.flatten_all()?, &b.contiguous()?], 0)?;
    Ok(h.contiguous()?.apply_op2(
        &packed,
        Mix {
            dims: (batch, n, hidden),
            saved: Arc::new(Mutex::new(None)),
        },
    )?)
}

/// The pre-activation `W h_b + b`, kept from the forward pass.
type Saved = Arc<Mutex<Option<Vec<f32>>>>;

struct Mix {
    dims: (usize, usize, usize),
    saved: Saved,
}

impl CustomOp2 for Mix {
    fn name(&self) -> &'static str {
        "moravec-token-mix"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (h, p) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let (_, n, hid) = self.dims;
        let (w, b) = p.split_at(n * n);
        let mut pre = super::zeroed(h.len());
        let mut out = super::zeroed(h.len());
        pre.par_chunks_mut(n * hid)
            .zip(out.par_chunks_mut(n * hid))
            .zip(h.par_chunks(n * hid))
            .for_each(|((pre, out), h)| {
                for (row, &bias) in pre.chunks_mut(hid).zip(b) {
                    row.fill(bias);
                }
                gemm_serial(pre, View::rows(w, n, n), View::rows(h, n, hid), true);
                vectorised(
                    #[inline(always)]
                    || {
                        for ((o, &p), &h) in out.iter_mut().zip(pre.iter()).zip(h) {
                            *o = h + forward(p);
                        }
                    },
                );
            });
        *self.saved.lock().expect("token_mix: poisoned") = Some(pre);
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        h: &Tensor,
        packed: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let all = h.apply_op3_no_bwd(
            packed,
            &grad.contiguous()?,
            &MixGrad {
                dims: self.dims,
                saved: self.saved.clone(),
            },
        )?;
        let len = h.elem_count();
        let dh = all.narrow(0, 0, len)?.reshape(h.shape())?;
        let dp = all.narrow(0, len, packed.elem_count())?;
        Ok((Some(dh), Some(dp)))
    }
}

/// The gradients of h and of the packed (W, b), packed `[B N H + N N + N]`.
struct MixGrad {
    dims: (usize, usize, usize),
    saved: Saved,
}

impl CustomOp3 for MixGrad {
    fn name(&self) -> &'static str {
        "moravec-token-mix-grad"
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
        let (h, p, g) = contiguous3((s1, l1), (s2, l2), (s3, l3))?;
        let (batch, n, hid) = self.dims;
        let w = &p[..n * n];
        let saved = self.saved.lock().expect("token_mix: poisoned");
        let pre = saved
            .as_ref()
            .ok_or_else(|| candle_core::Error::Msg("token_mix: backward before forward".into()))?;
        let mut out = super::zeroed(h.len() + n * n + n);
        let (dh, dp) = out.split_at_mut(h.len());
        // Per batch entry: dh_b = g_b + W^T da_b, and its own dW_b = da_b h_b^T and db_b.
        let mut partial = super::zeroed(batch * (n * n + n));
        dh.par_chunks_mut(n * hid)
            .zip(partial.par_chunks_mut(n * n + n))
            .zip(h.par_chunks(n * hid))
            .zip(g.par_chunks(n * hid).zip(pre.par_chunks(n * hid)))
            .for_each(|(((dh, part), h), (g, pre))| {
                let mut da = super::zeroed(g.len());
                vectorised(
                    #[inline(always)]
                    || {
                        for ((da, &g), &p) in da.iter_mut().zip(g).zip(pre) {
                            *da = g * derivative(p);
                        }
                    },
                );
                dh.copy_from_slice(g);
                gemm_serial(dh, View::rows(w, n, n).t(), View::rows(&da, n, hid), true);
                let (dw, db) = part.split_at_mut(n * n);
                gemm_serial(
                    dw,
                    View::rows(&da, n, hid),
                    View::rows(h, n, hid).t(),
                    false,
                );
                for (db, row) in db.iter_mut().zip(da.chunks(hid)) {
                    *db = row.iter().sum();
                }
            });
        for part in partial.chunks(n * n + n) {
            for (o, &v) in dp.iter_mut().zip(part) {
                *o += v;
            }
        }
        Ok((CpuStorage::F32(out), Shape::from(h.len() + n * n + n)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::ops::testing::{assert_same_gradients, bits, max_diff, var, with_threads};

    #[test]
    fn matches_the_unfused_layers_and_their_gradients() {
        let (h, w, b) = (var(&[5, 9, 13], 1.0), var(&[9, 9], 0.4), var(&[9], 0.4));
        let up = Tensor::randn(0f32, 1.0, (5, 9, 13), &Device::Cpu).unwrap();
        let ours = token_mix(&h, &w, &b).unwrap();
        let mixed = h
            .transpose(1, 2)
            .unwrap()
            .broadcast_matmul(&w.t().unwrap())
            .unwrap()
            .broadcast_add(&b)
            .unwrap()
            .transpose(1, 2)
            .unwrap();
        let theirs =
            (h.as_tensor() + crate::ops::gelu(&mixed.contiguous().unwrap()).unwrap()).unwrap();
        assert!(max_diff(&ours, &theirs) < 1e-5);
        assert_same_gradients(ours, theirs, &up, &[("h", &h), ("w", &w), ("b", &b)], 1e-3);
    }

    #[test]
    fn bits_do_not_depend_on_the_thread_count() {
        let (h, w, b) = (
            var(&[16, 64, 256], 1.0),
            var(&[64, 64], 0.1),
            var(&[64], 0.1),
        );
        let up = Tensor::randn(0f32, 1.0, (16, 64, 256), &Device::Cpu).unwrap();
        let run = || {
            let y = token_mix(&h, &w, &b).unwrap();
            let g = (&y * &up).unwrap().sum_all().unwrap().backward().unwrap();
            let mut all = vec![bits(&y)];
            all.extend([&h, &w, &b].map(|v| bits(g.get(v).unwrap())));
            all
        };
        assert!(with_threads(1, run) == with_threads(2, run));
    }
}
