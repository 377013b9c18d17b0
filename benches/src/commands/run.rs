//! `bench run` (and `bench` alone): the whole benchmark from a preset or config file.

use anyhow::Context;
use moravec_bench::RunConfig;
use moravec_bench::run::{RunOptions, run as run_benchmark};
use moravec_bench::stages::Sharded;
use moravec_bench::stages::listing::{list, render};

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
    if args.plan_only {
        let device = moravec_bench::device::device(&config.device)?;
        let listed = list(&args.work, &config, &device)?;
        println!(
            "run {} (preset {}), work folder {}, device {}: {} stages, {} done\n",
            config.run_id(),
            config.preset,
            args.work.display(),
            moravec_bench::device::device_name(&device),
            listed.len(),
            listed.iter().filter(|l| l.done).count()
        );
        print!("{}", render(&listed));
        return Ok(());
    }
    let sharded = match (args.shard, args.stage, args.merge, args.shards) {
        (Some(slice), Some(kind), None, None) => Some(Sharded::Make { kind, slice }),
        (None, None, Some(kind), Some(count)) => Some(Sharded::Merge { kind, count }),
        _ => None,
    };
    let outcome = run_benchmark(&RunOptions {
        config,
        out: args.out.clone(),
        work: args.work.clone(),
        force: args.force.clone(),
        stop_after: args.stop_after,
        sharded,
    })?;
    match (&outcome.out, outcome.stopped_after, sharded) {
        (_, Some(kind), Some(Sharded::Make { slice, .. })) => println!(
            "made shard {slice} of the {} stages; once all {} are made, join them with `bench \
             run --merge {} --shards {}` and the same options",
            kind.as_str(),
            slice.count(),
            kind.as_str(),
            slice.count()
        ),
        (_, Some(kind), Some(Sharded::Merge { count, .. })) => println!(
            "merged the {count} shards of the {} stages; run again to go on",
            kind.as_str()
        ),
        (_, Some(kind), None) => println!(
            "stopped after the {} stage as asked; run again to go on",
            kind.as_str()
        ),
        (Some(out), None, _) => {
            println!("{}", outcome.summary);
            println!("results in {}", out.display());
        }
        (None, None, _) => {}
    }
    Ok(())
}
