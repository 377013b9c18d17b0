//! `meta.json`: everything needed to know what a dataset holds and to regenerate it.

use serde::{Deserialize, Serialize};

use crate::camera::Camera;
use crate::nuisance::Nuisance;
use crate::seed::Split;

/// Version of the on-disk layout; bumped on any incompatible change (2: instance `masks`).
pub const SCHEMA_VERSION: u32 = 2;

/// One shard file and the episodes it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardInfo {
    /// File name inside the dataset directory.
    pub file: String,
    /// Index of its first episode.
    pub first_episode: u64,
    /// Number of episodes in it.
    pub episodes: u64,
    /// `sha256:<hex>` of the file's bytes, checked whenever the shard is read, so that a damaged
    /// shard is named (datasets written before it have none and are checked by the content
    /// hash alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The dataset's `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// [`SCHEMA_VERSION`] at writing time.
    pub schema_version: u32,
    /// Crate and version that wrote it.
    pub generator: String,
    /// Scene name.
    pub scene: String,
    /// Split.
    pub split: Split,
    /// Global seed.
    pub seed: u64,
    /// Inclusive range of the environment seeds of this split (disjoint across splits and from
    /// the VoE suite).
    pub env_seeds: [u64; 2],
    /// Number of episodes.
    pub episodes: u64,
    /// Frames per episode.
    pub frames: usize,
    /// Image side, pixels.
    pub size: usize,
    /// Seconds between frames.
    pub frame_dt: f32,
    /// Physics steps per frame.
    pub substeps: u32,
    /// Length of an action.
    pub action_dim: usize,
    /// Actions lie in `[-max_action, max_action]`.
    pub max_action: f32,
    /// Body slot names, in state order.
    pub slots: Vec<String>,
    /// The camera the frames were rendered with.
    pub camera: Camera,
    /// Episodes per shard (the last may hold fewer).
    pub shard_episodes: u64,
    /// The shards in order.
    pub shards: Vec<ShardInfo>,
    /// `sha256:<hex>` over the tensors, as defined in the module docs.
    pub content_hash: String,
    /// The nuisance level of the frames ([`crate::nuisance`]): pixel detail drawn over the
    /// rendered frames that carries no physics. Left out at level 0.
    #[serde(default, skip_serializing_if = "Nuisance::is_none")]
    pub nuisance: Nuisance,
}
