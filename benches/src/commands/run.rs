//! `bench run` (and `bench` alone): the whole benchmark from a preset or config file.

use anyhow::Context;
use moravec_bench::RunConfig;
use moravec_bench::run::{RunOptions, run as run_benchmark};

use crate::cli::RunArgs;

/// Runs the benchmark.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?;
            RunConfig::from_toml(&text, &args.preset, &path.display().to_string())?
        }
        None => RunConfig::preset(&args.preset)?,
    };
    eprintln!("run {} (preset {})", config.run_id(), config.preset);
    let outcome = run_benchmark(&RunOptions {
        config,
        out: args.out.clone(),
        work: args.work.clone(),
        force: args.force.clone(),
        stop_after: args.stop_after,
    })?;
    match (&outcome.out, outcome.stopped_after) {
        (_, Some(kind)) => println!(
            "stopped after the {} stage as asked; run again to go on",
            kind.as_str()
        ),
        (Some(out), None) => {
            println!("{}", outcome.summary);
            println!("results in {}", out.display());
        }
        (None, None) => {}
    }
    Ok(())
}
