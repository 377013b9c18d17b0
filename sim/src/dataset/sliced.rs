//! A dataset made by several machines (`bench generate --shard I/N`, then `bench merge`).
//!
//! Slice I of N makes its share of the dataset's shard files (contiguous, by index: see
//! [`WorkSlice::range`]) in the very directory an interrupted run resumes ([`partial_dir`], named
//! after the config, on a filesystem the machines share), then leaves a marker
//! `slice-I-of-N.json` saying it is done. The merge checks that the marker of every slice of N
//! is there, and of no other cut, then builds the dataset from those files exactly as
//! [`write_dataset`](super::write_dataset) would (the same writer, the same content hash and
//! `trajectories.csv`), refusing to make a file itself. The markers do not go into the dataset.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::generate::{
    GenerateConfig, build, generate_shard, partial_dir, read_shard_as, shard_infos,
};
use super::meta::{Meta, ShardInfo};
use super::shard_writer::write_shard;
use crate::error::{Result, SimError};
use crate::work_slice::{
    WorkSlice, check_markers, marker_path, markers, read_marker, write_marker,
};

/// What a slice's marker says: which slice, and the files it made.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Marker {
    slice: String,
    files: Vec<String>,
}

/// Removes the slices' markers from a partial directory before it becomes the dataset.
pub(crate) fn remove_markers(partial: &Path) -> Result<()> {
    for (_, name) in markers(partial)? {
        let path = partial.join(name);
        fs::remove_file(&path).map_err(|e| SimError::io("cannot remove", &path, e))?;
    }
    Ok(())
}

/// The dataset's shard files that `slice` makes.
pub fn slice_shards(config: &GenerateConfig, slice: WorkSlice) -> Vec<ShardInfo> {
    let infos = shard_infos(config);
    let range = slice.range(infos.len() as u64);
    infos[range.start as usize..range.end as usize].to_vec()
}

/// Makes slice `slice` of the dataset `config` describes, for `out`: its shard files (those
/// already there and whole are kept) and its marker. Returns the files it is responsible for.
pub fn write_dataset_slice(
    config: &GenerateConfig,
    out: &Path,
    slice: WorkSlice,
    on_episode: &(dyn Fn() + Sync),
) -> Result<Vec<ShardInfo>> {
    let spec = config.validate()?;
    let partial = partial_dir(config, out);
    fs::create_dir_all(&partial).map_err(|e| SimError::io("cannot create", &partial, e))?;
    let infos = slice_shards(config, slice);
    for info in &infos {
        if read_shard_as(&partial, config, spec, info).is_err() {
            let shard = generate_shard(config, spec, info, on_episode)?;
            write_shard(
                &partial.join(&info.file),
                &shard,
                spec,
                config.frames,
                config.size,
            )?;
        }
    }
    let marker = Marker {
        slice: slice.to_string(),
        files: infos.iter().map(|i| i.file.clone()).collect(),
    };
    write_marker(&partial, slice, &marker)?;
    Ok(infos)
}

/// Joins the `count` slices of the dataset `config` describes into `out`: the same files, bit
/// for bit, as one unsliced run. Refuses, naming them, missing slices, slices of another cut
/// and files a slice did not make; `out` is then left as it was, and the slices' work is kept.
pub fn merge_dataset(config: &GenerateConfig, out: &Path, count: u64, force: bool) -> Result<Meta> {
    config.validate()?;
    let partial = partial_dir(config, out);
    let expected = check_markers(&partial, out, count, "partial-")?;
    let refuse = |reason: String| SimError::Shards {
        out: out.to_owned(),
        reason,
    };
    for slice in &expected {
        let marker: Marker = read_marker(&partial, *slice)?;
        let files: Vec<String> = slice_shards(config, *slice)
            .into_iter()
            .map(|i| i.file)
            .collect();
        if marker.slice != slice.to_string() || marker.files != files {
            return Err(refuse(format!(
                "{} says shard {} made {:?}, not this config's {:?}",
                marker_path(&partial, *slice).display(),
                marker.slice,
                marker.files,
                files
            )));
        }
    }
    build(config, out, force, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Split;

    fn config(episodes: u64) -> GenerateConfig {
        GenerateConfig {
            scene: "occlusion".into(),
            split: Split::Train,
            episodes,
            frames: 6,
            seed: 5,
            size: 16,
            samples: 1,
            shard_episodes: Some(3),
            nuisance: Default::default(),
        }
    }

    /// Every file of a directory, by name.
    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn merged_slices_are_the_unsliced_dataset_bit_for_bit() {
        // 10 episodes in files of 3: four files (3, 3, 3, 1).
        let c = config(10);
        let tmp = tempfile::tempdir().unwrap();
        let whole = tmp.path().join("whole");
        write_whole(&c, &whole);
        let reference = files(&whole);
        assert_eq!(
            reference.len(),
            6,
            "four shards, meta.json, trajectories.csv"
        );
        for count in [1u64, 3, 4, 5] {
            let out = tmp.path().join(format!("cut-{count}"));
            // Slices run in any order; with 5, one has no file to make.
            for slice in WorkSlice::all(count).unwrap().into_iter().rev() {
                let made = write_dataset_slice(&c, &out, slice, &|| {}).unwrap();
                assert_eq!(made, slice_shards(&c, slice));
            }
            let meta = merge_dataset(&c, &out, count, false).unwrap();
            assert_eq!(files(&out), reference, "{count} shards");
            assert_eq!(meta.shards.len(), 4);
            assert!(!partial_dir(&c, &out).exists());
        }
    }

    fn write_whole(c: &GenerateConfig, out: &Path) {
        super::super::write_dataset(c, out, false, &|| {}).unwrap();
    }

    #[test]
    fn a_merge_refuses_missing_mixed_and_foreign_shards_and_keeps_their_work() {
        let c = config(10);
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("data");
        let s = |t: &str| t.parse::<WorkSlice>().unwrap();
        for slice in ["1/4", "3/4"] {
            write_dataset_slice(&c, &out, s(slice), &|| {}).unwrap();
        }
        let err = merge_dataset(&c, &out, 4, false).unwrap_err().to_string();
        assert!(
            err.contains("2/4, 4/4") && err.contains("not done"),
            "{err}"
        );
        assert!(!out.exists(), "nothing half-merged");
        let partial = partial_dir(&c, &out);
        assert!(partial.join("shard-00000.safetensors").exists());

        // A slice of another cut in the same folder.
        write_dataset_slice(&c, &out, s("2/3"), &|| {}).unwrap();
        let err = merge_dataset(&c, &out, 4, false).unwrap_err().to_string();
        assert!(
            err.contains("slice-2-of-3.json") && err.contains("another cut"),
            "{err}"
        );
        fs::remove_file(partial.join("slice-2-of-3.json")).unwrap();

        // Shards of another config for the same output are named when ours are missing.
        let other = GenerateConfig {
            seed: 6,
            ..c.clone()
        };
        write_dataset_slice(&other, &out, s("2/4"), &|| {}).unwrap();
        let err = merge_dataset(&c, &out, 4, false).unwrap_err().to_string();
        assert!(
            err.contains(&partial_dir(&other, &out).display().to_string()),
            "{err}"
        );

        // A file a marker claims but that is gone is named; nothing is generated in its place.
        for slice in ["2/4", "4/4"] {
            write_dataset_slice(&c, &out, s(slice), &|| {}).unwrap();
        }
        fs::remove_file(partial.join("shard-00001.safetensors")).unwrap();
        let err = merge_dataset(&c, &out, 4, false).unwrap_err().to_string();
        assert!(err.contains("shard-00001.safetensors"), "{err}");
        assert!(!out.exists() && !partial.join("shard-00001.safetensors").exists());

        // Made again, the merge goes through.
        write_dataset_slice(&c, &out, s("2/4"), &|| {}).unwrap();
        merge_dataset(&c, &out, 4, false).unwrap();
        assert!(out.join("meta.json").exists());
        assert!(merge_dataset(&c, &out, 0, false).is_err());
    }
}
