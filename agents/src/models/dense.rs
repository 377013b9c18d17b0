//! Linear layers applied to tensors of any rank as one 2-D matrix product.
//!
//! candle-nn's `Linear` multiplies a rank-3 or rank-4 input by a weight broadcast over the
//! leading dimensions: a batched product of many small matrices whose backward pass builds a
//! weight gradient per batch entry and sums them. [`crate::ops::linear`] folds the leading
//! dimensions into rows and is one node of the graph (bias included) forward and backward.

use candle_core::Tensor;
use candle_nn::Linear;

use crate::error::Result;
use crate::ops::linear;

/// `layer` applied to the last dimension of `x`, leading dimensions folded into rows.
pub(crate) fn dense(layer: &Linear, x: &Tensor) -> Result<Tensor> {
    match layer.bias() {
        Some(bias) => linear(x, layer.weight(), bias),
        None => {
            let zeros = Tensor::zeros(layer.weight().dim(0)?, x.dtype(), x.device())?;
            linear(x, layer.weight(), &zeros)
        }
    }
}
