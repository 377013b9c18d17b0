//! Scoring cut into shards (`bench run --shard I/N --stage score`): the movies to score, in
//! suite order (property, then episode), are cut into N contiguous runs. Shard I writes its
//! movies' curve rows per property as `surprise-<property>.slice-I-of-N.csv` in the scoring
//! stage's folder, then a marker; the merge checks every marker and joins each property's rows,
//! in shard order, into the `surprise-<property>.csv` one unsharded scoring writes, bit for bit
//! (a movie's curve depends on that movie alone).

use std::fs;
use std::path::{Path, PathBuf};

use candle_core::Device;
use moravec_sim::WorkSlice;
use moravec_sim::voe::{Property, Suite};
use moravec_sim::work_slice::{check_markers, marker_path, markers, write_marker};

use crate::error::{HarnessError, Result};
use crate::files::write_atomic;
use crate::surprise::{CURVE_HEADER, Movies, Scorer, curves_csv, curves_path, suite_clips};

/// The movies a scoring shard may take, in order.
fn units(suite: &Suite, movies: Movies) -> Vec<(Property, usize)> {
    let chosen = movies.episodes(suite);
    suite
        .meta
        .properties
        .iter()
        .flat_map(|p| chosen[&p.property].iter().map(move |&e| (p.property, e)))
        .collect()
}

/// Where `slice` keeps its rows of `property`.
fn slice_path(dir: &Path, property: Property, slice: WorkSlice) -> PathBuf {
    dir.join(format!(
        "surprise-{property}.slice-{}.csv",
        slice.file_label()
    ))
}

/// Scores shard `slice` of `movies` into `dir`; returns how many movies it scored (0 when its
/// marker says it is done already). `on_movie` is called after each movie.
#[allow(clippy::too_many_arguments)]
pub fn score_suite_slice(
    scorer: &Scorer,
    suite: &Suite,
    movies: Movies,
    slice: WorkSlice,
    action_dim: usize,
    stride: usize,
    dir: &Path,
    device: &Device,
    on_movie: &dyn Fn(),
) -> Result<u64> {
    fs::create_dir_all(dir).map_err(|e| HarnessError::io("cannot create", dir, e))?;
    if marker_path(dir, slice).exists() {
        return Ok(0);
    }
    let all = units(suite, movies);
    let range = slice.range(all.len() as u64);
    let mine = &all[range.start as usize..range.end as usize];
    for p in &suite.meta.properties {
        let episodes: Vec<usize> = mine
            .iter()
            .filter(|(q, _)| *q == p.property)
            .map(|&(_, e)| e)
            .collect();
        if episodes.is_empty() {
            continue;
        }
        let clips = suite_clips(suite, p.property, action_dim)?;
        let bytes = curves_csv(scorer, &clips, &episodes, stride, device, on_movie)?;
        let path = slice_path(dir, p.property, slice);
        write_atomic(&path, &bytes)?;
    }
    let marker = serde_json::json!({ "slice": slice.to_string(), "movies": mine.len() });
    write_marker(dir, slice, &marker)?;
    Ok(mine.len() as u64)
}

/// Joins the `count` shards of scoring `movies` in `dir` into its curves files, then removes
/// the shards' files. Refuses, naming them, shards that are not done or of another cut.
pub fn merge_suite_slices(suite: &Suite, movies: Movies, dir: &Path, count: u64) -> Result<()> {
    let slices = check_markers(dir, dir, count, "score-")?;
    let all = units(suite, movies);
    // The header exactly as the curves writer writes it.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CURVE_HEADER).expect("in memory");
    let header = String::from_utf8(w.into_inner().expect("in memory")).expect("ASCII");
    for p in &suite.meta.properties {
        let path = curves_path(dir, p.property);
        if path.exists() {
            continue;
        }
        let mut text = header.clone();
        for &slice in &slices {
            let range = slice.range(all.len() as u64);
            let has = all[range.start as usize..range.end as usize]
                .iter()
                .any(|(q, _)| *q == p.property);
            if !has {
                continue;
            }
            let part = slice_path(dir, p.property, slice);
            let body =
                fs::read_to_string(&part).map_err(|e| HarnessError::io("cannot read", &part, e))?;
            let rows = body
                .strip_prefix(&header)
                .ok_or_else(|| HarnessError::Schema {
                    path: part.clone(),
                    message: format!("expected the header {}", header.trim_end()),
                })?;
            text.push_str(rows);
        }
        write_atomic(&path, text.as_bytes())?;
    }
    for p in &suite.meta.properties {
        for &slice in &slices {
            let part = slice_path(dir, p.property, slice);
            if part.exists() {
                fs::remove_file(&part).map_err(|e| HarnessError::io("cannot remove", &part, e))?;
            }
        }
    }
    for (_, name) in markers(dir)? {
        let path = dir.join(name);
        fs::remove_file(&path).map_err(|e| HarnessError::io("cannot remove", &path, e))?;
    }
    Ok(())
}
