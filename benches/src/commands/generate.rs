//! `bench generate`: one scene's dataset into a directory.

use std::time::Instant;

use moravec_sim::dataset::{GenerateConfig, Meta, write_dataset};
use moravec_sim::voe::{SuiteConfig, write_suite};

use crate::cli::GenerateArgs;
use crate::output::progress;

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
    let meta = generate(&config, &args.out, args.force)?;
    println!("{}", summary(&meta, &args.out));
    Ok(())
}

/// Generates with a progress bar; shared with the default suite.
pub fn generate(
    config: &GenerateConfig,
    out: &std::path::Path,
    force: bool,
) -> anyhow::Result<Meta> {
    config.validate()?;
    let bar = progress(
        config.episodes,
        format!("{} {}", config.scene, config.split),
    );
    let start = Instant::now();
    let meta = write_dataset(config, out, force, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let frames = config.episodes as f64 * config.frames as f64;
    eprintln!(
        "generated {} episodes x {} frames in {secs:.2} s ({:.0} frames/s)",
        config.episodes,
        config.frames,
        frames / secs.max(1e-9)
    );
    Ok(meta)
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
    config.validate()?;
    let bar = progress(config.total_sets(), "voe sets");
    let start = Instant::now();
    let meta = write_suite(&config, &args.out, args.force, &|| bar.inc(1))?;
    bar.finish_and_clear();
    eprintln!(
        "generated {} sets in {:.1} s",
        config.total_sets(),
        start.elapsed().as_secs_f64()
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
            "  {:16} {:10} {:4} sets {:5} movies {}",
            p.property.as_str(),
            p.kind.as_str(),
            p.sets,
            p.episodes,
            p.content_hash
        );
    }
    Ok(())
}
