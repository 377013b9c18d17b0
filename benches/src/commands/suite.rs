//! `bench run` (and `bench` alone): the default suite. At this stage: a small dataset of every
//! scene (reused when an identical one is already there), then the throughput.

use moravec_sim::dataset::{GenerateConfig, read_meta};
use moravec_sim::{SCENES, Split};

use crate::cli::{SuiteArgs, ThroughputArgs};

/// Runs the default suite.
pub fn run(args: &SuiteArgs) -> anyhow::Result<()> {
    for spec in SCENES {
        let config = GenerateConfig {
            scene: spec.name.to_owned(),
            split: Split::Train,
            episodes: args.episodes,
            frames: args.frames,
            seed: args.seed,
            size: moravec_sim::camera::DEFAULT_SIZE,
            shard_episodes: None,
        };
        let out = args.data.join(spec.name).join(config.split.as_str());
        // A complete dataset of the same config is reused: generation is deterministic.
        if let Ok(meta) = read_meta(&out) {
            let same = meta.scene == config.scene
                && meta.split == config.split
                && meta.episodes == config.episodes
                && meta.frames == config.frames
                && meta.seed == config.seed
                && meta.size == config.size;
            if same {
                println!("{} (cached)", super::generate::summary(&meta, &out));
                continue;
            }
        }
        let meta = super::generate::generate(&config, &out, true)?;
        println!("{}", super::generate::summary(&meta, &out));
    }
    super::throughput::run(&ThroughputArgs {
        size: moravec_sim::camera::DEFAULT_SIZE,
        episodes: 32,
        frames: 120,
        threads: None,
        csv: args.throughput_csv.clone(),
    })?;
    Ok(())
}
