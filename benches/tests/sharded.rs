//! A run cut into shards (`bench run --shard I/N --stage KIND`, then `--merge KIND --shards N`)
//! leaves the work folder's datasets, suite, checkpoints, surprise curves and planning cells
//! exactly as one unsharded run does (planning's time per action aside), for N = 1, 3 and 4,
//! and refuses to merge what is not all there.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use moravec_bench::RunConfig;
use moravec_bench::run::{RunOptions, run};
use moravec_bench::stages::listing::list;
use moravec_bench::stages::{Sharded, StageKind};
use moravec_sim::WorkSlice;

fn options(work: &Path, stop_after: Option<StageKind>, sharded: Option<Sharded>) -> RunOptions {
    let mut config = RunConfig::preset("smoke").unwrap();
    // Five planning episodes per cell, so that cuts of 3 and 4 are uneven and none is empty.
    config.plan.episodes = 5;
    RunOptions {
        config,
        out: None,
        work: work.to_owned(),
        force: Vec::new(),
        stop_after,
        sharded,
    }
}

/// Every file under `dir/kind`, by path, but the stage records (they hold timings), the stage
/// locks (who held them) and the training logs' timing columns (samples/s and seconds, the
/// last two).
fn files(dir: &Path, kind: StageKind) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let root = dir.join(kind.as_str());
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if name == "training.csv" {
                let text = fs::read_to_string(&p).unwrap();
                let kept: String = text
                    .lines()
                    .map(|l| {
                        let cells: Vec<&str> = l.split(',').collect();
                        cells[..cells.len() - 2].join(",") + "\n"
                    })
                    .collect();
                out.insert(p.strip_prefix(&root).unwrap().to_owned(), kept.into_bytes());
            } else if name == "row.json" {
                // A planning cell's row: all but the time per action.
                let mut row: serde_json::Value =
                    serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
                untime(&mut row);
                out.insert(
                    p.strip_prefix(&root).unwrap().to_owned(),
                    serde_json::to_vec(&row).unwrap(),
                );
            } else if name != "stage.json" && !name.ends_with(".lock") {
                out.insert(
                    p.strip_prefix(&root).unwrap().to_owned(),
                    fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// `value` with every `plan_ms_per_action` zeroed.
fn untime(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "plan_ms_per_action" {
                    *v = serde_json::Value::from(0.0);
                } else {
                    untime(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(untime),
        _ => {}
    }
}

/// Asserts that two folders' files are the same, naming the ones that differ.
fn same(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>, what: &str) {
    let differ: Vec<&PathBuf> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .collect();
    assert!(differ.is_empty(), "{what}: {differ:?} differ");
}

fn make(work: &Path, kind: StageKind, count: u64) {
    // The shards in any order.
    for slice in WorkSlice::all(count).unwrap().into_iter().rev() {
        let outcome = run(&options(work, None, Some(Sharded::Make { kind, slice }))).unwrap();
        assert_eq!(outcome.stopped_after, Some(kind));
    }
}

fn merge(work: &Path, kind: StageKind, count: u64) -> moravec_bench::Result<()> {
    run(&options(work, None, Some(Sharded::Merge { kind, count }))).map(|_| ())
}

#[test]
fn a_run_in_shards_leaves_the_stages_of_an_unsharded_run_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let config = options(&whole, None, None).config;
    let device = candle_core::Device::Cpu;
    let before = list(&whole, &config, &device).unwrap();
    assert!(before.iter().all(|l| !l.done));
    run(&options(&whole, Some(StageKind::Plan), None)).unwrap();
    // `--plan-only` lists exactly the stages the run made, under their folders, all done.
    let after = list(&whole, &config, &device).unwrap();
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|l| l.done));
    let listed: std::collections::BTreeSet<PathBuf> = after
        .iter()
        .map(|l| Path::new(l.kind.as_str()).join(format!("{}-{}", l.label, &l.hash[..12])))
        .collect();
    let mut made = std::collections::BTreeSet::new();
    for kind in fs::read_dir(&whole).unwrap() {
        let kind = kind.unwrap().path();
        for stage in fs::read_dir(&kind).unwrap() {
            let stage = stage.unwrap().path();
            if stage.join("stage.json").exists() {
                made.insert(stage.strip_prefix(&whole).unwrap().to_owned());
            }
        }
    }
    assert_eq!(listed, made);
    // What scoring is cut into is the suite's movies.
    let suite_dir = whole.join(
        after
            .iter()
            .find(|l| l.kind == StageKind::Voe)
            .map(|l| Path::new("voe").join(format!("suite-{}/suite", &l.hash[..12])))
            .unwrap(),
    );
    let movies = moravec_sim::voe::Suite::load(&suite_dir)
        .unwrap()
        .rows
        .len() as u64;
    assert!(
        after
            .iter()
            .any(|l| l.kind == StageKind::Score && l.units == (movies, "movie"))
    );
    for count in [1u64, 3, 4] {
        let work = tmp.path().join(format!("cut-{count}"));
        for kind in [StageKind::Data, StageKind::Voe] {
            make(&work, kind, count);
            merge(&work, kind, count).unwrap();
            assert_eq!(
                files(&work, kind),
                files(&whole, kind),
                "{kind:?} in {count}"
            );
        }
        // Training shares out whole models (7 in the smoke preset), dealt round-robin.
        make(&work, StageKind::Train, count);
        merge(&work, StageKind::Train, count).unwrap();
        let t = files(&work, StageKind::Train);
        assert!(t.keys().any(|p| p.ends_with("checkpoint.safetensors")));
        same(
            &t,
            &files(&whole, StageKind::Train),
            &format!("models in {count}"),
        );
        // Scoring cuts the suite's movies.
        make(&work, StageKind::Score, count);
        merge(&work, StageKind::Score, count).unwrap();
        let s = files(&work, StageKind::Score);
        assert!(s.keys().any(|p| p.ends_with("surprise-permanence.csv")));
        assert!(!s.keys().any(|p| p.to_string_lossy().contains("slice-")));
        same(
            &files(&work, StageKind::Score),
            &files(&whole, StageKind::Score),
            &format!("scores in {count}"),
        );
        // Probes are shared out whole; a merge before the shards names a probe not made.
        let err = merge(&work, StageKind::Probe, count)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pixels") && err.contains("shards before the merge"),
            "{err}"
        );
        make(&work, StageKind::Probe, count);
        merge(&work, StageKind::Probe, count).unwrap();
        same(
            &files(&work, StageKind::Probe),
            &files(&whole, StageKind::Probe),
            &format!("probes in {count}"),
        );
        // Planning cuts each cell's episodes.
        make(&work, StageKind::Plan, count);
        merge(&work, StageKind::Plan, count).unwrap();
        let p = files(&work, StageKind::Plan);
        assert!(p.keys().any(|p| p.ends_with("row.json")));
        assert!(p.keys().any(|p| p.ends_with("episode.gif")));
        assert!(!p.keys().any(|p| p.to_string_lossy().contains("slice-")));
        same(
            &p,
            &files(&whole, StageKind::Plan),
            &format!("plans in {count}"),
        );
    }
}

#[test]
fn a_sharded_run_refuses_missing_shards_unmade_earlier_stages_and_unsharded_kinds() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let slice = |s: &str| s.parse::<WorkSlice>().unwrap();
    // The suite cannot be cut before the datasets are done.
    let err = run(&options(
        &work,
        None,
        Some(Sharded::Make {
            kind: StageKind::Voe,
            slice: slice("1/2"),
        }),
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("data") && err.contains("first"), "{err}");
    // A merge with a shard missing names it; nothing is marked done.
    run(&options(
        &work,
        None,
        Some(Sharded::Make {
            kind: StageKind::Data,
            slice: slice("1/2"),
        }),
    ))
    .unwrap();
    let err = merge(&work, StageKind::Data, 2).unwrap_err().to_string();
    assert!(err.contains("2/2") && err.contains("not done"), "{err}");
    assert!(
        !fs::read_dir(work.join("data")).unwrap().any(|e| e
            .unwrap()
            .path()
            .join("stage.json")
            .exists())
    );
    // A merge of no shards is refused.
    let err = run(&options(
        &work,
        None,
        Some(Sharded::Merge {
            kind: StageKind::Data,
            count: 0,
        }),
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("--shards") && err.contains("0"), "{err}");
}
