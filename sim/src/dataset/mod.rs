//! Datasets on disk: a directory per (scene, split) with safetensors shards, `meta.json` and
//! `trajectories.csv`, readable from Python with `safetensors` and `numpy` alone.
//!
//! Layout of `DIR/`:
//! - `shard-00000.safetensors`, ...: tensors `frames` u8 `[n, T, H, W, 3]`, `actions` f32
//!   `[n, T, A]`, `states` f32 `[n, T, B, 13]` (NaN in empty slots), `body_mask` u8 `[n, B]`,
//!   `masks` u8 `[n, T, H, W]` (the slot whose body each pixel shows, 255 for the background and
//!   fixed bodies);
//! - `meta.json`: [`Meta`], written last (its presence means the dataset is complete);
//! - `trajectories.csv`: one row per (episode, t, present body).
//!
//! The content hash is SHA-256 over, for each shard in order, the raw little-endian bytes of
//! `frames`, `actions`, `states`, `body_mask` and `masks`, in that order.
//!
//! The files of this module, none importing another in a circle: `generate` makes a whole
//! dataset from a [`GenerateConfig`]; `shard_writer` appends shards to a directory (training
//! datasets and the VoE suite alike); `read` reads a dataset back and verifies it; `encoding` is
//! the byte layout writers and reader share; `atomic_dir` builds a directory in a hidden sibling
//! and renames it into place when complete; `upgrade` brings a dataset of an older layout up to
//! this one; `sliced` makes a dataset on several machines (`--shard I/N`) and merges their
//! work.

pub(crate) mod atomic_dir;
pub(crate) mod encoding;
pub(crate) mod generate;
mod meta;
pub(crate) mod read;
pub(crate) mod shard_writer;
pub(crate) mod sliced;
pub(crate) mod upgrade;

pub use encoding::TENSORS;
pub use generate::{GenerateConfig, partial_dir, write_dataset};
pub use meta::{Meta, SCHEMA_VERSION, ShardInfo};
pub use read::{ContentCheck, Shard, read_meta, read_shard, verify};
pub use sliced::{merge_dataset, slice_shards, write_dataset_slice};
pub use upgrade::upgrade_dataset;
