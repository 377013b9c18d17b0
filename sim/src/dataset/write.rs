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
/// new dataset is complete). `on_episode` is called once per finished episode, from any thread,
/// for progress bars.
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
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".into());
    let prefix = format!(".{name}.partial-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        // A dataset directory is an ordinary one (tempfile's default is 0700).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o755));
    }
    let tmp = builder
        .tempdir_in(&parent)
        .map_err(|e| SimError::io("cannot write into", &parent, e))?;

    let csv_path = tmp.path().join("trajectories.csv");
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
        let n = shard_len.min(config.episodes - first);
        let episodes: Vec<Episode> = (first..first + n)
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
        let file = format!("shard-{:05}.safetensors", shards.len());
        let path = tmp.path().join(&file);
        write_shard(&path, &episodes, config, spec, &mut hasher)?;
        for (k, ep) in episodes.iter().enumerate() {
            write_trajectories(&mut csv, first + k as u64, ep, spec)
                .map_err(|e| csv_error(&csv_path, e))?;
        }
        shards.push(ShardInfo {
            file,
            first_episode: first,
            episodes: n,
        });
        first += n;
    }
    let mut inner = csv
        .into_inner()
        .map_err(|e| SimError::io("cannot write", &csv_path, e.into_error()))?;
    inner
        .flush()
        .map_err(|e| SimError::io("cannot write", &csv_path, e))?;

    let camera = spec.make(config.size)?.camera().clone();
    let meta = Meta {
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
        camera,
        shard_episodes: shard_len,
        shards,
        content_hash: format!("sha256:{}", hex(&hasher.finalize())),
    };
    let meta_path = tmp.path().join("meta.json");
    let json = serde_json::to_string_pretty(&meta).expect("Meta serialises");
    fs::write(&meta_path, json + "\n").map_err(|e| SimError::io("cannot write", &meta_path, e))?;

    move_into_place(tmp, out, force)?;
    Ok(meta)
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

/// Renames the finished temporary directory to `out`, replacing an old one only now.
fn move_into_place(tmp: tempfile::TempDir, out: &Path, force: bool) -> Result<()> {
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
    let tmp_path = tmp.keep();
    if let Err(e) = fs::rename(&tmp_path, out) {
        if let Some(old) = &old {
            let _ = fs::rename(old, out);
        }
        let _ = fs::remove_dir_all(&tmp_path);
        return Err(SimError::io("cannot move the dataset to", out, e));
    }
    if let Some(old) = old {
        fs::remove_dir_all(&old).map_err(|e| SimError::io("cannot remove", &old, e))?;
    }
    Ok(())
}

fn write_shard(
    path: &Path,
    episodes: &[Episode],
    config: &GenerateConfig,
    spec: &SceneSpec,
    hasher: &mut Sha256,
) -> Result<()> {
    let (n, t, s) = (episodes.len(), config.frames, config.size);
    let (a, b) = (spec.action_dim, spec.slots.len());
    let frames: Vec<u8> = episodes
        .iter()
        .flat_map(|e| e.frames.iter().copied())
        .collect();
    let actions: Vec<u8> = le_bytes(episodes.iter().flat_map(|e| e.actions.iter()));
    let states: Vec<u8> = le_bytes(episodes.iter().flat_map(|e| e.states.iter()));
    let mask: Vec<u8> = episodes
        .iter()
        .flat_map(|e| e.body_mask.iter().copied())
        .collect();
    let tensors = [
        ("frames", Dtype::U8, vec![n, t, s, s, 3], &frames),
        ("actions", Dtype::F32, vec![n, t, a], &actions),
        ("states", Dtype::F32, vec![n, t, b, STATE_DIM], &states),
        ("body_mask", Dtype::U8, vec![n, b], &mask),
    ];
    let mut views = Vec::with_capacity(tensors.len());
    for (name, dtype, shape, data) in tensors {
        hasher.update(data);
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
    fs::write(path, bytes).map_err(|e| SimError::io("cannot write", path, e))
}

fn write_trajectories<W: Write>(
    csv: &mut csv::Writer<W>,
    episode: u64,
    ep: &Episode,
    spec: &SceneSpec,
) -> csv::Result<()> {
    let b = spec.slots.len();
    for (t, frame_states) in ep.states.chunks(b * STATE_DIM).enumerate() {
        for (slot, state) in frame_states.chunks(STATE_DIM).enumerate() {
            if ep.body_mask[slot] == 0 {
                continue;
            }
            let mut row = vec![
                episode.to_string(),
                t.to_string(),
                spec.slots[slot].to_owned(),
            ];
            row.extend(state.iter().map(|v| v.to_string()));
            csv.write_record(&row)?;
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
