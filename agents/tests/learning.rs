//! Short real training runs: the JEPA does not collapse, and it learns dynamics that beat
//! copying the last latent on held-out episodes.

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::eval::evaluate;
use moravec_agents::models::MODELS;
use moravec_agents::train::{TrainConfig, load_checkpoint, train};
use moravec_sim::Split;

mod common;

fn clips(scene_name: &str, split: Split, episodes: u64) -> Clips {
    common::clips(scene_name, split, 0, episodes, 32)
}

/// Trains `steps` steps of the tiny JEPA and evaluates it on the validation episodes.
fn run(model: &str, scene_name: &str, steps: u64) -> moravec_agents::eval::Evaluation {
    let data = clips(scene_name, Split::Train, 64);
    let val = clips(scene_name, Split::Val, 16);
    let tmp = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        batch: 16,
        checkpoint_every: steps,
        ..TrainConfig::new(model, "tiny", steps)
    };
    train(&config, &data, tmp.path(), &Device::Cpu, &|_| true).unwrap();
    let built = load_checkpoint(&tmp.path().join("checkpoint.safetensors"), &Device::Cpu).unwrap();
    let mc = &built.config;
    evaluate(
        built.model.as_ref(),
        &val,
        mc.context,
        mc.horizon,
        &Device::Cpu,
    )
    .unwrap()
}

#[test]
fn no_jepa_embedding_collapses_on_cart_platform() {
    for model in ["jepa-vicreg", "jepa-ema"] {
        let e = run(model, "cart_platform", 200);
        assert!(e.min_std > 0.1, "{model}: {e:?}");
    }
}

#[test]
fn every_trained_model_beats_copying_the_last_latent() {
    for spec in MODELS.iter().filter(|m| m.trains) {
        let e = run(spec.name, "collision", 400);
        assert!(e.model_error < e.copy_error, "{}: {e:?}", spec.name);
    }
}
