//! Helpers shared by the sim crate's integration tests.

#![allow(dead_code)]

use std::fs;
use std::path::Path;

use moravec_sim::dataset::{read_meta, read_shard};

/// Rewrites a dataset as layout 1 wrote it: shards without `masks`, `schema_version` 1 and the
/// content hash over the four older tensors.
pub fn downgrade(dir: &Path) {
    use safetensors::{Dtype, tensor::TensorView};
    use sha2::{Digest, Sha256};
    let meta = read_meta(dir).unwrap();
    let mut hasher = Sha256::new();
    for info in &meta.shards {
        let shard = read_shard(dir, &meta, info).unwrap();
        let (n, t, s, b) = (shard.episodes, meta.frames, meta.size, meta.slots.len());
        let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let (actions, states) = (f32s(&shard.actions), f32s(&shard.states));
        for bytes in [&shard.frames, &actions, &states, &shard.body_mask] {
            hasher.update(bytes);
        }
        let views = [
            ("frames", Dtype::U8, vec![n, t, s, s, 3], &shard.frames),
            ("actions", Dtype::F32, vec![n, t, meta.action_dim], &actions),
            ("states", Dtype::F32, vec![n, t, b, 13], &states),
            ("body_mask", Dtype::U8, vec![n, b], &shard.body_mask),
        ]
        .map(|(name, dtype, shape, data)| (name, TensorView::new(dtype, shape, data).unwrap()));
        fs::write(
            dir.join(&info.file),
            safetensors::serialize(views, None).unwrap(),
        )
        .unwrap();
    }
    let path = dir.join("meta.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    json["schema_version"] = 1.into();
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    json["content_hash"] = format!("sha256:{hash}").into();
    fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}
