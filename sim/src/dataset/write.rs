//! Generating a dataset into a directory, atomically: everything is written into a temporary
//! sibling directory that is renamed into place only when complete, so an error or an
//! interruption never leaves a partial dataset under the output name.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use safetensors::{Dtype, tensor::TensorView};
use sha2::{Digest, Sha256};

use super::meta::{Meta, SCHEMA_VERSION, ShardInfo};
use super::read::{Shard, ShardShape, hash_shard, read_shard_file};
use crate::camera::check_size;
use crate::env::SUBSTEPS;
use crate::episode::{Episode, check_frames, generate_episode};
use crate::error::{Result, SimError};
use crate::scene::{self, SceneSpec};
use crate::seed::{EpisodeKey, Split};
use crate::world::{DT, STATE_DIM};

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
    /// Episodes per shard; `None` picks about 64 MiB of frames per shard.
    pub shard_episodes: Option<u64>,
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
        if self.shard_episodes == Some(0) {
            return Err(SimError::OutOfRange {
                what: "shard episodes",
                value: "0".into(),
                expected: "at least 1".into(),
            });
        }
        Ok(spec)
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
    let spec = config.validate()?;
    check_output(out, force)?;
    let parent = parent_of(out);
    fs::create_dir_all(&parent).map_err(|e| SimError::io("cannot create", &parent, e))?;
    let partial = partial_dir(config, out);
    fs::create_dir_all(&partial).map_err(|e| SimError::io("cannot write into", &parent, e))?;
    let guard = RemoveOnError(Some(partial.clone()));

    let csv_path = partial.join("trajectories.csv");
    let csv_file =
        fs::File::create(&csv_path).map_err(|e| SimError::io("cannot create", &csv_path, e))?;
    let mut csv = csv::Writer::from_writer(BufWriter::new(csv_file));
    csv.write_record([
        "episode", "t", "body", "x", "y", "z", "qx", "qy", "qz", "qw", "vx", "vy", "vz", "wx",
        "wy", "wz",
    ])
    .map_err(|e| csv_error(&csv_path, e))?;

    let shard_len = config.shard_len();
    let mut hasher = Sha256::new();
    let mut shards = Vec::new();
    let mut first = 0u64;
    while first < config.episodes {
        let info = ShardInfo {
            file: format!("shard-{:05}.safetensors", shards.len()),
            first_episode: first,
            episodes: shard_len.min(config.episodes - first),
        };
        let path = partial.join(&info.file);
        // A shard left by an interrupted run is reused if it reads back whole.
        let shard = match read_shard_as(&partial, config, spec, &info) {
            Ok(shard) => shard,
            Err(_) => {
                let shard = generate_shard(config, spec, &info, on_episode)?;
                write_shard(&path, &shard, config, spec)?;
                shard
            }
        };
        hash_shard(&mut hasher, &shard);
        write_trajectories(&mut csv, first, &shard, config.frames, spec)
            .map_err(|e| csv_error(&csv_path, e))?;
        first += info.episodes;
        shards.push(info);
    }
    let mut inner = csv
        .into_inner()
        .map_err(|e| SimError::io("cannot write", &csv_path, e.into_error()))?;
    inner
        .flush()
        .map_err(|e| SimError::io("cannot write", &csv_path, e))?;

    let meta = meta_for(config, spec, shards, hex(&hasher.finalize()))?;
    let meta_path = partial.join("meta.json");
    let json = serde_json::to_string_pretty(&meta).expect("Meta serialises");
    fs::write(&meta_path, json + "\n").map_err(|e| SimError::io("cannot write", &meta_path, e))?;

    move_into_place(&partial, out, force)?;
    guard.disarm();
    Ok(meta)
}

/// The hidden sibling directory where a dataset of this config is built: named after a hash of
/// every setting, so that only a run of the same config resumes it.
pub fn partial_dir(config: &GenerateConfig, out: &Path) -> PathBuf {
    let mut h = Sha256::new();
    let key = format!(
        "{SCHEMA_VERSION}|{}|{}|{}|{}|{}|{}|{}|{}",
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

/// Deletes the partial directory when the run fails with an error (not when it is killed: then
/// the next run resumes it).
struct RemoveOnError(Option<PathBuf>);

impl RemoveOnError {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnError {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

fn generate_shard(
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
            let ep = generate_episode(spec, &key, config.frames, config.size);
            on_episode();
            ep
        })
        .collect::<Result<_>>()?;
    Ok(Shard {
        episodes: episodes.len(),
        frames: episodes
            .iter()
            .flat_map(|e| e.frames.iter().copied())
            .collect(),
        actions: episodes
            .iter()
            .flat_map(|e| e.actions.iter().copied())
            .collect(),
        states: episodes
            .iter()
            .flat_map(|e| e.states.iter().copied())
            .collect(),
        body_mask: episodes
            .iter()
            .flat_map(|e| e.body_mask.iter().copied())
            .collect(),
    })
}

fn read_shard_as(
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
    read_shard_file(&dir.join(&info.file), info.episodes as usize, &shape)
}

fn meta_for(
    config: &GenerateConfig,
    spec: &'static SceneSpec,
    shards: Vec<ShardInfo>,
    hash: String,
) -> Result<Meta> {
    Ok(Meta {
        schema_version: SCHEMA_VERSION,
        generator: format!("moravec-sim {}", env!("CARGO_PKG_VERSION")),
        scene: spec.name.to_owned(),
        split: config.split,
        seed: config.seed,
        episodes: config.episodes,
        frames: config.frames,
        size: config.size,
        frame_dt: DT * SUBSTEPS as f32,
        substeps: SUBSTEPS,
        action_dim: spec.action_dim,
        max_action: spec.max_action,
        slots: spec.slots.iter().map(|s| s.to_string()).collect(),
        camera: spec.make(config.size)?.camera().clone(),
        shard_episodes: config.shard_len(),
        shards,
        content_hash: format!("sha256:{hash}"),
    })
}

/// Fails early, before any work, if `out` cannot be used.
fn check_output(out: &Path, force: bool) -> Result<()> {
    match fs::metadata(out) {
        Ok(m) if !m.is_dir() => Err(SimError::io(
            "output is not a directory:",
            out,
            std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        )),
        Ok(_) => {
            let mut entries = fs::read_dir(out).map_err(|e| SimError::io("cannot read", out, e))?;
            if entries.next().is_some() && !force {
                Err(SimError::OutputExists {
                    path: out.to_owned(),
                })
            } else {
                Ok(())
            }
        }
        Err(_) => Ok(()),
    }
}

fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Renames the finished partial directory to `out`, replacing an old one only now.
fn move_into_place(partial: &Path, out: &Path, force: bool) -> Result<()> {
    let old = if out.exists() {
        // An empty directory, or any directory with `force`: set it aside first.
        check_output(out, force)?;
        let aside = parent_of(out).join(format!(
            ".{}.old-{}",
            out.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        fs::rename(out, &aside).map_err(|e| SimError::io("cannot replace", out, e))?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = fs::rename(partial, out) {
        if let Some(old) = &old {
            let _ = fs::rename(old, out);
        }
        return Err(SimError::io("cannot move the dataset to", out, e));
    }
    if let Some(old) = old {
        fs::remove_dir_all(&old).map_err(|e| SimError::io("cannot remove", &old, e))?;
    }
    Ok(())
}

/// Writes a shard under a temporary name, then renames it: a shard file is always whole.
fn write_shard(
    path: &Path,
    shard: &Shard,
    config: &GenerateConfig,
    spec: &SceneSpec,
) -> Result<()> {
    let (n, t, s) = (shard.episodes, config.frames, config.size);
    let (a, b) = (spec.action_dim, spec.slots.len());
    let actions = le_bytes(shard.actions.iter());
    let states = le_bytes(shard.states.iter());
    let tensors = [
        ("frames", Dtype::U8, vec![n, t, s, s, 3], &shard.frames),
        ("actions", Dtype::F32, vec![n, t, a], &actions),
        ("states", Dtype::F32, vec![n, t, b, STATE_DIM], &states),
        ("body_mask", Dtype::U8, vec![n, b], &shard.body_mask),
    ];
    let mut views = Vec::with_capacity(tensors.len());
    for (name, dtype, shape, data) in tensors {
        let view = TensorView::new(dtype, shape, data).map_err(|e| SimError::BadDataset {
            path: path.to_owned(),
            reason: format!("tensor {name}: {e}"),
        })?;
        views.push((name, view));
    }
    let bytes = safetensors::serialize(views, None).map_err(|e| SimError::BadDataset {
        path: path.to_owned(),
        reason: format!("cannot serialise shard: {e}"),
    })?;
    let tmp = path.with_extension("safetensors.tmp");
    fs::write(&tmp, bytes).map_err(|e| SimError::io("cannot write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| SimError::io("cannot write", path, e))
}

fn write_trajectories<W: Write>(
    csv: &mut csv::Writer<W>,
    first_episode: u64,
    shard: &Shard,
    frames: usize,
    spec: &SceneSpec,
) -> csv::Result<()> {
    let b = spec.slots.len();
    let per_episode = frames * b * STATE_DIM;
    for (k, states) in shard.states.chunks(per_episode).enumerate() {
        let mask = &shard.body_mask[k * b..(k + 1) * b];
        let episode = (first_episode + k as u64).to_string();
        for (t, frame_states) in states.chunks(b * STATE_DIM).enumerate() {
            for (slot, state) in frame_states.chunks(STATE_DIM).enumerate() {
                if mask[slot] == 0 {
                    continue;
                }
                let mut row = vec![episode.clone(), t.to_string(), spec.slots[slot].to_owned()];
                row.extend(state.iter().map(|v| v.to_string()));
                csv.write_record(&row)?;
            }
        }
    }
    Ok(())
}

fn csv_error(path: &Path, e: csv::Error) -> SimError {
    SimError::io("cannot write", path, std::io::Error::other(e))
}

pub(super) fn le_bytes<'a>(values: impl Iterator<Item = &'a f32>) -> Vec<u8> {
    values.flat_map(|v| v.to_le_bytes()).collect()
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
