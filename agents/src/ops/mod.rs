//! Fused CPU kernels for the handful of operations where candle's generic path dominates a
//! training step: GELU, linear layers, broadcast additions whose gradient is a sum over rows, and
//! LayerNorm.
//!
//! candle computes the gradient of a broadcast addition with a reduction that walks every
//! element with a division per dimension on one thread; on the small JEPA that alone was a
//! quarter of a training step (the bias of every linear layer, the position embedding, the
//! action embedding). These kernels are CustomOps with their own backward passes. Every sum is
//! taken over fixed blocks of rows, in order, so the result does not depend on the number of
//! threads. On other devices each falls back to the plain candle expression.

mod context_linear;
mod distance;
mod gelu;
mod gemm;
mod layer_norm;
mod linear;
mod mlp;
mod rows;
mod simd;
#[cfg(test)]
mod testing;
mod token_mix;

pub use context_linear::{context_linear, window_linear};
pub use distance::{l1, mse};
pub use gelu::{gelu, gelu_add_rows};
pub use layer_norm::{layer_norm, normalise};
pub use linear::linear;
pub use mlp::mlp;
pub use rows::{add_rows, column_mean, column_sum, sum_middle};
pub use token_mix::token_mix;

/// The kernels under the ops, for code that runs a whole computation outside the graph (the
/// frozen predictor) with the same arithmetic.
pub(crate) mod kernels {
    pub(crate) use super::gelu::forward as gelu_forward;
    pub(crate) use super::gemm::{View, gemm_serial};
    pub(crate) use super::simd::vectorised;
}

use candle_core::{CpuStorage, Layout, Tensor};
use rayon::prelude::*;

/// Elements per parallel task of the element-wise kernels.
pub(crate) const CHUNK: usize = 1 << 14;

/// Rows summed in order by one task before the per-block partial sums are added, in order.
pub(crate) const BLOCK: usize = 256;

/// The `f32` elements of a contiguous CPU tensor.
pub(crate) fn contiguous<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
) -> candle_core::Result<&'a [f32]> {
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("moravec op: non-contiguous input".into()))?;
    Ok(&storage.as_slice::<f32>()?[start..end])
}

/// The `f32` elements of the three contiguous inputs of a `CustomOp3`.
pub(crate) fn contiguous3<'a>(
    (s1, l1): (&'a CpuStorage, &Layout),
    (s2, l2): (&'a CpuStorage, &Layout),
    (s3, l3): (&'a CpuStorage, &Layout),
) -> candle_core::Result<(&'a [f32], &'a [f32], &'a [f32])> {
    Ok((
        contiguous(s1, l1)?,
        contiguous(s2, l2)?,
        contiguous(s3, l3)?,
    ))
}

/// Whether the fused CPU kernels apply to these tensors.
pub(crate) fn fused(tensors: &[&Tensor]) -> bool {
    tensors
        .iter()
        .all(|t| t.device().is_cpu() && t.dtype() == candle_core::DType::F32)
}

/// `len` zeros, written in parallel. `vec![0.0; len]` zeroes on the calling thread (the allocator
/// keeps freed memory committed, so it cannot hand out pages the kernel zeroed): when planning,
/// where every layer's output is fresh memory, that serial `memset` took an eighth of the time
/// while the other core waited.
pub(crate) fn zeroed(len: usize) -> Vec<f32> {
    zeroed_with_spare(len, 0)
}

/// [`zeroed`], with room for `spare` more numbers after the `len` zeros. Buffers under
/// [`CHUNK`] are zeroed in place: splitting them across threads would cost more than it saves.
pub(crate) fn zeroed_with_spare(len: usize, spare: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(len + spare);
    if len < CHUNK {
        out.resize(len, 0f32);
    } else {
        out.par_extend(rayon::iter::repeat_n(0f32, len));
    }
    out
}

/// `bias` repeated `copies` times, written in parallel: the output of a layer whose product is
/// then accumulated onto it. (Writing fresh memory faults its pages in; on one thread that was
/// a tenth of the widest layer's time.)
pub(crate) fn repeat_rows(bias: &[f32], copies: usize) -> Vec<f32> {
    let len = bias.len();
    let mut out = zeroed(copies * len);
    if len == 0 {
        return out;
    }
    let per_task = (CHUNK / len).max(1) * len;
    out.par_chunks_mut(per_task).for_each(|chunk| {
        for row in chunk.chunks_mut(len) {
            row.copy_from_slice(bias);
        }
    });
    out
}
