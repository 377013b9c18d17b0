//! `bench generate`: one scene's dataset into a directory.

use std::time::Instant;

use moravec_sim::dataset::{GenerateConfig, Meta, write_dataset};

use crate::cli::GenerateArgs;
use crate::output::progress;

/// Runs `bench generate`.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let config = GenerateConfig {
        scene: args.scene.clone(),
        split: args.split,
        episodes: args.episodes,
        frames: args.frames,
        seed: args.seed,
        size: args.size,
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
