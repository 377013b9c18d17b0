//! Element-wise loops compiled for the CPU's widest vector unit, chosen at run time.
//!
//! The workspace builds for the baseline x86-64 (SSE2, four floats per instruction) so that its
//! binaries run on any x86-64 machine. The gemm crate picks AVX2 + FMA at run time for the
//! matrix products; the element-wise passes (GELU and its derivative over the widest
//! activations) stayed at SSE2, and in the encoder's forward pass they took as long as its matrix
//! products. [`vectorised`] runs a loop inside a function compiled with AVX2 + FMA enabled when
//! the CPU has them (pulp's dispatch, the one gemm uses), so the compiler vectorises it eight
//! floats wide. Rust never contracts a multiply and an add into an FMA on its own, so every
//! element gets the same bits either way (tested below).

use pulp::{Arch, Simd, WithSimd};

/// A loop to run under the dispatch.
struct Loop<F>(F);

impl<F: FnOnce()> WithSimd for Loop<F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        (self.0)()
    }
}

/// Runs `body` (an element-wise loop over slices, with `#[inline]` element functions) compiled
/// for the best vector unit this CPU offers.
///
/// Write the closure `#[inline(always)] || ...`: the dispatch calls it from one function per
/// vector unit, and the compiler does not inline a closure with several callers on its own
/// accord once it is large (a GELU is), so its loop was compiled once, for SSE2, and called
/// from all of them. The planning predictor's GELUs ran four floats wide that way, a fifth of
/// its time (`perf annotate`), and so did two of the training ops'.
#[inline(always)]
pub(crate) fn vectorised(body: impl FnOnce()) {
    Arch::new().dispatch(Loop(body));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gelu::{derivative, forward};

    #[test]
    fn the_vector_unit_gives_the_scalar_bits() {
        let x: Vec<f32> = (0..4099).map(|i| (i as f32 - 2049.0) * 0.0061).collect();
        let mut fast = vec![0f32; x.len()];
        vectorised(
            #[inline(always)]
            || {
                for (o, &x) in fast.iter_mut().zip(&x) {
                    *o = forward(x) + derivative(x);
                }
            },
        );
        // The same loop without the dispatch (baseline instructions).
        let slow: Vec<f32> = x.iter().map(|&x| forward(x) + derivative(x)).collect();
        let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast), bits(&slow));
    }
}
