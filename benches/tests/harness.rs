//! `bench run` end to end on the smoke preset, resuming after the training stage, `compare`, and
//! bad input to both.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use moravec_bench::results::{
    CURVES_HEADER, LEARNING_CURVE_HEADER, PROBE_HEADER, RESULTS_SCHEMA, SCORES_HEADER,
    THROUGHPUT_HEADER, TRAINING_HEADER, VOE_HEADER,
};

mod common;
use common::{bench, run_bin, text};
use moravec_agents::models::MODELS;

fn compare(args: &[&str], cwd: &Path) -> Output {
    run_bin(env!("CARGO_BIN_EXE_compare"), args, cwd)
}

/// One uninterrupted smoke run shared by the tests: (its temp dir, results folder).
fn smoke() -> &'static (tempfile::TempDir, std::path::PathBuf) {
    static RUN: OnceLock<(tempfile::TempDir, std::path::PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = common::smoke_run();
        let out = tmp.path().join("results");
        (tmp, out)
    })
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn column<'a>(header: &[String], rows: &'a [Vec<String>], name: &str) -> BTreeSet<&'a str> {
    let i = header.iter().position(|h| h == name).unwrap();
    rows.iter().map(|r| r[i].as_str()).collect()
}

#[test]
fn a_smoke_run_writes_every_result_file() {
    let (_, out) = smoke();
    // Every model of the registry (the smoke preset trains them all) and every control.
    let models: BTreeSet<&str> = MODELS
        .iter()
        .map(|m| m.name)
        .chain(["frame-stats", "object-pixels", "frame-diff"])
        .collect();
    let (h, voe) = read_csv(&out.join("voe.csv"));
    assert_eq!(h, VOE_HEADER);
    assert_eq!(column(&h, &voe, "model"), models);
    let properties: BTreeSet<&str> = moravec_sim::voe::PROPERTIES
        .iter()
        .map(|p| p.property.as_str())
        .collect();
    assert_eq!(column(&h, &voe, "property"), properties);
    assert_eq!(
        column(&h, &voe, "condition"),
        ["occluded", "pair", "visible"].into_iter().collect()
    );
    assert_eq!(
        column(&h, &voe, "aggregation"),
        ["max", "mean"].into_iter().collect()
    );
    for metric in [
        "relative_accuracy",
        "tie_share",
        "auroc",
        "absolute_accuracy",
        "disappearance_accuracy",
        "appearance_accuracy",
    ] {
        assert!(column(&h, &voe, "metric").contains(metric), "{metric}");
    }
    assert!(column(&h, &voe, "subset").contains("decidable"));
    for r in &voe {
        let v: f64 = r[7].parse().unwrap();
        let (lo, hi): (f64, f64) = (r[8].parse().unwrap(), r[9].parse().unwrap());
        if r[6] != "auroc" && r[6] != "absolute_accuracy" {
            assert!(lo <= v && v <= hi, "interval around the estimate: {r:?}");
        }
        assert!((0.0..=1.0).contains(&v), "{r:?}");
    }
    // The frame-statistics control sums a statistic of single frames, and a quadruplet's
    // impossible movies hold the same frames at every index as its possible ones: exact ties.
    for r in voe.iter().filter(|r| {
        r[1] == "frame-stats" && r[5] == "mean" && ["permanence", "continuity"].contains(&&*r[2])
    }) {
        match r[6].as_str() {
            "relative_accuracy" => assert_eq!(r[7], "0.5", "{r:?}"),
            "tie_share" => assert_eq!(r[7], "1", "{r:?}"),
            _ => {}
        }
    }

    let (h, rows) = read_csv(&out.join("scores.csv"));
    assert_eq!(h, SCORES_HEADER);
    assert_eq!(column(&h, &rows, "model").len(), models.len());
    // Every movie's curve, window by window: the first permanence movie's mean and window count
    // are those of its row in scores.csv (episodes count a property's sets and members in order).
    let (hc, curves) = read_csv(&out.join("curves.csv"));
    assert_eq!(hc, CURVES_HEADER);
    assert_eq!(column(&hc, &curves, "model"), column(&h, &rows, "model"));
    for model in models {
        let first = rows
            .iter()
            .find(|r| r[1] == model && r[2] == "permanence" && r[4] == "0" && r[5] == "0")
            .unwrap();
        let curve: Vec<f64> = curves
            .iter()
            .filter(|r| r[1] == model && r[2] == "permanence" && r[3] == "0")
            .map(|r| r[5].parse().unwrap())
            .collect();
        assert_eq!(curve.len().to_string(), first[8], "{model}");
        let mean = curve.iter().sum::<f64>() / curve.len() as f64;
        let expected: f64 = first[9].parse().unwrap();
        assert!(
            (mean - expected).abs() <= 1e-9 * expected.abs().max(1e-12),
            "{model}: {mean} vs {expected}"
        );
    }
    let (h, rows) = read_csv(&out.join("training.csv"));
    assert_eq!(h, TRAINING_HEADER);
    assert_eq!(
        column(&h, &rows, "model"),
        MODELS.iter().filter(|m| m.trains).map(|m| m.name).collect()
    );
    assert!(column(&h, &rows, "term").contains("total"));
    assert!(
        column(&h, &rows, "term").contains("visibility"),
        "slot-jepa's terms"
    );
    let (h, rows) = read_csv(&out.join("throughput.csv"));
    assert_eq!(h, THROUGHPUT_HEADER);
    assert_eq!(
        column(&h, &rows, "stage"),
        ["data", "voe", "train", "score", "plan"]
            .into_iter()
            .collect()
    );

    let meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["schema"], RESULTS_SCHEMA);
    // Training and held-out data of 4 scenes, the suite, a training per model, a scoring per
    // model and control (3), a probe per model and the pixels, the learning curve's earlier point
    // (a scoring and a probe for each trained model), and on reach a planning cell per model
    // that plans from frames (not the slot models, given masks), the two oracles and random.
    // The slot models, which carry a memory, are probed on it too.
    let all = MODELS.len();
    let trained = MODELS.iter().filter(|m| m.trains).count();
    let planning = MODELS.iter().filter(|m| m.privileged.is_none()).count();
    let memory = MODELS.iter().filter(|m| m.privileged.is_some()).count();
    assert_eq!(
        meta["stages"].as_array().unwrap().len(),
        8 + 1 + all + (all + 3) + (all + 1 + memory) + trained * 2 + (planning + 3)
    );
    let (h, rows) = read_csv(&out.join("planning.csv"));
    assert_eq!(h, moravec_bench::results::PLANNING_HEADER);
    assert_eq!(column(&h, &rows, "task"), ["reach"].into_iter().collect());
    assert!(column(&h, &rows, "model").contains("oracle"));
    assert!(column(&h, &rows, "model").contains("image-oracle"));
    assert!(column(&h, &rows, "model").contains("random"));
    assert!(column(&h, &rows, "model").contains("jepa-vicreg"));
    // Every episode of every cell, whose distances average to the cell's.
    let (eh, erows) = read_csv(&out.join("planning_episodes.csv"));
    assert_eq!(eh, moravec_bench::results::EPISODES_HEADER);
    let at = |h: &[String], name: &str| h.iter().position(|x| x == name).unwrap();
    for row in &rows {
        let cell = |r: &Vec<String>, h: &[String]| {
            ["model", "planner", "task"].map(|c| r[at(h, c)].clone())
        };
        let mine: Vec<&Vec<String>> = erows
            .iter()
            .filter(|e| cell(e, &eh) == cell(row, &h))
            .collect();
        let n: usize = row[at(&h, "episodes")].parse().unwrap();
        assert_eq!(mine.len(), n, "{row:?}");
        let mean = mine
            .iter()
            .map(|e| e[at(&eh, "final_distance")].parse::<f64>().unwrap())
            .sum::<f64>()
            / n as f64;
        let expected: f64 = row[at(&h, "final_distance")].parse().unwrap();
        assert!(
            (mean - expected).abs() < 1e-9,
            "{row:?}: {mean} vs {expected}"
        );
        let wins = mine
            .iter()
            .filter(|e| e[at(&eh, "success")] == "true")
            .count();
        assert_eq!(wins.to_string(), row[at(&h, "successes")], "{row:?}");
        // The two further verdicts: shares of their episodes, and implied by success (the
        // whole goal reached at the end is the object reached, and the goal held at a step).
        for (rate, flag) in [
            ("object_success_rate", "object_success"),
            ("ever_reached_rate", "ever_reached"),
        ] {
            let k = mine.iter().filter(|e| e[at(&eh, flag)] == "true").count();
            let expected: f64 = row[at(&h, rate)].parse().unwrap();
            assert_eq!(k as f64 / n as f64, expected, "{row:?}: {rate}");
        }
        for e in &mine {
            if e[at(&eh, "success")] == "true" {
                assert_eq!(e[at(&eh, "object_success")], "true", "{e:?}");
                assert_eq!(e[at(&eh, "ever_reached")], "true", "{e:?}");
            }
        }
    }
    let gif = fs::read(out.join("plan-reach.gif")).unwrap();
    assert_eq!(&gif[..6], b"GIF89a");
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    let back = moravec_bench::RunConfig::from_toml(&config, "default", "config.toml").unwrap();
    assert_eq!(back, moravec_bench::RunConfig::preset("smoke").unwrap());
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| permanence | occluded |"), "{summary}");
    assert!(summary.contains("Controls check"));
    for png in [
        "relative_accuracy.png",
        "training.png",
        "planning.png",
        "surprise-jepa-vicreg.png",
        "surprise-untrained.png",
        "surprise-slot-jepa.png",
    ] {
        let bytes = fs::read(out.join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png}");
        assert!(bytes.len() > 5_000, "{png} has a picture in it");
    }
}

#[test]
fn a_smoke_run_has_probes_and_a_learning_curve_point_per_checkpoint_and_model() {
    let (_, out) = smoke();
    let trained: Vec<&str> = MODELS.iter().filter(|m| m.trains).map(|m| m.name).collect();
    let (h, rows) = read_csv(&out.join("probe.csv"));
    assert_eq!(h, PROBE_HEADER);
    let mut probed: BTreeSet<String> = MODELS.iter().map(|m| m.name.to_owned()).collect();
    probed.insert("pixels".into());
    // The models with a memory are probed on it too.
    probed.insert("slot-jepa memory".into());
    probed.insert("slot-untrained memory".into());
    let probed: BTreeSet<&str> = probed.iter().map(String::as_str).collect();
    assert_eq!(column(&h, &rows, "model"), probed);
    let scenes: BTreeSet<&str> = moravec_sim::SCENES.iter().map(|s| s.name).collect();
    assert_eq!(column(&h, &rows, "scene"), scenes);
    assert_eq!(
        column(&h, &rows, "variable"),
        BTreeSet::from(["position", "velocity", "image_position"])
    );
    assert_eq!(rows.len(), probed.len() * scenes.len() * 3);

    let (h, rows) = read_csv(&out.join("learning_curve.csv"));
    assert_eq!(h, LEARNING_CURVE_HEADER);
    // The smoke preset trains 10 steps with a curve of 2 points: 5 and 10.
    for &model in &trained {
        for step in ["5", "10"] {
            for metric in ["relative_accuracy", "probe_r2"] {
                let n = rows
                    .iter()
                    .filter(|r| r[1] == model && r[3] == step && r[4] == metric)
                    .count();
                assert!(n > 0, "{model} at {step}: no {metric} rows");
            }
        }
    }
    let curved = column(&h, &rows, "model");
    assert!(!curved.contains("untrained") && !curved.contains("slot-untrained"));
    let steps = column(&h, &rows, "step");
    assert_eq!(steps, BTreeSet::from(["5", "10"]));
    assert!(out.join("learning_curve.png").exists() && out.join("probe.png").exists());
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("## State probes") && summary.contains("## Learning curves"));
}

#[test]
fn compare_of_a_run_with_itself_has_zero_deltas() {
    let (tmp, out) = smoke();
    let o = compare(
        &[
            out.to_str().unwrap(),
            out.to_str().unwrap(),
            "--fail-on-regression",
            "0",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("same settings"), "{t}");
    let rows: Vec<&str> = t
        .lines()
        .filter(|l| l.ends_with("overlap") || l.ends_with("disjoint"))
        .collect();
    assert!(rows.len() > 100, "{t}");
    for l in rows {
        let delta = l.split_whitespace().rev().nth(1).unwrap();
        assert!(delta == "+0.000" || delta == "NaN", "{l}");
    }
    assert!(t.contains("0 only in A, 0 only in B"), "{t}");
    for (file, _) in moravec_bench::compare::TABLES {
        let line = t
            .lines()
            .find(|l| l.trim_start().starts_with(file))
            .unwrap_or_else(|| panic!("no line for {file}: {t}"));
        assert!(line.ends_with("identical"), "{line}");
    }
}

/// `voe.seed` makes a fresh suite that the same trained models score: nothing is regenerated
/// or retrained but the suite and the scores.
#[test]
fn a_new_suite_seed_is_scored_by_the_trained_models_without_retraining() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--preset", "smoke", "--work", "w"];
        args.extend(extra);
        let o = bench(&args, tmp.path());
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    run(&["--out", "a"]);
    fs::write(tmp.path().join("fresh.toml"), "[voe]\nseed = 11\n").unwrap();
    let t = run(&["--out", "b", "--config", "fresh.toml"]);
    for model in [
        "jepa-vicreg",
        "jepa-ema",
        "pixel-ae",
        "pixel-video",
        "untrained",
    ] {
        assert!(
            t.contains(&format!("train {model}: done before, reused")),
            "{t}"
        );
        assert!(!t.contains(&format!("score {model}: done before")), "{t}");
    }
    assert!(t.contains("data occlusion: done before, reused"), "{t}");
    assert!(!t.contains("voe suite: done before"), "{t}");
    let config = fs::read_to_string(tmp.path().join("b/config.toml")).unwrap();
    assert!(
        config.contains("[voe]") && config.contains("seed = 11"),
        "{config}"
    );
    let summary = fs::read_to_string(tmp.path().join("b/summary.md")).unwrap();
    assert!(summary.contains("seed 11"), "{summary}");
    let scores = |dir: &str| {
        let (_, rows) = read_csv(&tmp.path().join(dir).join("scores.csv"));
        rows.into_iter()
            .map(|r| r[9..].to_vec())
            .collect::<Vec<_>>()
    };
    assert_ne!(scores("a"), scores("b"), "another suite, other movies");
}

#[test]
fn a_run_stopped_after_training_resumes_without_retraining_and_gives_the_same_csvs() {
    let (_, reference) = smoke();
    let tmp = tempfile::tempdir().unwrap();
    let args = ["run", "--preset", "smoke", "--work", "w", "--out", "r"];
    let mut first = args.to_vec();
    first.extend(["--stop-after", "train"]);
    let o = bench(&first, tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("stopped after the train stage"));
    assert!(!tmp.path().join("r").exists());
    // `--plan-only` lists the stages: the trained ones done, the rest not; it makes nothing.
    let kinds = |w: &str| {
        let mut v: Vec<String> = fs::read_dir(tmp.path().join(w))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let o = bench(
        &["run", "--preset", "smoke", "--work", "w", "--plan-only"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let listing = String::from_utf8_lossy(&o.stdout).into_owned();
    let row = |kind: &str, label: &str| {
        listing
            .lines()
            .find(|l| l.starts_with(kind) && l.split_whitespace().nth(1) == Some(label))
            .unwrap_or_else(|| panic!("no {kind} {label} in {listing}"))
            .to_owned()
    };
    assert!(row("train", "jepa-vicreg").contains(" yes "), "{listing}");
    assert!(
        row("data", "occlusion").ends_with("yes   1 file"),
        "{listing}"
    );
    assert!(row("score", "jepa-vicreg").contains(" no "), "{listing}");
    assert!(
        row("plan", "reach-oracle-cem").ends_with("no    1 episode"),
        "{listing}"
    );
    assert!(listing.contains("train  7 stages, 7 done"), "{listing}");
    // The stages' kinds, and the stage locks' folder: nothing was made by the listing.
    assert_eq!(kinds("w"), [".locks", "data", "train", "voe"]);
    let ckpt = |model: &str| {
        let dir = fs::read_dir(tmp.path().join("w/train"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                // A stage's folder (its lock file sits beside it).
                p.is_dir()
                    && p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(&format!("{model}-"))
            })
            .unwrap();
        fs::read(dir.join("checkpoint.safetensors")).unwrap()
    };
    let before = ckpt("jepa-vicreg");

    let o = bench(&args, tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for model in ["jepa-vicreg", "jepa-ema", "pixel-ae", "pixel-video"] {
        assert!(
            t.contains(&format!("train {model}: done before, reused")),
            "{t}"
        );
    }
    assert!(!t.contains("score jepa-vicreg: done before"), "{t}");
    assert_eq!(ckpt("jepa-vicreg"), before);
    for csv in [
        "voe.csv",
        "scores.csv",
        "training.csv",
        "probe.csv",
        "learning_curve.csv",
    ] {
        assert_eq!(
            fs::read(tmp.path().join("r").join(csv)).unwrap(),
            fs::read(reference.join(csv)).unwrap(),
            "{csv} of the resumed run equals the uninterrupted run's"
        );
    }

    // Planning is deterministic too, all but its timing column.
    let untimed = |dir: &Path| {
        let (_, rows) = read_csv(&dir.join("planning.csv"));
        rows.into_iter()
            .map(|mut r| {
                r.pop();
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(untimed(&tmp.path().join("r")), untimed(reference));

    // --force redoes one kind of stage.
    let mut forced = args.to_vec();
    forced.extend(["--force", "score"]);
    let o = bench(&forced, tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("train jepa-ema: done before, reused"), "{t}");
    assert!(!t.contains("score jepa-ema: done before"), "{t}");
    assert_eq!(
        fs::read(tmp.path().join("r/voe.csv")).unwrap(),
        fs::read(reference.join("voe.csv")).unwrap()
    );
}

/// Each model (and the untrained control) is trained once per seed; the tables pool the seeds.
#[test]
fn training_seeds_give_different_networks_and_the_same_seed_the_same_bits() {
    let (smoke_tmp, reference) = smoke();
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("c.toml"),
        "preset = \"smoke\"\n[train]\nseeds = [0, 1]\n",
    )
    .unwrap();
    let o = bench(
        &["run", "--config", "c.toml", "--work", "w", "--out", "r"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let stage_file = |work: &Path, label: &str, file: &str| {
        let dir = fs::read_dir(work.join("train"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                p.is_dir()
                    && name
                        .strip_prefix(&format!("{label}-"))
                        .is_some_and(|rest| !rest.contains('@'))
            })
            .unwrap_or_else(|| panic!("no stage {label}"));
        fs::read(dir.join(file)).unwrap()
    };
    let w = tmp.path().join("w");
    for model in ["jepa-vicreg", "untrained"] {
        let a = stage_file(&w, &format!("{model}@0"), "checkpoint.safetensors");
        let b = stage_file(&w, &format!("{model}@1"), "checkpoint.safetensors");
        assert_ne!(a, b, "{model}: seeds 0 and 1 give the same network");
        // Seed 0 is the smoke run's own seed: the same bits as its single network.
        let single = stage_file(
            &smoke_tmp.path().join("work"),
            model,
            "checkpoint.safetensors",
        );
        assert_eq!(a, single, "{model}");
    }
    let r = tmp.path().join("r");
    let (header, rows) = read_csv(&r.join("voe.csv"));
    let models = column(&header, &rows, "model");
    assert!(models.contains("jepa-vicreg") && !models.contains("jepa-vicreg@0"));
    assert!(column(&header, &rows, "metric").contains("seed_sd"));
    let (sh, srows) = read_csv(&r.join("voe_seeds.csv"));
    let labels = column(&sh, &srows, "model");
    for label in [
        "jepa-vicreg@0",
        "jepa-vicreg@1",
        "untrained@0",
        "untrained@1",
    ] {
        assert!(labels.contains(label), "{labels:?}");
    }
    let (ph, prows) = read_csv(&r.join("probe.csv"));
    assert_eq!(column(&ph, &prows, "seed"), BTreeSet::from(["", "0", "1"]));
    // The single-seed run writes no per-seed file.
    assert!(!reference.join("voe_seeds.csv").exists());
}

#[test]
fn bad_configs_fail_with_the_key_named() {
    let tmp = tempfile::tempdir().unwrap();
    for (body, expect) in [
        ("[train]\nstepz = 5\n", "stepz"),
        ("size = 20\n", "size = 20"),
        ("[voe]\nsets = 0\n", "voe.sets"),
        ("[voe]\nseed = -1\n", "voe.seed"),
        ("[train]\nsteps = \"many\"\n", "train.steps"),
        ("[train]\nmodels = [\"gpt\"]\n", "gpt"),
        ("preset = \"huge\"\n", "huge"),
        ("[train]\nseeds = []\n", "train.seeds"),
        ("[train]\nseeds = [3, 1, 3]\n", "train.seeds = 3"),
        ("[train]\ncurve = 0\n", "train.curve"),
        ("[probe]\nepisodes = 1\n", "probe.episodes"),
    ] {
        fs::write(tmp.path().join("c.toml"), body).unwrap();
        let o = bench(
            &["run", "--config", "c.toml", "--work", "w", "--out", "r"],
            tmp.path(),
        );
        assert!(!o.status.success(), "{body}");
        assert!(text(&o).contains(expect), "{body}: {}", text(&o));
        assert!(!tmp.path().join("w").exists() && !tmp.path().join("r").exists());
    }
    let o = bench(&["run", "--preset", "enormous"], tmp.path());
    assert!(!o.status.success());
    assert!(text(&o).contains("enormous") && text(&o).contains("smoke"));
    let o = bench(&["run", "--config", "missing.toml"], tmp.path());
    assert!(!o.status.success());
    assert!(text(&o).contains("missing.toml"));
}

#[test]
fn compare_refuses_missing_and_foreign_runs() {
    let (tmp_smoke, out) = smoke();
    let tmp = tempfile::tempdir().unwrap();
    let o = compare(&["nowhere", out.to_str().unwrap()], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("nowhere"), "{}", text(&o));

    let foreign = tmp.path().join("foreign");
    fs::create_dir_all(&foreign).unwrap();
    for f in ["voe.csv", "config.toml"] {
        fs::copy(out.join(f), foreign.join(f)).unwrap();
    }
    fs::write(foreign.join("meta.json"), "{\"schema\": \"other/9\"}").unwrap();
    let o = compare(
        &[out.to_str().unwrap(), foreign.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("other/9"), "{}", text(&o));

    // A run with other settings and a worse score: the differing setting is named, and the flag
    // turns the drop into a failure.
    let other = tmp.path().join("other");
    fs::create_dir_all(&other).unwrap();
    fs::copy(out.join("meta.json"), other.join("meta.json")).unwrap();
    let config = fs::read_to_string(out.join("config.toml"))
        .unwrap()
        .replace("steps = 10", "steps = 11");
    fs::write(other.join("config.toml"), config).unwrap();
    let voe = fs::read_to_string(out.join("voe.csv")).unwrap();
    let mut lines: Vec<String> = voe.lines().map(str::to_owned).collect();
    let i = lines
        .iter()
        .position(|l| l.contains(",relative_accuracy,") && !l.contains(",relative_accuracy,0,"))
        .unwrap();
    let mut cols: Vec<String> = lines[i].split(',').map(str::to_owned).collect();
    cols[7] = "0".into();
    lines[i] = cols.join(",");
    fs::write(other.join("voe.csv"), lines.join("\n") + "\n").unwrap();
    let o = compare(
        &[
            out.to_str().unwrap(),
            other.to_str().unwrap(),
            "--fail-on-regression",
            "0.05",
        ],
        tmp_smoke.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("train.steps: 10 -> 11"), "{}", text(&o));
    assert!(text(&o).contains("regressed"), "{}", text(&o));
}

/// The GPU check's CPU-only path: two CPU runs of the smoke preset agree bit for bit, so every
/// compared loss differs by exactly 0 (on a GPU machine the same command compares with CUDA).
#[test]
fn device_check_compares_two_runs_and_writes_its_table() {
    let tmp = tempfile::tempdir().unwrap();
    let o = bench(
        &[
            "device-check",
            "--device",
            "cpu",
            "--work",
            "w",
            "--out",
            "r",
            "--steps",
            "3",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let (h, rows) = read_csv(&tmp.path().join("r").join("device-check.csv"));
    assert_eq!(h, moravec_bench::device_check::CHECK_HEADER);
    let losses: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[2].starts_with("loss_step_"))
        .collect();
    assert_eq!(
        losses.len(),
        MODELS.iter().filter(|m| m.trains).count() * 3,
        "three steps of each trained model: {rows:?}"
    );
    for r in &losses {
        assert_eq!((r[5].as_str(), r[7].as_str()), ("0", "true"), "{r:?}");
    }
    assert!(rows.iter().any(|r| r[2] == "train_samples_per_s"));
    assert!(rows.iter().any(|r| r[2] == "score_movies_per_s"));
    assert!(rows.iter().any(|r| r[2] == "run_seconds"));
    assert!(tmp.path().join("r/cpu-again/voe.csv").exists());

    let o = bench(
        &["device-check", "--device", "cpu", "--tolerance=-1"],
        tmp.path(),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("--tolerance -1"), "{}", text(&o));
    let o = bench(&["device-check", "--device", "tpu"], tmp.path());
    assert!(!o.status.success());
    assert!(text(&o).contains("tpu"), "{}", text(&o));
}
