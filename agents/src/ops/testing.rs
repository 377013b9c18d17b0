//! Helpers shared by the kernels' tests.

use candle_core::{Device, Tensor, Var};

/// The largest absolute difference between two tensors of the same shape.
pub(crate) fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// A variable of normal entries with this standard deviation.
pub(crate) fn var(shape: &[usize], std: f32) -> Var {
    Var::from_tensor(&Tensor::randn(0f32, std, shape, &Device::Cpu).unwrap()).unwrap()
}

/// The bits of every entry.
pub(crate) fn bits(t: &Tensor) -> Vec<u32> {
    let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    v.iter().map(|v| v.to_bits()).collect()
}

/// `f` run on a rayon pool of `n` threads.
pub(crate) fn with_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

/// Back-propagates `sum(ours * up)` and `sum(theirs * up)` and asserts that every variable's
/// two gradients agree within `tol`.
pub(crate) fn assert_same_gradients(
    ours: Tensor,
    theirs: Tensor,
    up: &Tensor,
    vars: &[(&str, &Var)],
    tol: f32,
) {
    let g1 = (ours * up).unwrap().sum_all().unwrap().backward().unwrap();
    let g2 = (theirs * up)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    for (name, v) in vars {
        let diff = max_diff(g1.get(v).unwrap(), g2.get(v).unwrap());
        assert!(diff < tol, "gradient of {name} differs by {diff}");
    }
}
