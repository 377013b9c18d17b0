//! A bounds-checked entry into the gemm crate, the matrix kernels candle itself runs on the CPU.
//!
//! The fused linear layer needs products of transposed views written straight into its
//! output (with the bias already there); candle's `matmul` gives neither from inside a
//! CustomOp. This is the crate's one `unsafe` block: every offset the kernel may touch is
//! checked against the slices first.

#![allow(unsafe_code)]

use gemm::Parallelism;

/// A read-only matrix view: element `(i, j)` at `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a> View<'a> {
    /// A row-major `rows x cols` matrix.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose, without moving anything.
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len()
    }
}

/// `dst = lhs * rhs` (or `dst += lhs * rhs` when `accumulate`), `dst` row-major
/// `lhs.rows x rhs.cols`.
///
/// # Panics
/// If the shapes do not chain or a view reaches past its slice: a programming error.
pub(crate) fn gemm_into(dst: &mut [f32], lhs: View, rhs: View, accumulate: bool) {
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    gemm_with(dst, lhs, rhs, accumulate, parallelism);
}

/// [`gemm_into`] on the calling thread alone, for many small products run in parallel.
pub(crate) fn gemm_serial(dst: &mut [f32], lhs: View, rhs: View, accumulate: bool) {
    gemm_with(dst, lhs, rhs, accumulate, Parallelism::None);
}

fn gemm_with(dst: &mut [f32], lhs: View, rhs: View, accumulate: bool, parallelism: Parallelism) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "gemm: inner dimensions {k} and {}", rhs.rows);
    assert_eq!(
        dst.len(),
        m * n,
        "gemm: output of {} for {m} x {n}",
        dst.len()
    );
    assert!(
        lhs.fits() && rhs.fits(),
        "gemm: a view reaches past its data"
    );
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: `dst` holds exactly m x n elements written row-major (row stride n, column
    // stride 1), and every element `(i, j)` of `lhs` (m x k) and `rhs` (k x n) read by the
    // kernel lies inside its slice (checked by `fits` above). The slices do not overlap: `dst`
    // is borrowed mutably, the others shared.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
