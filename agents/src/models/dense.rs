//! Linear layers applied to tensors of any rank as one 2-D matrix product.
//!
//! candle-nn's `Linear` multiplies a rank-3 or rank-4 input by a weight broadcast over the
//! leading dimensions: a batched product of many small matrices whose backward pass builds a
//! weight gradient per batch entry and sums them. [`crate::ops::linear`] folds the leading
//! dimensions into rows and is one node of the graph (bias included) forward and backward.

use candle_core::Tensor;
use candle_nn::Linear;

use crate::error::Result;
use crate::ops::{linear, mlp};

/// `layer` applied to the last dimension of `x`, leading dimensions folded into rows.
pub(crate) fn dense(layer: &Linear, x: &Tensor) -> Result<Tensor> {
    linear(x, layer.weight(), &bias(layer)?)
}

/// The layer's bias, or zeros for a layer without one.
fn bias(layer: &Linear) -> Result<Tensor> {
    match layer.bias() {
        Some(b) => Ok(b.clone()),
        None => {
            let w = layer.weight();
            Ok(Tensor::zeros(w.dim(0)?, w.dtype(), w.device())?)
        }
    }
}

/// `[x +] fc2(gelu(fc1(x)))` as one fused node ([`crate::ops::mlp`]).
pub(crate) fn perceptron(fc1: &Linear, fc2: &Linear, x: &Tensor, residual: bool) -> Result<Tensor> {
    mlp(
        x,
        (fc1.weight(), &bias(fc1)?),
        (fc2.weight(), &bias(fc2)?),
        residual,
    )
}
