//! Bringing a dataset written in an older layout up to this one, in place.
//!
//! Layout 2 added the instance masks. A layout-1 dataset is made again from its config (the
//! generator is a pure function of it) beside the old one, and replaces it only if its frames,
//! actions and states are the old ones bit for bit: the old `content_hash` must equal the new
//! dataset's hash as layout 1 computed it. Whatever was made from the old dataset (a trained
//! model, scores) then stays valid, which is why a run's stage cache upgrades its datasets rather
//! than making every later stage again.

use std::fs;
use std::path::{Path, PathBuf};

use super::atomic_dir::{move_into_place, parent_of};
use super::generate::{GenerateConfig, write_dataset};
use super::meta::SCHEMA_VERSION;
use super::read::content_hash_v1;
use crate::error::{Result, SimError};

/// The layout of `dir/meta.json` and the content hash it records, read without the current
/// layout's checks.
pub(crate) fn recorded_layout(dir: &Path) -> Result<(u64, String)> {
    let path = dir.join("meta.json");
    let text = fs::read_to_string(&path).map_err(|e| SimError::io("cannot read", &path, e))?;
    let bad = |reason: String| SimError::BadDataset {
        path: path.clone(),
        reason,
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let version = json["schema_version"]
        .as_u64()
        .ok_or_else(|| bad("no schema_version".into()))?;
    let hash = json["content_hash"].as_str().unwrap_or_default().to_owned();
    Ok((version, hash))
}

/// A hidden sibling of `dir` for its upgrade.
pub(crate) fn upgrade_sibling(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_of(dir).join(format!(".{name}.upgrade"))
}

/// Checks that a layout-1 dataset made again in `fresh` holds what `old_hash` recorded.
pub(crate) fn check_same_content(dir: &Path, fresh: &Path, old_hash: &str) -> Result<()> {
    let again = content_hash_v1(fresh)?;
    if again != old_hash {
        return Err(SimError::BadDataset {
            path: dir.to_owned(),
            reason: format!(
                "made again in layout {SCHEMA_VERSION}, its frames, actions and states hash to \
                 {again}, not to the recorded {old_hash}: it was not made by this config; \
                 delete the folder to make it afresh"
            ),
        });
    }
    Ok(())
}

/// Brings the dataset in `dir`, made by `config`, up to [`SCHEMA_VERSION`]: a no-op (false) if
/// it is there already; from layout 1, made again and swapped in if its content is the same
/// (true); any other layout, or different content, is an error naming the folder, and the old
/// dataset is left as it was.
pub fn upgrade_dataset(
    config: &GenerateConfig,
    dir: &Path,
    on_episode: &(dyn Fn() + Sync),
) -> Result<bool> {
    let (version, old_hash) = recorded_layout(dir)?;
    if version == u64::from(SCHEMA_VERSION) {
        return Ok(false);
    }
    if version != 1 {
        return Err(SimError::BadDataset {
            path: dir.join("meta.json"),
            reason: format!(
                "schema_version {version}: this build reads {SCHEMA_VERSION} and upgrades 1"
            ),
        });
    }
    let fresh = upgrade_sibling(dir);
    if fresh.exists() {
        fs::remove_dir_all(&fresh).map_err(|e| SimError::io("cannot remove", &fresh, e))?;
    }
    write_dataset(config, &fresh, false, on_episode)?;
    if let Err(e) = check_same_content(dir, &fresh, &old_hash) {
        let _ = fs::remove_dir_all(&fresh);
        return Err(e);
    }
    move_into_place(&fresh, dir, true)?;
    Ok(true)
}
