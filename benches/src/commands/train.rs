//! `bench train`: trains a world model on a dataset, with a progress bar, a per-step CSV log and
//! checkpoints; a second call with the same --out resumes where the first stopped.

use anyhow::Context;
use moravec_agents::data::Clips;
use moravec_agents::train::TrainConfig;
use moravec_bench::device::device;
use moravec_bench::stages::train::train_with_progress;

use crate::cli::TrainArgs;

/// Runs `bench train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let device = device(args.device.as_str())?;
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
        ..TrainConfig::new(&args.model, &args.arch, args.steps)
    };
    let (report, _) = train_with_progress(&config, &clips, &args.out, &device)?;
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
        args.arch,
        terms.join(", ")
    );
    Ok(())
}
