//! `bench train`: trains a world model on a dataset, with a progress bar, a per-step CSV log and
//! checkpoints; a second call with the same --out resumes where the first stopped.

use anyhow::Context;
use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::train::{TrainConfig, train};

use crate::cli::{DeviceArg, TrainArgs};
use crate::output::progress;

/// Runs `bench train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let device = device(args.device)?;
    let clips = Clips::load(&args.data)
        .with_context(|| format!("cannot load the dataset {}", args.data.display()))?;
    let config = TrainConfig {
        batch: args.batch,
        lr: args.lr,
        seed: args.seed,
        checkpoint_every: args.checkpoint_every,
        context: args.context,
        horizon: args.horizon,
        frameskip: args.frameskip,
        film: args.film,
        ..TrainConfig::new(&args.model, &args.preset, args.steps)
    };
    let bar = progress(args.steps, format!("train {}", args.model));
    let report = train(&config, &clips, &args.out, &device, &|s| {
        bar.set_position(s);
        true
    })?;
    bar.finish_and_clear();
    if report.resumed_from > 0 {
        eprintln!("resumed from step {}", report.resumed_from);
    }
    let terms: Vec<String> = report
        .last
        .iter()
        .map(|(k, v)| format!("{k} {v:.5}"))
        .collect();
    println!(
        "{}: {} steps of {} ({}); last step: {}",
        args.out.display(),
        report.steps,
        args.model,
        args.preset,
        terms.join(", ")
    );
    Ok(())
}

pub fn device(arg: DeviceArg) -> anyhow::Result<Device> {
    Ok(match arg {
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Cuda => Device::new_cuda(0).context(
            "--device cuda: no CUDA device (is this a build with `--features cuda` on a machine with a GPU?)",
        )?,
        DeviceArg::Auto => Device::cuda_if_available(0).unwrap_or(Device::Cpu),
    })
}
