//! One training step of each model at batch 64 (windows of 12 frames at 64x64, the `small`
//! preset), and encoder inference throughput: `cargo bench -p moravec-agents --bench train_step`.
//! `benches/peers/train_step.py` times the same architectures in PyTorch for the ratio.

#![allow(missing_docs)]

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use moravec_agents::data::Batch;
use moravec_agents::models::{MODELS, ModelConfig, find};
use moravec_agents::train::AdamW;

// As in the `bench` binary: candle allocates on every op, and mimalloc halves the cost of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    moravec_agents::allocator::retain_freed_memory();
    divan::main();
}

const BATCH: usize = 64;

fn batch(config: &ModelConfig) -> Batch {
    let dev = Device::Cpu;
    let w = config.window();
    let frames = Tensor::rand(0f32, 1f32, (BATCH, w, 3, config.size, config.size), &dev).unwrap();
    let actions = Tensor::rand(-1f32, 1f32, (BATCH, w, config.action_dim), &dev).unwrap();
    Batch {
        frames,
        actions,
        masks: None,
    }
}

const TRAINED: [&str; 4] = ["jepa-vicreg", "jepa-ema", "pixel-ae", "pixel-video"];

#[divan::bench(args = TRAINED, sample_count = 5, sample_size = 1)]
fn train_step(bencher: divan::Bencher, name: &str) {
    let config = ModelConfig::preset("small", 64, 2).unwrap();
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = (find(name).unwrap().build)(&config, vb).unwrap();
    let mut opt = AdamW::from_varmap(&varmap, 0.01).unwrap();
    let b = batch(&config);
    bencher.bench_local(|| {
        let loss = model.loss(&b).unwrap();
        let grads = loss.total.backward().unwrap();
        opt.update(&grads, 1e-4).unwrap();
    });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn encode_256_frames(bencher: divan::Bencher) {
    let config = ModelConfig::preset("small", 64, 2).unwrap();
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = (MODELS[0].build)(&config, vb).unwrap();
    let frames = Tensor::rand(0f32, 1f32, (1, 256, 3, 64, 64), &Device::Cpu).unwrap();
    bencher
        .counter(divan::counter::ItemsCount::new(256usize))
        .bench_local(|| model.encode(&frames).unwrap());
}
