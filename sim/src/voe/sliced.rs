//! A VoE suite made by several machines (`bench generate --voe --shard I/N`, then `bench merge
//! --voe`).
//!
//! The suite's sets, in its order (property, condition, index), are cut into N contiguous
//! slices ([`WorkSlice::range`]). Slice I generates its sets into a folder beside the output
//! named after the config (`.<out>.voe-shards-<hash>`, on a filesystem the machines share): its
//! movies per property as a safetensors file, and a marker `slice-I-of-N.json`, written last,
//! that records its sets. The merge checks every slice's marker, reads the movies back in order
//! and writes the suite through the same writer as [`write_suite`](super::write_suite): the same
//! files, bit for bit.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::suite::{SetRecord, SuiteConfig, SuiteMeta, generate_sets, requests, write_sets};
use super::{PROPERTIES, Property};
use crate::dataset::atomic_dir::parent_of;
use crate::dataset::encoding::hex;
use crate::dataset::read::{Shard, ShardShape, read_shard_file};
use crate::dataset::shard_writer::write_shard;
use crate::error::{Result, SimError};
use crate::work_slice::{WorkSlice, check_markers, marker_path, read_marker, write_marker};

/// What a slice's marker records: which slice, and its sets in order.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Marker {
    slice: String,
    sets: Vec<SetRecord>,
}

/// The folder the slices of `config` for `out` share.
pub fn slices_dir(config: &SuiteConfig, out: &Path) -> PathBuf {
    let nuisance = (config.nuisance.key())
        .map(|n| format!("|nuisance {n}"))
        .unwrap_or_default();
    let key = format!(
        "{}|{}|{}|{}|{}|{}{nuisance}",
        crate::dataset::SCHEMA_VERSION,
        env!("CARGO_PKG_VERSION"),
        config.seed,
        config.sets,
        config.frames,
        config.size
    );
    let hex = hex(&Sha256::digest(key.as_bytes())[..8]);
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "voe".into());
    parent_of(out).join(format!(".{name}.voe-shards-{hex}"))
}

/// The movies file of `slice` for `property`.
fn movies_path(dir: &Path, slice: WorkSlice, property: Property) -> PathBuf {
    dir.join(format!(
        "slice-{}-{}.safetensors",
        slice.file_label(),
        property.as_str()
    ))
}

/// Makes slice `slice` of the suite `config` describes, for `out`; returns how many sets it
/// made. `on_set` is called once per finished set, from any thread. A slice already marked
/// done is not made again.
pub fn write_suite_slice(
    config: &SuiteConfig,
    out: &Path,
    slice: WorkSlice,
    on_set: &(dyn Fn() + Sync),
) -> Result<u64> {
    config.validate()?;
    let dir = slices_dir(config, out);
    fs::create_dir_all(&dir).map_err(|e| SimError::io("cannot create", &dir, e))?;
    let all = requests(config);
    let range = slice.range(all.len() as u64);
    let mine = &all[range.start as usize..range.end as usize];
    if read_marker::<Marker>(&dir, slice).is_ok_and(|m| m.sets.len() == mine.len()) {
        return Ok(mine.len() as u64);
    }
    let mut sets = Vec::with_capacity(mine.len());
    for spec in PROPERTIES {
        let requests: Vec<_> = mine
            .iter()
            .filter(|r| r.property == spec.property)
            .cloned()
            .collect();
        if requests.is_empty() {
            continue;
        }
        let (records, movies) = generate_sets(&requests, config.nuisance, on_set)?;
        write_shard(
            &movies_path(&dir, slice, spec.property),
            &movies,
            spec.scene,
            config.frames,
            config.size,
        )?;
        sets.extend(records);
    }
    let marker = Marker {
        slice: slice.to_string(),
        sets,
    };
    write_marker(&dir, slice, &marker)?;
    Ok(mine.len() as u64)
}

/// Joins the `count` slices of the suite `config` describes into `out`: the files one unsliced
/// [`write_suite`](super::write_suite) writes, bit for bit. Refuses, naming them, missing
/// slices, slices of another cut, and slices whose sets are not the ones the config asks for;
/// `out` is then left as it was and the slices' work is kept (it is removed once merged).
pub fn merge_suite(config: &SuiteConfig, out: &Path, count: u64, force: bool) -> Result<SuiteMeta> {
    config.validate()?;
    let dir = slices_dir(config, out);
    let slices = check_markers(&dir, out, count, "voe-shards-")?;
    let all = requests(config);
    let mut markers = Vec::with_capacity(slices.len());
    for &slice in &slices {
        let path = marker_path(&dir, slice);
        let marker: Marker = read_marker(&dir, slice)?;
        let range = slice.range(all.len() as u64);
        let asked = &all[range.start as usize..range.end as usize];
        let same = marker.slice == slice.to_string()
            && marker.sets.len() == asked.len()
            && marker.sets.iter().zip(asked).all(|(s, r)| {
                (s.property, s.condition, s.seed) == (r.property, r.condition, r.seed)
            });
        if !same {
            return Err(SimError::Shards {
                out: out.to_owned(),
                reason: format!(
                    "{} does not hold the sets shard {slice} of this config makes",
                    path.display()
                ),
            });
        }
        markers.push((slice, marker));
    }
    let meta = write_sets(config, out, force, |spec| {
        let mut records = Vec::new();
        let mut parts = Vec::new();
        for (slice, marker) in &markers {
            let mine: Vec<&SetRecord> = marker
                .sets
                .iter()
                .filter(|s| s.property == spec.property)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let episodes: usize = mine.iter().map(|s| s.members.len()).sum();
            let shape = ShardShape {
                frames: config.frames,
                size: config.size,
                action_dim: spec.scene.action_dim,
                slots: spec.scene.slots.len(),
            };
            parts.push(read_shard_file(
                &movies_path(&dir, *slice, spec.property),
                episodes,
                &shape,
                None,
            )?);
            records.extend(mine.into_iter().cloned());
        }
        Ok((records, Shard::concat(parts)))
    })?;
    fs::remove_dir_all(&dir).map_err(|e| SimError::io("cannot remove", &dir, e))?;
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push((
                        p.strip_prefix(dir).unwrap().to_owned(),
                        fs::read(&p).unwrap(),
                    ));
                }
            }
        }
        out.sort();
        out
    }

    /// A small suite: `sets` per cell of 48 frames at 16x16.
    fn small(sets: u64) -> SuiteConfig {
        SuiteConfig {
            seed: 4,
            sets,
            frames: 48,
            size: 16,
            nuisance: Default::default(),
        }
    }

    #[test]
    fn merged_slices_are_the_unsliced_suite_bit_for_bit() {
        // Two sets per cell: 2 x (conditions of every property) sets, cut unevenly.
        let config = small(2);
        let tmp = tempfile::tempdir().unwrap();
        let whole = tmp.path().join("whole");
        super::super::write_suite(&config, &whole, false, &|| {}).unwrap();
        let reference = files(&whole);
        for count in [1u64, 3, 4] {
            let out = tmp.path().join(format!("cut-{count}"));
            for slice in WorkSlice::all(count).unwrap().into_iter().rev() {
                write_suite_slice(&config, &out, slice, &|| {}).unwrap();
            }
            merge_suite(&config, &out, count, false).unwrap();
            assert!(files(&out) == reference, "{count} shards");
            assert!(!slices_dir(&config, &out).exists());
        }
    }

    #[test]
    fn a_suite_merge_refuses_missing_and_foreign_shards() {
        let config = small(1);
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("voe");
        let s = |t: &str| t.parse::<WorkSlice>().unwrap();
        write_suite_slice(&config, &out, s("2/3"), &|| {}).unwrap();
        let other = SuiteConfig { seed: 5, ..config };
        write_suite_slice(&other, &out, s("1/3"), &|| {}).unwrap();
        let err = merge_suite(&config, &out, 3, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1/3, 3/3") && err.contains("not done"),
            "{err}"
        );
        assert!(
            err.contains(&slices_dir(&other, &out).display().to_string()),
            "{err}"
        );
        assert!(!out.exists());
        // A marker whose sets are not this config's is refused.
        let dir = slices_dir(&config, &out);
        for slice in ["1/3", "3/3"] {
            write_suite_slice(&config, &out, s(slice), &|| {}).unwrap();
        }
        fs::copy(
            marker_path(&slices_dir(&other, &out), s("1/3")),
            marker_path(&dir, s("1/3")),
        )
        .unwrap();
        let err = merge_suite(&config, &out, 3, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("slice-1-of-3.json"), "{err}");
        assert!(!out.exists());
    }
}
