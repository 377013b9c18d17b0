//! Linear layers applied to tensors of any rank as one 2-D matrix product.
//!
//! candle-nn's `Linear` multiplies a rank-3 or rank-4 input by a weight broadcast over the
//! leading dimensions: a batched product of many small matrices whose backward pass builds a
//! weight gradient per batch entry and sums them. Folding the leading dimensions into rows makes
//! it one large product forward and backward.

use candle_core::{Module, Tensor};
use candle_nn::Linear;

use crate::error::Result;

/// `layer` applied to the last dimension of `x`, leading dimensions folded into rows.
pub(crate) fn dense(layer: &Linear, x: &Tensor) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let last = *dims.last().expect("a tensor of rank >= 1");
    let rows = x.elem_count() / last.max(1);
    let y = layer.forward(&x.contiguous()?.reshape((rows, last))?)?;
    let mut out = dims;
    *out.last_mut().expect("rank >= 1") = y.dim(1)?;
    Ok(y.reshape(out)?)
}
