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

use super::atomic_dir::parent_of;
use super::generate::{GenerateConfig, write_dataset};
use super::meta::SCHEMA_VERSION;
use super::read::content_hash_v1;
use crate::error::{Result, SimError};

/// `dir/meta.json` as layout 1 wrote it, read without the current layout's checks: `None` if
/// the folder is in the current layout already, an error naming the file for any other layout.
pub(crate) fn layout_1_meta(dir: &Path) -> Result<Option<serde_json::Value>> {
    let path = dir.join("meta.json");
    let text = fs::read_to_string(&path).map_err(|e| SimError::io("cannot read", &path, e))?;
    let bad = |reason: String| SimError::BadDataset {
        path: path.clone(),
        reason,
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    match json["schema_version"].as_u64() {
        Some(v) if v == u64::from(SCHEMA_VERSION) => Ok(None),
        Some(1) => Ok(Some(json)),
        Some(v) => Err(bad(format!(
            "schema_version {v}: this build reads {SCHEMA_VERSION} and upgrades 1"
        ))),
        None => Err(bad("no schema_version".into())),
    }
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
    let Some(old) = layout_1_meta(dir)? else {
        return Ok(false);
    };
    let old_hash = old["content_hash"].as_str().unwrap_or_default();
    let fresh = upgrade_sibling(dir);
    if fresh.exists() {
        fs::remove_dir_all(&fresh).map_err(|e| SimError::io("cannot remove", &fresh, e))?;
    }
    write_dataset(config, &fresh, false, on_episode)?;
    if let Err(e) = check_same_content(dir, &fresh, old_hash) {
        let _ = fs::remove_dir_all(&fresh);
        return Err(e);
    }
    replace_contents(&fresh, dir)?;
    Ok(true)
}

/// Moves every file of `fresh` into `dir` (same names, one atomic rename each, sub-folders
/// first and `meta.json` last at every level), then removes `fresh`. Killed half-way, `dir`
/// still has its old `meta.json`, so it still reads as the old layout and the next upgrade
/// makes it again from the start: no state in between is ever taken for an upgraded one.
pub(crate) fn replace_contents(fresh: &Path, dir: &Path) -> Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(fresh)
        .map_err(|e| SimError::io("cannot read", fresh, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| SimError::io("cannot read", fresh, e))?;
    // Folders, then files, then meta.json.
    entries.sort_by_key(|p| {
        (
            !p.is_dir(),
            p.file_name().is_some_and(|n| n == "meta.json"),
            p.clone(),
        )
    });
    for from in entries {
        let to = dir.join(from.file_name().expect("a directory entry has a name"));
        if from.is_dir() {
            fs::create_dir_all(&to).map_err(|e| SimError::io("cannot create", &to, e))?;
            replace_contents(&from, &to)?;
        } else {
            fs::rename(&from, &to).map_err(|e| SimError::io("cannot replace", &to, e))?;
        }
    }
    fs::remove_dir_all(fresh).map_err(|e| SimError::io("cannot remove", fresh, e))
}
