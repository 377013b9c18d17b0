//! VICReg (Bardes, Ponce, LeCun 2022), computed exactly as facebookresearch/vicreg does:
//! invariance = MSE(x, y); each branch centred, std = sqrt(unbiased var + 1e-4), variance =
//! mean(relu(1 - std)) averaged over the branches; covariance = squared off-diagonal entries of
//! x^T x / (n - 1) summed and divided by the dimension, summed over the branches.

use candle_core::Tensor;

use crate::error::Result;
use crate::ops::{add_rows, column_mean, column_sum};

/// Weight of the invariance term.
pub const SIM_COEFF: f64 = 25.0;
/// Weight of the variance term.
pub const STD_COEFF: f64 = 25.0;
/// Weight of the covariance term.
pub const COV_COEFF: f64 = 1.0;

/// The three VICReg terms and their weighted sum, as scalar tensors.
pub struct VicregTerms {
    /// MSE between the branches.
    pub invariance: Tensor,
    /// Hinge on the per-dimension standard deviation.
    pub variance: Tensor,
    /// Off-diagonal covariance.
    pub covariance: Tensor,
    /// `25 * invariance + 25 * variance + 1 * covariance`.
    pub total: Tensor,
}

/// VICReg of two `[n, d]` batches of embeddings.
pub fn vicreg(x: &Tensor, y: &Tensor) -> Result<VicregTerms> {
    let invariance = (x - y)?.sqr()?.mean_all()?;
    let (var_x, cov_x) = variance_covariance(x)?;
    let (var_y, cov_y) = variance_covariance(y)?;
    let variance = ((var_x + var_y)? * 0.5)?;
    let covariance = (cov_x + cov_y)?;
    let total =
        ((&invariance * SIM_COEFF)? + (&variance * STD_COEFF)? + (&covariance * COV_COEFF)?)?;
    Ok(VicregTerms {
        invariance,
        variance,
        covariance,
        total,
    })
}

/// The variance hinge and the covariance penalty of one `[n, d]` branch.
pub fn variance_covariance(z: &Tensor) -> Result<(Tensor, Tensor)> {
    let (n, d) = z.dims2()?;
    // Column sums through `ops`: candle's reductions over rows, and the gradient of a broadcast
    // subtraction, walk the matrix element by element on one thread.
    let neg_mean = column_mean(z)?.neg()?.reshape((1, d))?;
    let z = add_rows(&z.reshape((1, n, d))?, &neg_mean)?.reshape((n, d))?;
    let var = (column_sum(&z.sqr()?)? / (n as f64 - 1.0))?;
    let std = (&var + 1e-4)?.sqrt()?;
    let variance = (1.0 - std)?.relu()?.mean_all()?;
    let cov = (z.t()?.matmul(&z)? / (n as f64 - 1.0))?;
    let diag = cov.sqr()?.sum_all()?;
    let on_diag = (var.sqr()?).sum_all()?;
    let covariance = ((diag - on_diag)? / d as f64)?;
    Ok((variance, covariance))
}
