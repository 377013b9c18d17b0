//! Trains a JEPA on a dataset directory and prints held-out prediction error against
//! copy-last and the embedding spread every few hundred steps:
//! `cargo run --release -p moravec-agents --example learn -- TRAIN_DIR VAL_DIR PRESET STEPS BATCH [MODEL]`.

use std::path::Path;

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::eval::evaluate;
use moravec_agents::train::{TrainConfig, build, load_checkpoint, train};

fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let train_data = Clips::load(Path::new(&a[1]))?;
    let val = Clips::load(Path::new(&a[2]))?;
    let preset = &a[3];
    let steps: u64 = a[4].parse()?;
    let batch: usize = a[5].parse()?;
    let out = std::env::temp_dir().join(format!("moravec-learn-{preset}-{steps}-{batch}"));
    let _ = std::fs::remove_dir_all(&out);
    let config = TrainConfig {
        batch,
        checkpoint_every: steps,
        ..TrainConfig::new(
            &std::env::args().nth(6).unwrap_or("jepa-vicreg".into()),
            preset,
            steps,
        )
    };
    let t = std::time::Instant::now();
    train(&config, &train_data, &out, &Device::Cpu, &|_| true)?;
    println!(
        "trained {steps} steps in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let b = build(&config, &train_data, &Device::Cpu)?;
    let e0 = evaluate(
        b.model.as_ref(),
        &val,
        b.config.context,
        b.config.horizon,
        &Device::Cpu,
    )?;
    println!("untrained: {e0:?}");
    let b = load_checkpoint(&out.join("checkpoint.safetensors"), &Device::Cpu)?;
    let e1 = evaluate(
        b.model.as_ref(),
        &val,
        b.config.context,
        b.config.horizon,
        &Device::Cpu,
    )?;
    println!("trained:   {e1:?}");
    Ok(())
}
