//! What one CEM iteration at the DINO-WM defaults asks of a JEPA: 300 action sequences of 5 steps
//! rolled out from one context, through candle's graph and through the frozen predictor
//! (`FrozenPredictor::rollout_costs`, what planning uses), at the `tiny` and `small` presets'
//! widths on 32x32 images. A planned action is 30 such iterations: `cargo bench -p
//! moravec-agents --bench plan_rollout`.

#![allow(missing_docs)]

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use moravec_agents::models::{ModelConfig, WorldModel, find, init::init};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    moravec_agents::allocator::retain_freed_memory();
    divan::main();
}

const SAMPLES: usize = 300;
const HORIZON: usize = 5;
const PRESETS: [&str; 2] = ["tiny", "small"];

/// A jepa-vicreg of `preset`, its context latents `[1, C, N, D]` and actions `[S, C + H - 1, A]`.
fn setup(preset: &str) -> (Box<dyn WorldModel>, VarMap, Tensor, Tensor) {
    let config = ModelConfig::preset(preset, 32, 2).unwrap();
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = (find("jepa-vicreg").unwrap().build)(&config, vb).unwrap();
    init(&varmap, 0).unwrap();
    let c = config.context;
    let frames = Tensor::rand(0f32, 1f32, (1, c, 3, 32, 32), &Device::Cpu).unwrap();
    let context = model.encode(&frames).unwrap().detach();
    let actions = Tensor::rand(-1f32, 1f32, (SAMPLES, c + HORIZON - 1, 2), &Device::Cpu).unwrap();
    (model, varmap, context, actions)
}

#[divan::bench(args = PRESETS, sample_count = 30)]
fn candle_graph(bencher: divan::Bencher, preset: &str) {
    let (model, _varmap, context, actions) = setup(preset);
    bencher.bench_local(|| model.rollout(&context, &actions, HORIZON).unwrap());
}

#[divan::bench(args = PRESETS, sample_count = 30)]
fn frozen(bencher: divan::Bencher, preset: &str) {
    let (model, _varmap, context, actions) = setup(preset);
    let frozen = model.frozen_predictor().unwrap().unwrap();
    let context: Vec<f32> = context.flatten_all().unwrap().to_vec1().unwrap();
    let actions: Vec<f32> = actions.flatten_all().unwrap().to_vec1().unwrap();
    // As the planners use it: each sample's last step scored as it comes out (here by its
    // squared norm).
    bencher.bench_local(|| {
        frozen
            .rollout_costs(&context, &actions, SAMPLES, HORIZON, 1, |scored| {
                scored.rows().flatten().map(|x| x * x).sum()
            })
            .unwrap()
    });
}
