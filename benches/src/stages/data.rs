//! The data stage: the train split of every scene of the run, one cached dataset per scene.
//! `bench generate` writes a dataset through the same [`generate`].

use std::path::{Path, PathBuf};

use moravec_sim::dataset::{
    GenerateConfig, Meta, ShardInfo, merge_dataset, slice_shards, upgrade_dataset, write_dataset,
    write_dataset_slice,
};
use moravec_sim::{Split, WorkSlice};
use serde::Serialize;

use crate::config::RunConfig;
use crate::error::Result;
use crate::progress::{rate, with_progress};
use crate::stages::cache::{CachedStage, StageKind};
use crate::stages::runner::{Part, Runner};

/// A dataset stage's cache key.
#[derive(Serialize)]
struct DataKey<'a> {
    scene: &'a str,
    episodes: u64,
    frames: usize,
    seed: u64,
    size: usize,
    /// The split, when not the training split (whose keys predate splits).
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<Split>,
    /// The nuisance level, when not 0 (whose keys predate nuisance).
    #[serde(skip_serializing_if = "Option::is_none")]
    nuisance: Option<u8>,
}

/// The run's training datasets.
#[derive(Clone, Debug, Default)]
pub struct Datasets {
    /// Each scene's dataset folder, in the config's order.
    pub dirs: Vec<PathBuf>,
    /// Each one's stage hash (the training stages' keys include them).
    pub hashes: Vec<String>,
}

/// Generates `config` into `out` under a progress bar; returns the dataset's meta and frames/s.
pub fn generate(config: &GenerateConfig, out: &Path, force: bool) -> Result<(Meta, f64)> {
    let (meta, secs) = with_progress(
        config.episodes,
        format!("data {} {}", config.scene, config.split),
        |bar| write_dataset(config, out, force, &|| bar.inc(1)),
    )?;
    let frames = config.episodes as f64 * config.frames as f64;
    Ok((meta, rate(frames, secs)))
}

/// Makes slice `slice` of the dataset `config` describes, for `out`, under a progress bar
/// (`bench generate --shard I/N`); returns its shard files and frames/s.
pub fn generate_slice(
    config: &GenerateConfig,
    out: &Path,
    slice: WorkSlice,
) -> Result<(Vec<ShardInfo>, f64)> {
    let episodes: u64 = slice_shards(config, slice).iter().map(|s| s.episodes).sum();
    let (infos, secs) = with_progress(
        episodes,
        format!("data {} {} shard {slice}", config.scene, config.split),
        |bar| write_dataset_slice(config, out, slice, &|| bar.inc(1)),
    )?;
    Ok((infos, rate(episodes as f64 * config.frames as f64, secs)))
}

/// Joins the `count` slices of the dataset `config` describes into `out` (`bench merge`).
pub fn merge(config: &GenerateConfig, out: &Path, count: u64, force: bool) -> Result<Meta> {
    Ok(merge_dataset(config, out, count, force)?)
}

/// Makes (or reuses) the training dataset of every scene of the run.
pub fn run(runner: &mut Runner, work: &Path, config: &RunConfig) -> Result<Datasets> {
    split_sets(runner, work, config, Split::Train, config.data.episodes)
}

/// Makes (or reuses) the held-out (test split) dataset of every scene, on which the state
/// probes are scored: episodes no model trained on.
pub fn held_out(runner: &mut Runner, work: &Path, config: &RunConfig) -> Result<Datasets> {
    split_sets(runner, work, config, Split::Test, config.probe.episodes)
}

/// The stages of one split's datasets, one per scene in the config's order, each with the
/// config it generates: what [`split_sets`] makes and `bench run --plan-only` lists.
pub(crate) fn split_stages(
    work: &Path,
    config: &RunConfig,
    split: Split,
    episodes: u64,
) -> Vec<(GenerateConfig, CachedStage)> {
    config
        .data
        .scenes
        .iter()
        .map(|scene| {
            let gen_config = GenerateConfig {
                scene: scene.clone(),
                split,
                episodes,
                frames: config.data.frames,
                seed: config.seed,
                size: config.size,
                samples: 1,
                shard_episodes: None,
                nuisance: config.nuisance_level(),
            };
            let key = DataKey {
                scene,
                episodes: gen_config.episodes,
                frames: gen_config.frames,
                seed: gen_config.seed,
                size: gen_config.size,
                split: (split != Split::Train).then_some(split),
                nuisance: gen_config.nuisance.key(),
            };
            let label = match split {
                Split::Train => scene.clone(),
                other => format!("{scene}-{other}"),
            };
            let stage = CachedStage::new(work, StageKind::Data, &label, &key);
            (gen_config, stage)
        })
        .collect()
}

/// The datasets of one split, one stage per scene.
fn split_sets(
    runner: &mut Runner,
    work: &Path,
    config: &RunConfig,
    split: Split,
    episodes: u64,
) -> Result<Datasets> {
    let mut out = Datasets::default();
    for (gen_config, stage) in split_stages(work, config, split, episodes) {
        let label = &stage.label;
        let dir = stage.dir.join("dataset");
        let done = runner.stage_sharded(&stage, |_, part| match part {
            Part::Whole => {
                let (_, frames_per_s) = generate(&gen_config, &dir, true)?;
                Ok(vec![("frames_per_s".into(), frames_per_s)])
            }
            Part::Shard(slice) => generate_slice(&gen_config, &dir, slice).map(|_| Vec::new()),
            Part::Merge(count) => merge(&gen_config, &dir, count, true).map(|_| Vec::new()),
        })?;
        // A dataset cached in an older layout is made again in this one and swapped in if its
        // frames, actions and states are the same bits: the stages made from it stay valid.
        if done.is_some() && upgrade_dataset(&gen_config, &dir, &|| {})? {
            eprintln!(
                "data {label}: upgraded in place to dataset layout {} (instance masks); its episodes are the same bits",
                moravec_sim::dataset::SCHEMA_VERSION
            );
        }
        out.dirs.push(dir);
        out.hashes.push(stage.hash.clone());
    }
    Ok(out)
}
