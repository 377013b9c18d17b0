//! Times the parts of one training step at batch 64 (forward, backward, update), medians of
//! nine: `cargo run --release -p moravec-agents --example step_profile [MODEL]`.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use moravec_agents::data::Batch;
use moravec_agents::models::{ModelConfig, find};
use moravec_agents::train::AdamW;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    moravec_agents::allocator::retain_freed_memory();
    let name = std::env::args().nth(1).unwrap_or("jepa-vicreg".into());
    let config = ModelConfig::preset("small", 64, 2)?;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = (find(&name)?.build)(&config, vb)?;
    let mut opt = AdamW::from_varmap(&varmap, 0.01)?;
    let w = config.window();
    let b = Batch {
        frames: Tensor::rand(0f32, 1f32, (64, w, 3, 64, 64), &Device::Cpu)?,
        actions: Tensor::rand(-1f32, 1f32, (64, w, 2), &Device::Cpu)?,
        masks: None,
    };
    let mut times: [Vec<f64>; 4] = Default::default();
    for _ in 0..9 {
        let t0 = Instant::now();
        let z = model.encode(&b.frames)?;
        let t1 = Instant::now();
        let loss = model.loss(&b)?;
        let t2 = Instant::now();
        let grads = loss.total.backward()?;
        let t3 = Instant::now();
        opt.update(&grads, 1e-4)?;
        let t4 = Instant::now();
        drop(z);
        for (v, (a, b)) in times
            .iter_mut()
            .zip([(t0, t1), (t1, t2), (t2, t3), (t3, t4)])
        {
            v.push((b - a).as_secs_f64() * 1e3);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [e, f, b, u] = &mut times;
    println!(
        "{name} (median of 9): encode {:.0} ms | loss forward {:.0} ms | backward {:.0} ms | update {:.0} ms",
        median(e),
        median(f),
        median(b),
        median(u)
    );
    Ok(())
}
