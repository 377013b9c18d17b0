//! Datasets on disk: a directory per (scene, split) with safetensors shards, `meta.json` and
//! `trajectories.csv`, readable from Python with `safetensors` and `numpy` alone.
//!
//! Layout of `DIR/`:
//! - `shard-00000.safetensors`, ...: tensors `frames` u8 `[n, T, H, W, 3]`, `actions` f32
//!   `[n, T, A]`, `states` f32 `[n, T, B, 13]` (NaN in empty slots), `body_mask` u8 `[n, B]`;
//! - `meta.json`: [`Meta`], written last (its presence means the dataset is complete);
//! - `trajectories.csv`: one row per (episode, t, present body).
//!
//! The content hash is SHA-256 over, for each shard in order, the raw little-endian bytes of
//! `frames`, `actions`, `states` and `body_mask`, in that order.

mod meta;
pub(crate) mod read;
pub(crate) mod write;
pub(crate) mod writer;

pub use meta::{Meta, SCHEMA_VERSION, ShardInfo};
pub use read::{Shard, read_meta, read_shard, verify};
pub use write::{GenerateConfig, partial_dir, write_dataset};

/// Tensor names in hashing order.
pub const TENSORS: [&str; 4] = ["frames", "actions", "states", "body_mask"];
