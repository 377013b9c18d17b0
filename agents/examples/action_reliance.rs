//! How much does a model's prediction lean on its actions? The prediction loss on windows of a
//! dataset (strided by the checkpoint's frameskip, as the model was trained) with the true
//! actions, with the actions zeroed, and with the actions of another window. A predictor that
//! ignores its actions scores the three alike and cannot plan: every action sequence predicts
//! the same future.
//! `cargo run --release -p moravec-agents --example action_reliance -- CHECKPOINT DATASET [BATCHES]`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use candle_core::{Device, Tensor};
use moravec_agents::data::{Batch, Clips};
use moravec_agents::train::load_checkpoint;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(checkpoint), Some(data)) = (args.next(), args.next()) else {
        bail!("usage: action_reliance CHECKPOINT DATASET [BATCHES]");
    };
    let (checkpoint, data) = (PathBuf::from(checkpoint), PathBuf::from(data));
    let batches: u64 = match args.next() {
        Some(n) => n
            .parse()
            .with_context(|| format!("BATCHES {n}: expected a count"))?,
        None => 8,
    };
    let device = Device::Cpu;
    let built = load_checkpoint(&checkpoint, &device)
        .with_context(|| format!("cannot load {}", checkpoint.display()))?;
    let config = &built.config;
    let clips = Clips::load(&data).with_context(|| format!("cannot load {}", data.display()))?;
    let clips = clips.frameskip(config.frameskip)?;
    if clips.action_dim != config.action_dim || clips.size != config.size {
        bail!(
            "{}: {}x{} frames with {} action entries per model step, the model takes {}x{} and {}",
            data.display(),
            clips.size,
            clips.size,
            clips.action_dim,
            config.size,
            config.size,
            config.action_dim
        );
    }
    let mut sums = [0f64; 3];
    for step in 0..batches {
        // Windows the training never drew in this order (another seed of the sampler).
        let batch = clips.batch(0x5eed, step, 32, config.window(), &device)?;
        let n = batch.actions.dim(0)?;
        let zeroed = batch.actions.zeros_like()?;
        let rolled = Tensor::cat(
            &[
                batch.actions.narrow(0, 1, n - 1)?,
                batch.actions.narrow(0, 0, 1)?,
            ],
            0,
        )?;
        for (sum, actions) in sums.iter_mut().zip([batch.actions.clone(), zeroed, rolled]) {
            let losses = built.model.loss(&Batch {
                frames: batch.frames.clone(),
                actions,
                masks: batch.masks.clone(),
            })?;
            let prediction = losses
                .terms
                .iter()
                .find(|t| t.0 == "prediction")
                .map_or(Ok(f32::NAN), |t| t.1.to_scalar::<f32>())?;
            *sum += f64::from(prediction) / batches as f64;
        }
    }
    let [true_, zero, other] = sums;
    println!(
        "{} (frameskip {}), {batches} batches of 32 windows: prediction loss {true_:.5} with the true actions, {zero:.5} zeroed ({:+.1}%), {other:.5} with another window's ({:+.1}%)",
        built.model.name(),
        config.frameskip,
        100.0 * (zero / true_ - 1.0),
        100.0 * (other / true_ - 1.0),
    );
    Ok(())
}
