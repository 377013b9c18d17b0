//! `bench score`: an outside model's surprise through the file format gives the metrics the
//! harness computes itself; bad files are refused with the row named and nothing written; a
//! checkpoint of ours scores a suite of another seed, and not one of another size.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use moravec_sim::voe::Suite;

mod common;
use common::{bench, text};

/// The only folder under `dir` whose name starts with `prefix`.
fn one(dir: &Path, prefix: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    assert_eq!(found.len(), 1, "{prefix} in {}: {found:?}", dir.display());
    found.pop().unwrap()
}

/// A smoke run: (its folder, the suite, jepa-vicreg's scored curves, the results).
fn smoke() -> &'static (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf, PathBuf, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = common::smoke_run();
        let work = tmp.path().join("work");
        let suite = one(&work.join("voe"), "suite-").join("suite");
        let scored = one(&work.join("score"), "jepa-vicreg-");
        let results = tmp.path().join("results");
        (tmp, suite, scored, results)
    })
}

/// jepa-vicreg's curves of the smoke run as an outside model would hand them in: one row per
/// window, named by property, set and member.
fn submission(suite: &Path, scored: &Path) -> String {
    let suite = Suite::load(suite).unwrap();
    let mut out = String::from("property,set_id,member,frame,surprise\n");
    for p in &suite.meta.properties {
        let mut r =
            csv::Reader::from_path(scored.join(format!("surprise-{}.csv", p.property))).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            let episode: usize = rec[0].parse().unwrap();
            let row = suite
                .rows
                .iter()
                .find(|s| s.property == p.property && s.episode == episode)
                .unwrap();
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                p.property, row.set_id, row.member, &rec[2], &rec[3]
            );
        }
    }
    out
}

/// `bench score` of a surprise file on `suite` into `out`.
fn score_file(cwd: &Path, suite: &Path, file: &Path, out: &Path) -> Output {
    bench(
        &[
            "score",
            "--suite",
            suite.to_str().unwrap(),
            "--surprise",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        cwd,
    )
}

/// `voe.csv`'s rows of `model`, without the run column.
fn voe_rows(path: &Path, model: &str) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| x.unwrap().iter().skip(1).map(str::to_owned).collect())
        .filter(|row: &Vec<String>| row[0] == model)
        .collect()
}

#[test]
fn a_models_curves_through_the_file_format_give_the_runs_metrics() {
    let (tmp, suite, scored, results) = smoke();
    let config = moravec_bench::RunConfig::from_toml(
        &fs::read_to_string(results.join("config.toml")).unwrap(),
        "smoke",
        "config.toml",
    )
    .unwrap();
    let arch = moravec_agents::train::TrainConfig::new("jepa-vicreg", &config.train.arch, 1)
        .model_config(config.size, 0)
        .unwrap();
    let file = tmp.path().join("vicreg.csv");
    fs::write(&file, submission(suite, scored)).unwrap();
    let out = tmp.path().join("scored");
    let o = bench(
        &[
            "score",
            "--suite",
            suite.to_str().unwrap(),
            "--surprise",
            file.to_str().unwrap(),
            "--name",
            "jepa-vicreg",
            "--window",
            &(arch.context + arch.horizon).to_string(),
            "--stride",
            &config.score.stride.to_string(),
            "--bootstrap",
            &config.score.bootstrap.to_string(),
            "--seed",
            &config.seed.to_string(),
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let theirs = voe_rows(&out.join("voe.csv"), "jepa-vicreg");
    assert!(!theirs.is_empty());
    assert_eq!(theirs, voe_rows(&results.join("voe.csv"), "jepa-vicreg"));
    // The frame controls beside it are the run's, row for row.
    for control in ["frame-stats", "object-pixels", "frame-diff"] {
        assert_eq!(
            voe_rows(&out.join("voe.csv"), control),
            voe_rows(&results.join("voe.csv"), control),
            "{control}"
        );
    }
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| jepa-vicreg | untrained |"), "{summary}");
    assert!(!summary.contains("WARNING**: jepa-vicreg"), "{summary}");
    assert!(out.join("relative_accuracy.png").exists());
}

#[test]
fn scores_that_ignore_the_frames_are_flagged() {
    let (tmp, suite, _, _) = smoke();
    let s = Suite::load(suite).unwrap();
    let mut file = String::from("property,set_id,member,surprise\n");
    for r in &s.rows {
        let _ = writeln!(
            file,
            "{},{},{},{}",
            r.property, r.set_id, r.member, r.set_id
        );
    }
    let path = tmp.path().join("constant.csv");
    fs::write(&path, file).unwrap();
    let out = tmp.path().join("constant");
    let o = score_file(tmp.path(), suite, &path, &out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("WARNING"), "{}", text(&o));
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("submission's scores are the same for every movie"),
        "{summary}"
    );
}

#[test]
fn bad_score_files_are_refused_with_the_row_named_and_nothing_written() {
    let (tmp, suite, scored, _) = smoke();
    let good = submission(suite, scored);
    let lines: Vec<&str> = good.lines().collect();
    let id = moravec_bench::submission::suite_id(&Suite::load(suite).unwrap());
    let with_row = |k: usize, row: &str| {
        let mut l = lines.clone();
        l[k] = row;
        l.join("\n") + "\n"
    };
    let cases: Vec<(&str, String, String)> = vec![
        (
            "header",
            with_row(0, "property,set,member,frame,surprise"),
            "expected [\"property\", \"set_id\", \"member\", \"surprise\"]".into(),
        ),
        (
            "missing",
            {
                // Every row of the last movie.
                let last = lines[lines.len() - 1];
                let movie = last.rsplitn(3, ',').nth(2).unwrap();
                let kept: Vec<&str> = lines
                    .iter()
                    .copied()
                    .filter(|l| !l.starts_with(&format!("{movie},")))
                    .collect();
                kept.join("\n") + "\n"
            },
            "have no score".into(),
        ),
        (
            "duplicate",
            good.clone() + lines[1] + "\n",
            format!("row {}: ", lines.len() + 1),
        ),
        (
            "nan",
            with_row(2, &{
                let mut f: Vec<&str> = lines[2].split(',').collect();
                f[4] = "NaN";
                f.join(",")
            }),
            "row 3: surprise = \"NaN\"".into(),
        ),
        (
            "unknown",
            with_row(1, "permanence,999999,0,8,1.0"),
            "row 2: no movie permanence set 999999 member 0".into(),
        ),
        (
            "other-suite",
            format!("# suite sha256:00\n{good}"),
            format!("not of {}", suite.display()),
        ),
    ];
    assert!(good.starts_with("property,"), "{id}");
    for (name, body, expected) in cases {
        let path = tmp.path().join(format!("{name}.csv"));
        fs::write(&path, body).unwrap();
        let out = tmp.path().join(format!("out-{name}"));
        let o = score_file(tmp.path(), suite, &path, &out);
        let t = text(&o);
        assert!(!o.status.success(), "{name}: {t}");
        assert!(t.contains(&expected), "{name}: {t}");
        assert!(
            t.contains(&format!("{name}.csv")),
            "{name}: the file is named: {t}"
        );
        assert!(!out.exists(), "{name}: nothing written");
    }
    // The suite's own id is accepted.
    let path = tmp.path().join("tagged.csv");
    fs::write(&path, format!("# suite {id}\n{good}")).unwrap();
    let o = score_file(tmp.path(), suite, &path, &tmp.path().join("out-tagged"));
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_checkpoint_scores_a_suite_of_another_seed_and_not_of_another_size() {
    let (tmp, _, _, _) = smoke();
    let checkpoint =
        one(&tmp.path().join("work/train"), "jepa-vicreg-").join("checkpoint.safetensors");
    let generate = |seed: &str, size: &str| {
        let dir = tmp.path().join(format!("suite-{seed}-{size}"));
        let o = bench(
            &[
                "generate",
                "--voe",
                "--sets",
                "1",
                "--frames",
                "48",
                "--seed",
                seed,
                "--size",
                size,
                "--out",
                dir.to_str().unwrap(),
            ],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", text(&o));
        dir
    };
    let score = |suite: &Path, out: &Path| {
        bench(
            &[
                "score",
                "--suite",
                suite.to_str().unwrap(),
                "--checkpoint",
                checkpoint.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            tmp.path(),
        )
    };
    let fresh = generate("5", "32");
    let out = tmp.path().join("ckpt-5");
    let o = score(&fresh, &out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!voe_rows(&out.join("voe.csv"), "jepa-vicreg").is_empty());
    let wide = generate("5", "48");
    let out = tmp.path().join("ckpt-48");
    let o = score(&wide, &out);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("32x32") && t.contains("48x48"), "{t}");
    assert!(!out.exists());
}
