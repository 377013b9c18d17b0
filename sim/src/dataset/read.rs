//! Reading a dataset back, with every shape and the content hash checked against `meta.json`.

use std::fs;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};
use sha2::{Digest, Sha256};

use super::encoding::{TENSORS, hex, le_bytes};
use super::meta::{Meta, SCHEMA_VERSION, ShardInfo};
use crate::error::{Result, SimError};
use crate::world::STATE_DIM;

/// The tensors of one shard, flat and row-major (shapes as in the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Shard {
    /// Episodes in the shard.
    pub episodes: usize,
    /// `[n, T, H, W, 3]`.
    pub frames: Vec<u8>,
    /// `[n, T, A]`.
    pub actions: Vec<f32>,
    /// `[n, T, B, 13]`.
    pub states: Vec<f32>,
    /// `[n, B]`.
    pub body_mask: Vec<u8>,
    /// `[n, T, H, W]`.
    pub masks: Vec<u8>,
}

impl Shard {
    /// The episodes concatenated, in order.
    pub fn from_episodes<'a>(
        episodes: impl IntoIterator<Item = &'a crate::episode::Episode>,
    ) -> Self {
        let mut shard = Shard {
            episodes: 0,
            frames: Vec::new(),
            actions: Vec::new(),
            states: Vec::new(),
            body_mask: Vec::new(),
            masks: Vec::new(),
        };
        for e in episodes {
            shard.push_episode(e);
        }
        shard
    }

    /// Appends one episode.
    pub fn push_episode(&mut self, e: &crate::episode::Episode) {
        self.episodes += 1;
        self.frames.extend_from_slice(&e.frames);
        self.actions.extend_from_slice(&e.actions);
        self.states.extend_from_slice(&e.states);
        self.body_mask.extend_from_slice(&e.body_mask);
        self.masks.extend_from_slice(&e.masks);
    }

    /// Episodes `first .. first + n` of the shard (every episode of a shard has the same shape).
    pub fn episodes_range(&self, first: usize, n: usize) -> Shard {
        let per = |len: usize| len / self.episodes.max(1);
        let cut = |v: &[u8]| v[first * per(v.len())..(first + n) * per(v.len())].to_vec();
        let cut_f = |v: &[f32]| v[first * per(v.len())..(first + n) * per(v.len())].to_vec();
        Shard {
            episodes: n,
            frames: cut(&self.frames),
            actions: cut_f(&self.actions),
            states: cut_f(&self.states),
            body_mask: cut(&self.body_mask),
            masks: cut(&self.masks),
        }
    }

    /// Shards joined end to end, in order.
    pub fn concat(parts: impl IntoIterator<Item = Shard>) -> Shard {
        let mut out = Shard::from_episodes(std::iter::empty());
        for p in parts {
            out.episodes += p.episodes;
            out.frames.extend(p.frames);
            out.actions.extend(p.actions);
            out.states.extend(p.states);
            out.body_mask.extend(p.body_mask);
            out.masks.extend(p.masks);
        }
        out
    }
}

/// Reads and checks `DIR/meta.json`.
pub fn read_meta(dir: &Path) -> Result<Meta> {
    let path = dir.join("meta.json");
    let text = fs::read_to_string(&path).map_err(|e| SimError::io("cannot read", &path, e))?;
    let meta: Meta = serde_json::from_str(&text).map_err(|e| SimError::BadDataset {
        path: path.clone(),
        reason: format!("not a Moravec meta.json: {e}"),
    })?;
    if meta.schema_version != SCHEMA_VERSION {
        return Err(SimError::BadDataset {
            path,
            reason: format!(
                "schema_version {} but this build reads {SCHEMA_VERSION}",
                meta.schema_version
            ),
        });
    }
    check_meta(&meta).map_err(|reason| SimError::BadDataset { path, reason })?;
    Ok(meta)
}

/// Most action entries and body slots a dataset may declare (the masks give each slot a byte
/// below 255); bounds what a damaged `meta.json` can make a reader allocate.
const MAX_ACTION_DIM: usize = 64;
const MAX_SLOTS: usize = 255;

/// What `meta.json` must say of itself before anything is read on its word: sizes in range, and
/// shards named as the writer names them, in order from episode 0, holding the episodes it
/// counts.
fn check_meta(meta: &Meta) -> std::result::Result<(), String> {
    if !(1..=crate::episode::MAX_FRAMES).contains(&meta.frames) {
        return Err(format!(
            "frames = {}, expected 1 to {}",
            meta.frames,
            crate::episode::MAX_FRAMES
        ));
    }
    crate::camera::check_size("size", meta.size).map_err(|e| e.to_string())?;
    if meta.action_dim > MAX_ACTION_DIM || meta.slots.len() > MAX_SLOTS {
        return Err(format!(
            "action_dim = {} and {} slots, expected at most {MAX_ACTION_DIM} and {MAX_SLOTS}",
            meta.action_dim,
            meta.slots.len()
        ));
    }
    let mut next = 0u64;
    for (i, info) in meta.shards.iter().enumerate() {
        // The writer names shard i `shard-0000i.safetensors`; any other name (a path out of the
        // folder included) is not one of ours.
        let expected = super::shard_writer::shard_file(i);
        if info.file != expected {
            return Err(format!(
                "shard {i} is {:?}, expected {expected:?}",
                info.file
            ));
        }
        if info.first_episode != next || info.episodes == 0 || info.episodes > meta.shard_episodes {
            return Err(format!(
                "shard {} holds episodes {}..+{}, expected to start at {next} and hold 1 to {} \
                 (shard_episodes)",
                info.file, info.first_episode, info.episodes, meta.shard_episodes
            ));
        }
        next += info.episodes;
    }
    if next != meta.episodes {
        return Err(format!(
            "the shards hold {next} episodes, but episodes = {}",
            meta.episodes
        ));
    }
    Ok(())
}

/// What a shard's tensors must look like, besides the episode count.
pub(crate) struct ShardShape {
    pub frames: usize,
    pub size: usize,
    pub action_dim: usize,
    pub slots: usize,
}

/// Reads one shard, checking each tensor's dtype and shape.
pub fn read_shard(dir: &Path, meta: &Meta, info: &ShardInfo) -> Result<Shard> {
    let shape = ShardShape {
        frames: meta.frames,
        size: meta.size,
        action_dim: meta.action_dim,
        slots: meta.slots.len(),
    };
    read_shard_file(
        &dir.join(&info.file),
        info.episodes as usize,
        &shape,
        info.sha256.as_deref(),
    )
}

/// `sha256:<hex>` of a file's bytes.
pub(crate) fn file_hash(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// Reads one shard file of `n` episodes, checking its bytes against `sha256` (when the dataset
/// recorded one) and each tensor's dtype and shape against `shape`.
pub(crate) fn read_shard_file(
    path: &Path,
    n: usize,
    shape: &ShardShape,
    sha256: Option<&str>,
) -> Result<Shard> {
    let bytes = fs::read(path).map_err(|e| SimError::io("cannot read", path, e))?;
    let bad = |reason: String| SimError::BadDataset {
        path: path.to_owned(),
        reason,
    };
    if let Some(want) = sha256 {
        let got = file_hash(&bytes);
        if got != want {
            return Err(bad(format!(
                "damaged: its bytes hash to {got}, not the {want} meta.json recorded; delete the \
                 dataset (a run makes it again)"
            )));
        }
    }
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let (t, s, b) = (shape.frames, shape.size, shape.slots);
    let expected = [
        (Dtype::U8, vec![n, t, s, s, 3]),
        (Dtype::F32, vec![n, t, shape.action_dim]),
        (Dtype::F32, vec![n, t, b, STATE_DIM]),
        (Dtype::U8, vec![n, b]),
        (Dtype::U8, vec![n, t, s, s]),
    ];
    let mut data = Vec::with_capacity(TENSORS.len());
    for (name, (dtype, shape)) in TENSORS.iter().zip(expected) {
        let view = st
            .tensor(name)
            .map_err(|e| bad(format!("tensor {name}: {e}")))?;
        if view.dtype() != dtype || view.shape() != shape.as_slice() {
            return Err(bad(format!(
                "tensor {name} is {:?} {:?}, expected {dtype:?} {shape:?} as the dataset's \
                 meta.json says (one of the two was changed or damaged)",
                view.dtype(),
                view.shape()
            )));
        }
        data.push(view.data().to_vec());
    }
    let floats = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    Ok(Shard {
        episodes: n,
        frames: std::mem::take(&mut data[0]),
        actions: floats(&data[1]),
        states: floats(&data[2]),
        body_mask: std::mem::take(&mut data[3]),
        masks: std::mem::take(&mut data[4]),
    })
}

/// Feeds a shard to the content hash, in the order the module docs define.
pub(super) fn hash_shard(hasher: &mut Sha256, shard: &Shard) {
    hasher.update(&shard.frames);
    hasher.update(le_bytes(shard.actions.iter()));
    hasher.update(le_bytes(shard.states.iter()));
    hasher.update(&shard.body_mask);
    hasher.update(&shard.masks);
}

/// The content hash as layout 1 defined it (before instance masks): SHA-256 over `frames`,
/// `actions`, `states` and `body_mask` of each shard in order. A dataset regenerated in the
/// current layout has the same one exactly when its frames, actions and states are the old ones.
pub(crate) fn content_hash_v1(dir: &Path) -> Result<String> {
    let meta = read_meta(dir)?;
    let mut hasher = Sha256::new();
    for info in &meta.shards {
        let shard = read_shard(dir, &meta, info)?;
        hasher.update(&shard.frames);
        hasher.update(le_bytes(shard.actions.iter()));
        hasher.update(le_bytes(shard.states.iter()));
        hasher.update(&shard.body_mask);
    }
    Ok(format!("sha256:{}", hex(&hasher.finalize())))
}

/// The content hash of a dataset computed as its shards are read, in order, to be checked
/// against `meta.json` once all are: so that whoever reads a whole dataset (training, the
/// probes) finds a damaged shard before using it, at the cost of one pass of SHA-256.
pub struct ContentCheck {
    hasher: Sha256,
}

impl Default for ContentCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl ContentCheck {
    /// Nothing read yet.
    pub fn new() -> Self {
        Self {
            hasher: Sha256::new(),
        }
    }

    /// Feeds the next shard, in `meta.json`'s order.
    pub fn add(&mut self, shard: &Shard) {
        hash_shard(&mut self.hasher, shard);
    }

    /// Checks the hash of every shard fed against the one `meta` recorded for the dataset in
    /// `dir`, naming the dataset when they differ.
    pub fn check(self, dir: &Path, meta: &Meta) -> Result<()> {
        let got = format!("sha256:{}", hex(&self.hasher.finalize()));
        if got != meta.content_hash {
            return Err(SimError::BadDataset {
                path: dir.join("meta.json"),
                reason: format!(
                    "content hash {got} differs from the recorded {}: a shard file of {} was \
                     changed or damaged after it was written; delete the dataset (a run makes it \
                     again)",
                    meta.content_hash,
                    dir.display()
                ),
            });
        }
        Ok(())
    }
}

/// Reads every shard and checks the content hash against `meta.json`.
pub fn verify(dir: &Path) -> Result<Meta> {
    let meta = read_meta(dir)?;
    let mut check = ContentCheck::new();
    for info in &meta.shards {
        check.add(&read_shard(dir, &meta, info)?);
    }
    check.check(dir, &meta)?;
    Ok(meta)
}
