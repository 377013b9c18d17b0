//! The `bench` binary end to end: what succeeds, and bad input that fails with a clear message,
//! a non-zero exit and no partial files.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn bench(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("bench runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

const GEN: [&str; 9] = [
    "generate",
    "--scene",
    "occlusion",
    "--episodes",
    "3",
    "--frames",
    "5",
    "--size",
    "16",
];

#[test]
fn generate_writes_a_verified_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = GEN.to_vec();
    args.extend(["--out", "ds", "--seed", "4"]);
    let o = bench(&args, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let meta = moravec_sim::dataset::verify(&tmp.path().join("ds")).unwrap();
    assert_eq!(
        (meta.episodes, meta.frames, meta.size, meta.seed),
        (3, 5, 16, 4)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains(&meta.content_hash));
    assert_eq!(meta.camera.samples, 1);
    // Supersampled: the rays per pixel are recorded, the frames differ, the physics does not.
    let mut args = GEN.to_vec();
    args.extend(["--out", "ds4", "--seed", "4", "--samples", "4"]);
    let o = bench(&args, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let four = moravec_sim::dataset::verify(&tmp.path().join("ds4")).unwrap();
    assert_eq!(four.camera.samples, 4);
    assert_ne!(four.content_hash, meta.content_hash);
    let states = |dir: &str| fs::read(tmp.path().join(dir).join("trajectories.csv")).unwrap();
    assert_eq!(states("ds"), states("ds4"));
}

#[test]
fn two_processes_with_one_and_two_threads_write_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    for (dir, threads) in [("one", "1"), ("two", "2")] {
        let o = Command::new(env!("CARGO_BIN_EXE_bench"))
            .args([
                "generate",
                "--scene",
                "table_clearing",
                "--episodes",
                "5",
                "--frames",
                "8",
            ])
            .args([
                "--size",
                "32",
                "--shard-episodes",
                "2",
                "--seed",
                "9",
                "--out",
                dir,
            ])
            .env("RAYON_NUM_THREADS", threads)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    assert_eq!(listing(&one), listing(&two));
    for f in listing(&one) {
        assert_eq!(
            fs::read(one.join(&f)).unwrap(),
            fs::read(two.join(&f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn bad_generate_input_fails_clearly_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("plain-file"), "x").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--scene", "cartpole"],
            "known scenes: cart_platform, occlusion, table_clearing, collision",
        ),
        (&["--frames", "0"], "frames = 0 is out of range"),
        (&["--episodes", "0"], "episodes = 0 is out of range"),
        (
            &["--size", "8"],
            "size = 8 is out of range: expected 16 to 512 pixels",
        ),
        (&["--size", "1024"], "size = 1024 is out of range"),
        (
            &["--samples", "9"],
            "rays per pixel side = 9 is out of range: expected 1 to 8",
        ),
        (&["--split", "training"], "training"),
        (&["--frames", "many"], "many"),
        (&["--out", "plain-file/ds"], "plain-file"),
    ];
    for (overrides, needle) in cases {
        // The base arguments, with the overridden flags replaced.
        let mut args: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < GEN.len() {
            if overrides.contains(&GEN[i]) && GEN[i].starts_with("--") {
                i += 2;
                continue;
            }
            args.push(GEN[i]);
            i += 1;
        }
        args.extend_from_slice(overrides);
        if !overrides.contains(&"--out") {
            args.extend(["--out", "ds"]);
        }
        let o = bench(&args, tmp.path());
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(
            stderr(&o).contains(needle),
            "{args:?}: `{}` lacks `{needle}`",
            stderr(&o)
        );
        assert_eq!(listing(tmp.path()), ["plain-file"], "{args:?} left files");
    }
}

#[test]
fn a_non_empty_output_needs_force() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("ds")).unwrap();
    fs::write(tmp.path().join("ds/keep.txt"), "precious").unwrap();
    let mut args = GEN.to_vec();
    args.extend(["--out", "ds"]);
    let o = bench(&args, tmp.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(tmp.path().join("ds/keep.txt")).unwrap(),
        "precious"
    );
    assert_eq!(listing(tmp.path()), ["ds"]);
    args.push("--force");
    let o = bench(&args, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(tmp.path().join("ds/meta.json").exists());
    assert_eq!(listing(tmp.path()), ["ds"]);
}

#[test]
fn preview_writes_an_animated_gif() {
    let tmp = tempfile::tempdir().unwrap();
    let o = bench(
        &[
            "preview",
            "--scene",
            "cart_platform",
            "--frames",
            "4",
            "--scale",
            "2",
            "--out",
            "p/x.gif",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let gif = fs::read(tmp.path().join("p/x.gif")).unwrap();
    assert_eq!(&gif[..6], b"GIF89a");
    // Logical screen size: 64 px rendered, shown at 128.
    assert_eq!(u16::from_le_bytes([gif[6], gif[7]]), 128);
    assert_eq!(listing(&tmp.path().join("p")), ["x.gif"]);

    let o = bench(
        &["preview", "--scene", "nope", "--out", "y.gif"],
        tmp.path(),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown scene `nope`"),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("y.gif").exists());
}

#[test]
fn throughput_appends_one_row_per_scene_and_a_total() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "throughput",
        "--episodes",
        "2",
        "--frames",
        "3",
        "--size",
        "16",
        "--csv",
        "t.csv",
    ];
    for run in 1..=2 {
        let o = bench(&args, tmp.path());
        assert!(o.status.success(), "{}", stderr(&o));
        let csv = fs::read_to_string(tmp.path().join("t.csv")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "unix_time,git_rev,scene,size,threads,episodes,frames,seconds,frames_per_s"
        );
        assert_eq!(lines.len(), 1 + 5 * run);
        let last = lines.last().unwrap();
        assert!(last.contains(",all,16,"), "{last}");
        let rate: f64 = last.rsplit(',').next().unwrap().parse().unwrap();
        assert!(rate > 0.0);
    }
    let o = bench(&["throughput", "--size", "2", "--csv", "t.csv"], tmp.path());
    assert!(!o.status.success());
}

#[test]
fn generate_voe_writes_the_suite_and_refuses_mixed_or_bad_options() {
    let tmp = tempfile::tempdir().unwrap();
    let o = bench(
        &[
            "generate", "--voe", "--sets", "1", "--size", "32", "--seed", "3", "--out", "voe",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tmp.path().join("voe");
    let names = listing(&dir);
    for want in [
        "meta.json",
        "sets.csv",
        "permanence",
        "continuity",
        "gravity",
        "collision",
    ] {
        assert!(names.contains(&want.to_string()), "{names:?} lacks {want}");
    }
    let sets = fs::read_to_string(dir.join("sets.csv")).unwrap();
    // IntPhys's 4 properties x 2 conditions x 4 movies, and the 5 dynamics properties' quadruplet
    // and pair.
    assert_eq!(sets.lines().count(), 1 + 4 * 2 * 4 + 5 * (4 + 2));

    let cases: &[(&[&str], &str)] = &[
        (
            &["generate", "--voe", "--scene", "occlusion", "--out", "x"],
            "--scene",
        ),
        (
            &["generate", "--voe", "--sets", "0", "--out", "x"],
            "sets = 0",
        ),
        (
            &["generate", "--voe", "--frames", "10", "--out", "x"],
            "frames = 10",
        ),
        (&["generate", "--voe", "--out", "voe"], "--force"),
    ];
    for (args, needle) in cases {
        let o = bench(args, tmp.path());
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(
            stderr(&o).contains(needle),
            "{args:?}: `{}` lacks `{needle}`",
            stderr(&o)
        );
    }
    assert_eq!(listing(tmp.path()), ["voe"]);
}

#[test]
fn preview_voe_shows_a_set_and_names_bad_properties_and_conditions() {
    let tmp = tempfile::tempdir().unwrap();
    let o = bench(
        &[
            "preview",
            "--voe",
            "--property",
            "permanence",
            "--condition",
            "occluded",
        ],
        tmp.path(),
    );
    assert!(!o.status.success(), "--out is required");
    let o = bench(
        &[
            "preview",
            "--voe",
            "--property",
            "permanence",
            "--condition",
            "occluded",
            "--scale",
            "1",
            "--out",
            "q.gif",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let gif = fs::read(tmp.path().join("q.gif")).unwrap();
    // Two columns of 64 px plus 3 px borders each side.
    assert_eq!(u16::from_le_bytes([gif[6], gif[7]]), 2 * (64 + 6));
    assert!(String::from_utf8_lossy(&o.stdout).contains("violation at frame"));

    let o = bench(
        &[
            "preview",
            "--voe",
            "--property",
            "gravity",
            "--condition",
            "visible",
            "--out",
            "g.gif",
        ],
        tmp.path(),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("occluded or pair for gravity"),
        "{}",
        stderr(&o)
    );
    let o = bench(
        &[
            "preview",
            "--voe",
            "--property",
            "levitation",
            "--condition",
            "visible",
            "--out",
            "l.gif",
        ],
        tmp.path(),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("permanence, shape_constancy"),
        "{}",
        stderr(&o)
    );
    assert_eq!(listing(tmp.path()), ["q.gif"]);
}

#[test]
fn train_runs_resumes_and_names_bad_models() {
    let tmp = tempfile::tempdir().unwrap();
    let o = bench(
        &[
            "generate",
            "--scene",
            "collision",
            "--episodes",
            "3",
            "--frames",
            "16",
            "--size",
            "32",
            "--out",
            "d",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let train = |steps: &str| {
        bench(
            &[
                "train",
                "--model",
                "jepa-vicreg",
                "--data",
                "d",
                "--out",
                "run",
                "--steps",
                steps,
                "--arch",
                "tiny",
                "--batch",
                "2",
                "--checkpoint-every",
                "1",
            ],
            tmp.path(),
        )
    };
    let o = train("2");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = train("4");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("resumed from step 2"), "{}", stderr(&o));
    let log = fs::read_to_string(tmp.path().join("run/training.csv")).unwrap();
    assert!(
        log.starts_with("step,total,prediction,variance,covariance,lr,samples_per_s,elapsed_s\n")
    );
    assert_eq!(log.lines().count(), 5);

    let o = bench(
        &[
            "train",
            "--model",
            "jepa-magic",
            "--data",
            "d",
            "--out",
            "x",
            "--steps",
            "1",
        ],
        tmp.path(),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(
            "jepa-vicreg, jepa-ema, pixel-ae, pixel-video, slot-jepa, untrained, slot-untrained"
        ),
        "{}",
        stderr(&o)
    );
    let o = bench(
        &[
            "train",
            "--model",
            "jepa-vicreg",
            "--data",
            "nowhere",
            "--out",
            "x",
            "--steps",
            "1",
        ],
        tmp.path(),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nowhere"), "{}", stderr(&o));
    assert!(!tmp.path().join("x").exists());
}

#[test]
fn plan_runs_baselines_and_names_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let o = bench(
        &[
            "plan",
            "--task",
            "reach",
            "--model",
            "random",
            "--episodes",
            "2",
            "--size",
            "16",
            "--csv",
            "p.csv",
            "--gif",
            "p.gif",
            "--episodes-csv",
            "e.csv",
            "--gif-dir",
            "g",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A row per episode, whose distances average to the cell's, and a GIF per episode.
    let episodes = fs::read_to_string(tmp.path().join("e.csv")).unwrap();
    let rows: Vec<Vec<&str>> = episodes.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], moravec_bench::results::EPISODES_HEADER);
    assert_eq!(rows.len(), 3, "{episodes}");
    assert_eq!(rows[1][..6], ["cli", "random", "none", "reach", "0", "0"]);
    assert_eq!(rows[2][5], "1");
    let cell: Vec<String> = fs::read_to_string(tmp.path().join("p.csv"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let at = |header: &[&str], name: &str| header.iter().position(|h| *h == name).unwrap();
    let d = at(&moravec_bench::results::EPISODES_HEADER, "final_distance");
    let mean = (rows[1][d].parse::<f64>().unwrap() + rows[2][d].parse::<f64>().unwrap()) / 2.0;
    let cell_mean: f64 = cell[at(&moravec_bench::results::PLANNING_HEADER, "final_distance")]
        .parse()
        .unwrap();
    assert!((mean - cell_mean).abs() < 1e-6, "{mean} vs {cell_mean}");
    assert!(mean > 0.0);
    assert_eq!(
        listing(&tmp.path().join("g")),
        ["reach-episode-0.gif", "reach-episode-1.gif"]
    );
    assert_eq!(
        fs::read(tmp.path().join("g/reach-episode-0.gif")).unwrap(),
        fs::read(tmp.path().join("p.gif")).unwrap()
    );
    let o = bench(
        &[
            "plan",
            "--task",
            "reach",
            "--model",
            "oracle",
            "--episodes",
            "1",
            "--size",
            "16",
            "--budget",
            "0.05",
            "--csv",
            "p.csv",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = bench(
        &[
            "plan",
            "--task",
            "reach",
            "--model",
            "image-oracle",
            "--episodes",
            "1",
            "--size",
            "16",
            "--budget",
            "0.05",
            "--distance",
            "l1",
            "--horizon",
            "3",
            "--replan-every",
            "3",
            "--samples",
            "2",
            "--score",
            "last",
            "--run",
            "last-step",
            "--csv",
            "p.csv",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = fs::read_to_string(tmp.path().join("p.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("run,model,planner,task,episodes,successes"));
    assert!(lines[1].starts_with("cli,random,none,reach,2,"));
    assert!(lines[2].starts_with("cli,oracle,cem,reach,1,"));
    assert!(lines[3].starts_with("last-step,image-oracle,cem,reach,1,"));
    assert_eq!(&fs::read(tmp.path().join("p.gif")).unwrap()[..6], b"GIF89a");
    for (args, expect) in [
        (vec!["--task", "fly", "--model", "random"], "fly"),
        (
            vec!["--task", "reach", "--model", "jepa-vicreg"],
            "--checkpoint",
        ),
        (
            vec![
                "--task",
                "reach",
                "--model",
                "oracle",
                "--planner",
                "gradient",
            ],
            "no gradients",
        ),
        (
            vec![
                "--task",
                "reach",
                "--model",
                "image-oracle",
                "--planner",
                "cem-gradient",
            ],
            "--planner cem-gradient: the simulator oracle has no gradients",
        ),
        (
            vec!["--task", "reach", "--model", "oracle", "--planner", "magic"],
            "magic",
        ),
        (
            vec!["--task", "reach", "--model", "oracle", "--distance", "l3"],
            "l3: expected l1, l2 or l2-pyramid",
        ),
        (
            vec!["--task", "reach", "--model", "oracle", "--score", "first"],
            "first: expected all or last",
        ),
        (
            vec!["--task", "reach", "--model", "oracle", "--run", "a,b"],
            "\"a,b\": expected 1 to 64 letters, digits or -_.+[]=",
        ),
        (
            vec!["--task", "reach", "--model", "oracle", "--horizon", "0"],
            "plan.horizon",
        ),
        (
            vec!["--task", "reach", "--model", "random", "--samples", "0"],
            "rays per pixel side = 0 is out of range",
        ),
        (
            vec![
                "--task",
                "reach",
                "--model",
                "oracle",
                "--replan-every",
                "6",
            ],
            "plan.replan_every = 6 is not valid: expected 1 to the horizon of reach (5 steps)",
        ),
        (
            vec![
                "--task",
                "reach",
                "--model",
                "oracle",
                "--horizon",
                "2",
                "--replan-every",
                "0",
            ],
            "plan.replan_every = 0 is not valid",
        ),
        (
            vec![
                "--task",
                "reach",
                "--model",
                "jepa-vicreg",
                "--checkpoint",
                "missing.safetensors",
            ],
            "missing.safetensors",
        ),
    ] {
        let mut all = vec!["plan"];
        all.extend(args);
        let o = bench(&all, tmp.path());
        assert!(!o.status.success(), "{all:?}");
        assert!(stderr(&o).contains(expect), "{all:?}: {}", stderr(&o));
    }
}
