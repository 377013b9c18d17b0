//! Deterministic initialisation. candle's CPU random generator ignores seeds, so every variable
//! is overwritten from a ChaCha8 stream, in name order: Kaiming-uniform matrices, zero biases,
//! unit LayerNorm scales, small positional embeddings, zero FiLM gains (a FiLM predictor
//! starts as the plain one, its gains all 1) and a zero change head in the slot model (it
//! starts predicting that nothing changes).

use candle_core::Tensor;
use candle_nn::VarMap;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::Result;

/// Re-initialises every variable of `varmap` from `seed`.
pub fn init(varmap: &VarMap, seed: u64) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = varmap.data().lock().expect("varmap lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let shape = var.shape().clone();
        let dims = shape.dims();
        let n = shape.elem_count();
        let values: Vec<f32> = if name.ends_with("pos") {
            (0..n).map(|_| rng.random_range(-0.02f32..0.02)).collect()
        } else if name.contains("film.") || name.contains("change_out.") {
            vec![0.0; n]
        } else if dims.len() == 2 {
            let bound = 1.0 / (dims[1] as f32).sqrt();
            (0..n).map(|_| rng.random_range(-bound..bound)).collect()
        } else if name.ends_with("norm.weight") {
            vec![1.0; n]
        } else {
            vec![0.0; n]
        };
        var.set(&Tensor::from_vec(values, shape, var.device())?)?;
    }
    Ok(())
}
