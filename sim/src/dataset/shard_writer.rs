//! Appending shards to a dataset directory: shard files, the running content hash,
//! `trajectories.csv`, and `meta.json` at the end. Shared by training datasets and the VoE suite.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, tensor::TensorView};
use sha2::{Digest, Sha256};

use super::encoding::{hex, le_bytes};
use super::meta::{Meta, SCHEMA_VERSION, ShardInfo};
use super::read::{Shard, file_hash, hash_shard};
use crate::camera::Raster;
use crate::env::SUBSTEPS;
use crate::error::{Result, SimError};
use crate::nuisance::Nuisance;
use crate::scene::SceneSpec;
use crate::seed::Split;
use crate::world::{DT, STATE_DIM};

/// Columns of `trajectories.csv`.
const CSV_HEADER: [&str; 16] = [
    "episode", "t", "body", "x", "y", "z", "qx", "qy", "qz", "qw", "vx", "vy", "vz", "wx", "wy",
    "wz",
];

/// Writes one dataset directory shard by shard.
pub(crate) struct ShardWriter {
    dir: PathBuf,
    spec: &'static SceneSpec,
    frames: usize,
    raster: Raster,
    csv: csv::Writer<BufWriter<fs::File>>,
    csv_path: PathBuf,
    hasher: Sha256,
    shards: Vec<ShardInfo>,
    episodes: u64,
    /// The frames' nuisance level, recorded in `meta.json`.
    pub(crate) nuisance: Nuisance,
}

impl ShardWriter {
    /// Starts a dataset of `spec` episodes of `frames` frames rasterised as `raster` says in `dir`
    /// (created if needed; `trajectories.csv` is started afresh).
    pub(crate) fn create(
        dir: &Path,
        spec: &'static SceneSpec,
        frames: usize,
        raster: impl Into<Raster>,
    ) -> Result<Self> {
        let raster = raster.into();
        fs::create_dir_all(dir).map_err(|e| SimError::io("cannot create", dir, e))?;
        let csv_path = dir.join("trajectories.csv");
        let file =
            fs::File::create(&csv_path).map_err(|e| SimError::io("cannot create", &csv_path, e))?;
        let mut csv = csv::Writer::from_writer(BufWriter::new(file));
        csv.write_record(CSV_HEADER)
            .map_err(|e| csv_error(&csv_path, e))?;
        Ok(Self {
            dir: dir.to_owned(),
            spec,
            frames,
            raster,
            csv,
            csv_path,
            hasher: Sha256::new(),
            shards: Vec::new(),
            episodes: 0,
            nuisance: Nuisance::NONE,
        })
    }

    /// The entry the next shard of `episodes` episodes will get.
    pub(crate) fn next_shard(&self, episodes: u64) -> ShardInfo {
        ShardInfo {
            file: shard_file(self.shards.len()),
            first_episode: self.episodes,
            episodes,
            sha256: None,
        }
    }

    /// Writes the shard's file, then records it.
    pub(crate) fn push(&mut self, shard: &Shard) -> Result<()> {
        let info = self.next_shard(shard.episodes as u64);
        let sha256 = write_shard(
            &self.dir.join(&info.file),
            shard,
            self.spec,
            self.frames,
            self.raster.size,
        )?;
        let info = ShardInfo {
            sha256: Some(sha256),
            ..info
        };
        self.push_written(info, shard)
    }

    /// Records a shard whose file is already in place (a resumed run), hashing the file unless
    /// `info` has its hash already.
    pub(crate) fn push_written(&mut self, info: ShardInfo, shard: &Shard) -> Result<()> {
        // The file's own hash, so that a reader can name a damaged one.
        let info = if info.sha256.is_some() {
            info
        } else {
            let path = self.dir.join(&info.file);
            let bytes = fs::read(&path).map_err(|e| SimError::io("cannot read", &path, e))?;
            ShardInfo {
                sha256: Some(file_hash(&bytes)),
                ..info
            }
        };
        hash_shard(&mut self.hasher, shard);
        self.write_trajectories(info.first_episode, shard)
            .map_err(|e| csv_error(&self.csv_path, e))?;
        self.episodes += info.episodes;
        self.shards.push(info);
        Ok(())
    }

    /// Flushes `trajectories.csv` and writes `meta.json`.
    pub(crate) fn finish(self, split: Split, seed: u64, shard_episodes: u64) -> Result<Meta> {
        let mut inner = self
            .csv
            .into_inner()
            .map_err(|e| SimError::io("cannot write", &self.csv_path, e.into_error()))?;
        inner
            .flush()
            .map_err(|e| SimError::io("cannot write", &self.csv_path, e))?;
        let spec = self.spec;
        let meta = Meta {
            schema_version: SCHEMA_VERSION,
            generator: format!("moravec-sim {}", env!("CARGO_PKG_VERSION")),
            scene: spec.name.to_owned(),
            split,
            seed,
            env_seeds: split.seed_range(),
            episodes: self.episodes,
            frames: self.frames,
            size: self.raster.size,
            frame_dt: DT * SUBSTEPS as f32,
            substeps: SUBSTEPS,
            action_dim: spec.action_dim,
            max_action: spec.max_action,
            slots: spec.slots.iter().map(|s| s.to_string()).collect(),
            camera: spec.make(self.raster)?.camera().clone(),
            shard_episodes,
            shards: self.shards,
            content_hash: format!("sha256:{}", hex(&self.hasher.finalize())),
            nuisance: self.nuisance,
        };
        let path = self.dir.join("meta.json");
        let json = serde_json::to_string_pretty(&meta).expect("Meta serialises");
        fs::write(&path, json + "\n").map_err(|e| SimError::io("cannot write", &path, e))?;
        Ok(meta)
    }

    fn write_trajectories(&mut self, first_episode: u64, shard: &Shard) -> csv::Result<()> {
        let b = self.spec.slots.len();
        let per_episode = self.frames * b * STATE_DIM;
        for (k, states) in shard.states.chunks(per_episode).enumerate() {
            let mask = &shard.body_mask[k * b..(k + 1) * b];
            let episode = (first_episode + k as u64).to_string();
            for (t, frame_states) in states.chunks(b * STATE_DIM).enumerate() {
                for (slot, state) in frame_states.chunks(STATE_DIM).enumerate() {
                    if mask[slot] == 0 {
                        continue;
                    }
                    let mut row = vec![
                        episode.clone(),
                        t.to_string(),
                        self.spec.slots[slot].to_owned(),
                    ];
                    // Absent stretches of a present slot (a spliced VoE movie) have NaN states.
                    if state[0].is_nan() {
                        continue;
                    }
                    row.extend(state.iter().map(|v| v.to_string()));
                    self.csv.write_record(&row)?;
                }
            }
        }
        Ok(())
    }
}

/// The name of a dataset's shard file `index`.
pub(crate) fn shard_file(index: usize) -> String {
    format!("shard-{index:05}.safetensors")
}

/// Writes a shard under a temporary name, then renames it: a shard file is always whole.
/// Returns the SHA-256 of the file's bytes (`sha256:<hex>`).
pub(crate) fn write_shard(
    path: &Path,
    shard: &Shard,
    spec: &SceneSpec,
    frames: usize,
    size: usize,
) -> Result<String> {
    let (n, t, s) = (shard.episodes, frames, size);
    let (a, b) = (spec.action_dim, spec.slots.len());
    let actions = le_bytes(shard.actions.iter());
    let states = le_bytes(shard.states.iter());
    let tensors = [
        ("frames", Dtype::U8, vec![n, t, s, s, 3], &shard.frames),
        ("actions", Dtype::F32, vec![n, t, a], &actions),
        ("states", Dtype::F32, vec![n, t, b, STATE_DIM], &states),
        ("body_mask", Dtype::U8, vec![n, b], &shard.body_mask),
        ("masks", Dtype::U8, vec![n, t, s, s], &shard.masks),
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
    let sha256 = file_hash(&bytes);
    let tmp = path.with_extension("safetensors.tmp");
    fs::write(&tmp, bytes).map_err(|e| SimError::io("cannot write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| SimError::io("cannot write", path, e))?;
    Ok(sha256)
}

fn csv_error(path: &Path, e: csv::Error) -> SimError {
    SimError::io("cannot write", path, std::io::Error::other(e))
}
