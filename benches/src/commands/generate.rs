//! `bench generate`: one scene's dataset into a directory.

use moravec_bench::stages::{data, suite};
use moravec_sim::dataset::{GenerateConfig, Meta};
use moravec_sim::voe::SuiteConfig;

use crate::cli::{GenerateArgs, MergeArgs};

/// Runs `bench generate`.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    if args.voe {
        return voe(args);
    }
    let config = dataset_config(args);
    if let Some(slice) = args.shard {
        let (infos, frames_per_s) = data::generate_slice(&config, &args.out, slice)?;
        eprintln!(
            "shard {slice}: {} file(s), {} episodes ({frames_per_s:.0} frames/s); join the \
             shards with `bench merge --shards {}` and the same options",
            infos.len(),
            infos.iter().map(|i| i.episodes).sum::<u64>(),
            slice.count()
        );
        return Ok(());
    }
    let (meta, frames_per_s) = data::generate(&config, &args.out, args.force)?;
    eprintln!(
        "generated {} episodes x {} frames ({frames_per_s:.0} frames/s)",
        config.episodes, config.frames
    );
    println!("{}", summary(&meta, &args.out));
    Ok(())
}

/// Runs `bench merge`.
pub fn merge(args: &MergeArgs) -> anyhow::Result<()> {
    let g = &args.generate;
    if let Some(slice) = g.shard {
        anyhow::bail!("--shard {slice} makes a shard; bench merge takes --shards N alone");
    }
    if g.voe {
        let meta = suite::merge(&suite_config(g), &g.out, args.shards, g.force)?;
        print_suite(&meta, &g.out);
        return Ok(());
    }
    let config = dataset_config(g);
    let meta = data::merge(&config, &g.out, args.shards, g.force)?;
    println!("{}", summary(&meta, &g.out));
    Ok(())
}

/// The dataset the options describe.
fn dataset_config(args: &GenerateArgs) -> GenerateConfig {
    GenerateConfig {
        scene: args.scene.clone().expect("clap requires --scene"),
        split: args.split,
        episodes: args.episodes.expect("clap requires --episodes"),
        frames: args.frames.expect("clap requires --frames"),
        seed: args.seed,
        size: args.size,
        samples: args.samples,
        shard_episodes: args.shard_episodes,
        nuisance: args.nuisance,
    }
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
    let config = suite_config(args);
    if let Some(slice) = args.shard {
        let (sets, sets_per_s) = suite::generate_slice(&config, &args.out, slice)?;
        eprintln!(
            "shard {slice}: {sets} sets ({sets_per_s:.1} sets/s); join the shards with `bench \
             merge --voe --shards {}` and the same options",
            slice.count()
        );
        return Ok(());
    }
    let (meta, rates) = suite::generate(&config, &args.out, args.force)?;
    eprintln!(
        "generated {} sets ({:.1} sets/s, {:.0} frames/s)",
        config.total_sets(),
        rates.sets_per_s,
        rates.frames_per_s
    );
    print_suite(&meta, &args.out);
    Ok(())
}

/// The suite the options describe.
fn suite_config(args: &GenerateArgs) -> SuiteConfig {
    SuiteConfig {
        seed: args.seed,
        sets: args.sets,
        frames: args.frames.unwrap_or(moravec_sim::voe::DEFAULT_FRAMES),
        size: args.size,
        nuisance: args.nuisance,
    }
}

/// What a suite holds, a line per property.
fn print_suite(meta: &moravec_sim::voe::SuiteMeta, out: &std::path::Path) {
    println!(
        "{}: VoE suite, {} frames at {}x{}",
        out.display(),
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
}
