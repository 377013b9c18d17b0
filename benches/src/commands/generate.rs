//! `bench generate`: one scene's dataset into a directory.

use moravec_bench::stages::{data, suite};
use moravec_sim::dataset::{GenerateConfig, Meta};
use moravec_sim::voe::SuiteConfig;

use crate::cli::GenerateArgs;

/// Runs `bench generate`.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    if args.voe {
        return voe(args);
    }
    let config = GenerateConfig {
        scene: args.scene.clone().expect("clap requires --scene"),
        split: args.split,
        episodes: args.episodes.expect("clap requires --episodes"),
        frames: args.frames.expect("clap requires --frames"),
        seed: args.seed,
        size: args.size,
        samples: args.samples,
        shard_episodes: args.shard_episodes,
    };
    let (meta, frames_per_s) = data::generate(&config, &args.out, args.force)?;
    eprintln!(
        "generated {} episodes x {} frames ({frames_per_s:.0} frames/s)",
        config.episodes, config.frames
    );
    println!("{}", summary(&meta, &args.out));
    Ok(())
}

/// One line describing a dataset.
pub fn summary(meta: &Meta, out: &std::path::Path) -> String {
    format!(
        "{}: {} {} episodes x {} frames at {}x{}, {} shard(s), {}",
        out.display(),
        meta.scene,
        meta.episodes,
        meta.frames,
        meta.size,
        meta.size,
        meta.shards.len(),
        meta.content_hash
    )
}

/// `bench generate --voe`: the whole violation-of-expectation suite.
fn voe(args: &GenerateArgs) -> anyhow::Result<()> {
    let config = SuiteConfig {
        seed: args.seed,
        sets: args.sets,
        frames: args.frames.unwrap_or(moravec_sim::voe::DEFAULT_FRAMES),
        size: args.size,
    };
    let (meta, rates) = suite::generate(&config, &args.out, args.force)?;
    eprintln!(
        "generated {} sets ({:.1} sets/s, {:.0} frames/s)",
        config.total_sets(),
        rates.sets_per_s,
        rates.frames_per_s
    );
    println!(
        "{}: VoE suite, {} frames at {}x{}",
        args.out.display(),
        meta.frames,
        meta.size,
        meta.size
    );
    for p in &meta.properties {
        println!(
            "  {:16} {:17} {:4} sets {:5} movies {}",
            p.property.as_str(),
            p.conditions
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            p.sets,
            p.episodes,
            p.content_hash
        );
    }
    Ok(())
}
