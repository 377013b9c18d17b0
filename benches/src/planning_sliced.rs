//! Planning cut into shards (`bench run --shard I/N --stage plan`): the episodes of every cell
//! (task, actor, planner) are cut into N contiguous runs. Shard I plans its episodes and writes
//! their verdicts as `episodes.slice-I-of-N.json` in the cell's folder, then a marker; the merge
//! checks every marker and summarises the verdicts, in shard order, into the row an unsharded
//! cell gives, bit for bit but for the time per action (an episode depends on the seed and its
//! index alone, and both summarise through [`PlanRow::from_episodes`]).

use std::fs;
use std::path::{Path, PathBuf};

use moravec_sim::WorkSlice;
use moravec_sim::work_slice::{check_markers, marker_path, markers, write_marker};

use crate::error::{HarnessError, Result};
use crate::files::{read_json, write_text};
use crate::planning::{EpisodeRow, PlanRow};

/// Where `slice` keeps its episodes' verdicts.
fn slice_path(dir: &Path, slice: WorkSlice) -> PathBuf {
    dir.join(format!("episodes.slice-{}.json", slice.file_label()))
}

/// Runs shard `slice` of a cell's `episodes` with `plan` (which runs a range of episodes and
/// returns their verdicts) and writes them into `dir`; returns how many it planned (0 when its
/// marker says it is done already).
pub fn plan_slice(
    dir: &Path,
    episodes: u64,
    slice: WorkSlice,
    plan: impl FnOnce(std::ops::Range<u64>) -> Result<Vec<EpisodeRow>>,
) -> Result<u64> {
    fs::create_dir_all(dir).map_err(|e| HarnessError::io("cannot create", dir, e))?;
    if marker_path(dir, slice).exists() {
        return Ok(0);
    }
    let range = slice.range(episodes);
    let rows = plan(range.clone())?;
    let json = serde_json::to_string_pretty(&rows).expect("verdicts serialise");
    write_text(&slice_path(dir, slice), &json)?;
    let marker = serde_json::json!({ "slice": slice.to_string(), "episodes": rows.len() });
    write_marker(dir, slice, &marker)?;
    Ok(range.end - range.start)
}

/// Joins the `count` shards of a cell of `episodes` episodes in `dir` into its row (who acts,
/// with which planner, on which task), then removes the shards' files. Refuses, naming them,
/// shards that are not done, of another cut, or whose episodes are not the ones their slice
/// takes.
pub fn merge_plan_slices(
    dir: &Path,
    count: u64,
    episodes: u64,
    cell: (&str, &str, &str),
) -> Result<PlanRow> {
    let slices = check_markers(dir, dir, count, "plan-")?;
    let mut all: Vec<EpisodeRow> = Vec::with_capacity(episodes as usize);
    for &slice in &slices {
        let path = slice_path(dir, slice);
        let rows: Vec<EpisodeRow> = read_json(&path)?;
        let expected: Vec<u64> = slice.range(episodes).collect();
        let found: Vec<u64> = rows.iter().map(|e| e.episode).collect();
        if found != expected {
            return Err(HarnessError::Schema {
                path,
                message: format!(
                    "shard {slice} of {episodes} episodes holds episodes {found:?}, expected \
                     {expected:?} (a shard of another config?)"
                ),
            });
        }
        all.extend(rows);
    }
    let (model, planner, task) = cell;
    let row = PlanRow::from_episodes(model, planner, task, all);
    for &slice in &slices {
        let part = slice_path(dir, slice);
        fs::remove_file(&part).map_err(|e| HarnessError::io("cannot remove", &part, e))?;
    }
    for (_, name) in markers(dir)? {
        let path = dir.join(name);
        fs::remove_file(&path).map_err(|e| HarnessError::io("cannot remove", &path, e))?;
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(i: u64) -> EpisodeRow {
        EpisodeRow {
            episode: i,
            success: i.is_multiple_of(3),
            object_success: i.is_multiple_of(2),
            ever_reached: i % 3 != 2,
            // As the episodes give it: an f32 distance widened, 17 significant digits in JSON.
            final_distance: f64::from((i as f32 * 0.737_1).sin().abs() * 0.3),
            cleared: None,
            plan_ms_per_action: 0.0,
        }
    }

    fn plan(range: std::ops::Range<u64>) -> Result<Vec<EpisodeRow>> {
        Ok(range.map(verdict).collect())
    }

    fn bits(row: &PlanRow) -> Vec<u64> {
        [
            row.success_rate,
            row.ci_low,
            row.ci_high,
            row.object_success_rate,
            row.ever_reached_rate,
            row.final_distance,
        ]
        .iter()
        .map(|x| x.to_bits())
        .collect()
    }

    #[test]
    fn merged_shards_give_the_whole_cells_row() {
        let cell = ("m", "cem", "reach");
        let n = 300;
        let whole = PlanRow::from_episodes("m", "cem", "reach", plan(0..n).unwrap());
        for count in [1, 3, 4, 9] {
            let dir = tempfile::tempdir().unwrap();
            for slice in WorkSlice::all(count).unwrap() {
                plan_slice(dir.path(), n, slice, plan).unwrap();
            }
            let merged = merge_plan_slices(dir.path(), count, n, cell).unwrap();
            // Every verdict read back is the same bits (JSON floats read back exactly).
            for (a, b) in merged.per_episode.iter().zip(&whole.per_episode) {
                assert_eq!(a.final_distance.to_bits(), b.final_distance.to_bits());
            }
            assert_eq!(merged, whole, "{count} shards");
            assert_eq!(bits(&merged), bits(&whole));
            // Only what a whole cell leaves is left.
            assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }

    #[test]
    fn a_done_shard_is_not_planned_again() {
        let dir = tempfile::tempdir().unwrap();
        let slice = WorkSlice::new(2, 3).unwrap();
        assert_eq!(plan_slice(dir.path(), 7, slice, plan).unwrap(), 2);
        let again = plan_slice(dir.path(), 7, slice, |_| panic!("planned again"));
        assert_eq!(again.unwrap(), 0);
    }

    #[test]
    fn merge_refuses_missing_other_cut_and_foreign_shards() {
        let cell = ("m", "cem", "reach");
        let dir = tempfile::tempdir().unwrap();
        plan_slice(dir.path(), 7, WorkSlice::new(1, 3).unwrap(), plan).unwrap();
        let err = merge_plan_slices(dir.path(), 3, 7, cell)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2/3, 3/3") && err.contains("not done"),
            "{err}"
        );
        let err = merge_plan_slices(dir.path(), 4, 7, cell)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("slice-1-of-3.json") && err.contains("another cut"),
            "{err}"
        );
        // A shard made for another number of episodes.
        for i in [2, 3] {
            plan_slice(dir.path(), 9, WorkSlice::new(i, 3).unwrap(), plan).unwrap();
        }
        let err = merge_plan_slices(dir.path(), 3, 7, cell)
            .unwrap_err()
            .to_string();
        assert!(err.contains("episodes.slice-2-of-3.json"), "{err}");
        assert!(err.contains("expected [2, 3]"), "{err}");
    }
}
