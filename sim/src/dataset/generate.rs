//! Generating a whole dataset directory from a [`GenerateConfig`], atomically (see
//! [`atomic_dir`](super::atomic_dir)): episodes are generated in parallel, grouped into shards and
//! handed to the [`ShardWriter`]; shards left by an interrupted run of the same config are reused.

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::atomic_dir::{RemoveOnError, check_output, move_into_place, parent_of};
use super::encoding::hex;
use super::meta::{Meta, SCHEMA_VERSION, ShardInfo};
use super::read::{Shard, ShardShape, read_shard_file};
use super::shard_writer::{ShardWriter, shard_file};
use crate::camera::{Raster, check_samples, check_size};
use crate::episode::{Episode, check_frames, generate_episode};
use crate::error::{Result, SimError};
use crate::nuisance::{Nuisance, nuisance_seed};
use crate::scene::{self, SceneSpec};
use crate::seed::{EpisodeKey, Split};

/// Largest number of episodes one dataset may hold.
pub const MAX_EPISODES: u64 = 10_000_000;

/// Frame bytes a shard aims at when its episode count is not given: big enough that the files are
/// few, small enough that one shard fits comfortably in memory.
const SHARD_BYTES: usize = 64 << 20;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateConfig {
    /// Scene name (see [`scene::SCENES`]).
    pub scene: String,
    /// Split.
    pub split: Split,
    /// Number of episodes.
    pub episodes: u64,
    /// Frames per episode.
    pub frames: usize,
    /// Global seed.
    pub seed: u64,
    /// Image side, pixels (16 to 512).
    pub size: usize,
    /// Rays per pixel side (1 to 8; 1 is the renderer's default, see `Camera::samples`).
    pub samples: usize,
    /// Episodes per shard; `None` picks about 64 MiB of frames per shard.
    pub shard_episodes: Option<u64>,
    /// Pixel detail drawn over the frames that carries no physics ([`crate::nuisance`]): the
    /// states, actions and masks are those of level 0, bit for bit.
    pub nuisance: Nuisance,
}

impl GenerateConfig {
    /// Checks every setting and returns the scene.
    pub fn validate(&self) -> Result<&'static SceneSpec> {
        let spec = scene::find(&self.scene)?;
        if !(1..=MAX_EPISODES).contains(&self.episodes) {
            return Err(SimError::OutOfRange {
                what: "episodes",
                value: self.episodes.to_string(),
                expected: format!("1 to {MAX_EPISODES}"),
            });
        }
        check_frames(self.frames)?;
        check_size("size", self.size)?;
        check_samples(self.samples)?;
        if self.shard_episodes == Some(0) {
            return Err(SimError::OutOfRange {
                what: "shard episodes",
                value: "0".into(),
                expected: "at least 1".into(),
            });
        }
        Ok(spec)
    }

    /// The image side and rays per pixel.
    pub fn raster(&self) -> Raster {
        Raster {
            size: self.size,
            samples: self.samples,
        }
    }

    /// Episodes per shard.
    pub fn shard_len(&self) -> u64 {
        self.shard_episodes.unwrap_or_else(|| {
            let per_episode = self.frames * self.size * self.size * 3;
            (SHARD_BYTES / per_episode.max(1)).max(1) as u64
        })
    }
}

/// Generates the dataset described by `config` into `out`.
///
/// `out` must not exist, or be empty, or `force` must be set (then it is replaced, only once the
/// new dataset is complete). Work happens in a hidden sibling directory named after the config
/// ([`partial_dir`]): shards land there one by one, each written to a temporary name and renamed,
/// so a run that was killed is resumed by the next run of the same config, which reuses every
/// complete shard. `on_episode` is called once per newly generated episode, from any thread, for
/// progress bars.
pub fn write_dataset(
    config: &GenerateConfig,
    out: &Path,
    force: bool,
    on_episode: &(dyn Fn() + Sync),
) -> Result<Meta> {
    build(config, out, force, Some(on_episode))
}

/// Builds the dataset in its partial directory and moves it into place: each shard file is
/// reused if it reads back whole, else generated (`on_episode` given) or refused (a merge, which
/// must not make what a shard of the work was to make). The slices' markers
/// ([`super::sliced`]) are not part of the dataset and are removed before the move.
pub(crate) fn build(
    config: &GenerateConfig,
    out: &Path,
    force: bool,
    on_episode: Option<&(dyn Fn() + Sync)>,
) -> Result<Meta> {
    let spec = config.validate()?;
    check_output(out, force)?;
    let parent = parent_of(out);
    fs::create_dir_all(&parent).map_err(|e| SimError::io("cannot create", &parent, e))?;
    let partial = partial_dir(config, out);
    fs::create_dir_all(&partial).map_err(|e| SimError::io("cannot write into", &parent, e))?;
    // A merge keeps the shards' work when it fails.
    let guard = RemoveOnError(on_episode.map(|_| partial.clone()));

    let shard_len = config.shard_len();
    let mut writer = ShardWriter::create(&partial, spec, config.frames, config.raster())?;
    writer.nuisance = config.nuisance;
    for info in shard_infos(config) {
        // A shard left by an interrupted run (or made by a slice) is reused if it reads back
        // whole.
        match (read_shard_as(&partial, config, spec, &info), on_episode) {
            (Ok(shard), _) => writer.push_written(info.clone(), &shard)?,
            (Err(_), Some(on_episode)) => {
                let shard = generate_shard(config, spec, &info, on_episode)?;
                writer.push(&shard)?;
            }
            (Err(e), None) => {
                return Err(SimError::Shards {
                    out: out.to_owned(),
                    reason: format!("{}: {e}", info.file),
                });
            }
        }
    }
    let meta = writer.finish(config.split, config.seed, shard_len)?;
    super::sliced::remove_markers(&partial)?;
    move_into_place(&partial, out, force)?;
    guard.disarm();
    Ok(meta)
}

/// Every shard file of the dataset `config` describes, in order.
pub(crate) fn shard_infos(config: &GenerateConfig) -> Vec<ShardInfo> {
    let shard_len = config.shard_len();
    let mut infos = Vec::new();
    let mut first = 0u64;
    while first < config.episodes {
        let episodes = shard_len.min(config.episodes - first);
        infos.push(ShardInfo {
            file: shard_file(infos.len()),
            first_episode: first,
            episodes,
            sha256: None,
        });
        first += episodes;
    }
    infos
}

/// The hidden sibling directory where a dataset of this config is built: named after a hash of
/// every setting, so that only a run of the same config resumes it.
pub fn partial_dir(config: &GenerateConfig, out: &Path) -> PathBuf {
    let mut h = Sha256::new();
    // One ray per pixel leaves the key as it was before rays per pixel could be chosen.
    let samples = match config.samples {
        1 => String::new(),
        s => format!("|samples {s}"),
    };
    let nuisance = (config.nuisance.key())
        .map(|n| format!("|nuisance {n}"))
        .unwrap_or_default();
    let key = format!(
        "{SCHEMA_VERSION}|{}|{}|{}|{}|{}|{}|{}|{}{samples}{nuisance}",
        env!("CARGO_PKG_VERSION"),
        config.scene,
        config.split,
        config.episodes,
        config.frames,
        config.seed,
        config.size,
        config.shard_len()
    );
    h.update(key.as_bytes());
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".into());
    parent_of(out).join(format!(".{name}.partial-{}", &hex(&h.finalize())[..16]))
}

pub(crate) fn generate_shard(
    config: &GenerateConfig,
    spec: &'static SceneSpec,
    info: &ShardInfo,
    on_episode: &(dyn Fn() + Sync),
) -> Result<Shard> {
    let first = info.first_episode;
    let episodes: Vec<Episode> = (first..first + info.episodes)
        .into_par_iter()
        .map(|index| {
            let key = EpisodeKey {
                seed: config.seed,
                scene: spec.name,
                split: config.split,
                index,
            };
            let mut ep = generate_episode(spec, &key, config.frames, config.raster())?;
            let size = config.size;
            let seed = nuisance_seed(key.seeds().env);
            config
                .nuisance
                .apply_movie(seed, &mut ep.frames, &ep.masks, size, size);
            on_episode();
            Ok(ep)
        })
        .collect::<Result<_>>()?;
    Ok(Shard::from_episodes(&episodes))
}

pub(crate) fn read_shard_as(
    dir: &Path,
    config: &GenerateConfig,
    spec: &SceneSpec,
    info: &ShardInfo,
) -> Result<Shard> {
    let shape = ShardShape {
        frames: config.frames,
        size: config.size,
        action_dim: spec.action_dim,
        slots: spec.slots.len(),
    };
    read_shard_file(&dir.join(&info.file), info.episodes as usize, &shape, None)
}
