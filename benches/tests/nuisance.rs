//! The nuisance sweep: `bench run` with several `nuisance` levels runs every level, writes
//! `nuisance.csv` and its plot, lists its stages with `--plan-only`, resumes to the same bits,
//! and its level 0 is the run without nuisance, stage for stage.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use moravec_bench::RunConfig;
use moravec_bench::run::{RunOptions, run};
use moravec_bench::stages::listing::list;

fn options(config: RunConfig, work: &Path, out: &Path) -> RunOptions {
    RunOptions {
        config,
        out: Some(out.to_owned()),
        work: work.to_owned(),
        force: Vec::new(),
        stop_after: None,
        sharded: None,
    }
}

/// The stage folders under `work`, as `<kind>/<label>-<hash>`.
fn stage_dirs(work: &Path) -> BTreeSet<PathBuf> {
    let mut made = BTreeSet::new();
    for kind in fs::read_dir(work).unwrap() {
        let kind = kind.unwrap().path();
        for stage in fs::read_dir(&kind).unwrap() {
            let stage = stage.unwrap().path();
            if stage.join("stage.json").exists() {
                made.insert(stage.strip_prefix(work).unwrap().to_owned());
            }
        }
    }
    made
}

#[test]
fn a_sweep_runs_every_level_writes_its_table_and_level_zero_is_the_plain_run() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let sweep = RunConfig::from_toml("nuisance = [0, 2]", "smoke", "sweep.toml").unwrap();
    let out = tmp.path().join("sweep");
    let outcome = run(&options(sweep.clone(), &work, &out)).unwrap();
    assert_eq!(outcome.out.as_deref(), Some(out.as_path()));
    for level in [0, 2] {
        let dir = out.join(format!("nuisance-{level}"));
        for file in ["voe.csv", "probe.csv", "summary.md", "config.toml"] {
            assert!(dir.join(file).exists(), "{}", dir.join(file).display());
        }
    }
    assert!(out.join("nuisance.png").exists());
    assert!(
        outcome.summary.contains("nuisance sweep"),
        "{}",
        outcome.summary
    );

    let text = fs::read_to_string(out.join("nuisance.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "run,model,level,metric,cell,value,ci_low,ci_high,n,source"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let has = |model: &str, level: &str, metric: &str, cell: &str| {
        rows.iter()
            .any(|r| r[1] == model && r[2] == level && r[3] == metric && r[4] == cell)
    };
    for level in ["0", "2"] {
        for model in &sweep.train.models {
            assert!(
                has(model, level, "probe_r2", "mean/position"),
                "{model} {level}"
            );
            assert!(
                has(model, level, "prediction_ratio", "mean"),
                "{model} {level}"
            );
            assert!(
                has(model, level, "relative_accuracy", "permanence/all"),
                "{model} {level}"
            );
        }
        assert!(has("pixels", level, "probe_r2", "mean/position"));
        assert!(
            rows.iter()
                .any(|r| r[2] == level && r[3] == "planning_success")
        );
        // The frame-level controls stay at chance on the headline cells at every level.
        for control in &sweep.score.controls {
            let cells: Vec<&Vec<&str>> = rows
                .iter()
                .filter(|r| r[1] == control && r[2] == level && r[3] == "relative_accuracy")
                .collect();
            assert!(!cells.is_empty(), "{control}");
            for r in cells {
                assert_eq!(r[5], "0.5", "{control} at level {level} on {}", r[4]);
            }
        }
    }
    // Prediction ratios are finite and positive.
    for r in rows.iter().filter(|r| r[3] == "prediction_ratio") {
        let v: f64 = r[5].parse().unwrap();
        assert!(v.is_finite() && v > 0.0, "{r:?}");
    }

    // `--plan-only` lists exactly the stages the sweep made, each level's, all done.
    let listed = list(&work, &sweep, &candle_core::Device::Cpu).unwrap();
    assert!(listed.iter().all(|l| l.done));
    assert!(listed.iter().any(|l| l.level == Some(2)));
    let names: BTreeSet<PathBuf> = listed
        .iter()
        .map(|l| Path::new(l.kind.as_str()).join(format!("{}-{}", l.label, &l.hash[..12])))
        .collect();
    let made = stage_dirs(&work);
    assert_eq!(names, made);

    // A second run reuses every stage and writes the same table.
    let again = tmp.path().join("again");
    run(&options(sweep, &work, &again)).unwrap();
    assert_eq!(
        fs::read(again.join("nuisance.csv")).unwrap(),
        text.as_bytes()
    );

    // Level 0 is the plain run: it makes no stage the sweep did not.
    let plain = RunConfig::preset("smoke").unwrap();
    run(&options(plain, &work, &tmp.path().join("plain"))).unwrap();
    assert_eq!(stage_dirs(&work), made);
}
