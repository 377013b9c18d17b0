//! The Python round trip: numpy and safetensors alone (no code of ours) read a generated dataset
//! and check its shapes, dtypes and content hash (`scripts/read_dataset.py`).
//!
//! Needs a Python with numpy and safetensors: `scripts/test.sh` installs them into `.venv` and
//! points `MORAVEC_PYTHON` at it.

use std::path::Path;
use std::process::Command;

#[test]
fn python_reads_a_dataset_and_checks_its_hash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = std::env::var("MORAVEC_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import numpy, safetensors"])
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "{python} cannot import numpy and safetensors: run the tests with scripts/test.sh"
    );

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    let o = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args([
            "generate",
            "--scene",
            "table_clearing",
            "--episodes",
            "3",
            "--frames",
            "4",
        ])
        .args(["--size", "24", "--shard-episodes", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let meta = moravec_sim::dataset::read_meta(&out).unwrap();

    let run = |dir: &Path| read_dataset(&python, root, dir);
    assert_reads(&run(&out), &meta.content_hash);

    // python/moravec gives the masks beside the frames, as the shards hold them.
    let script = "import sys; from moravec import load_dataset; d = load_dataset(sys.argv[1]); \
                  m = d['masks']; print(m.shape, m.dtype, sorted(set(m.ravel().tolist())))";
    let o = moravec_py(&python, root, script, &out);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut masks = Vec::new();
    for info in &meta.shards {
        masks.extend(
            moravec_sim::dataset::read_shard(&out, &meta, info)
                .unwrap()
                .masks,
        );
    }
    let mut values = masks;
    values.sort();
    values.dedup();
    let values: Vec<String> = values.iter().map(u8::to_string).collect();
    assert_eq!(
        stdout.trim(),
        format!("(3, 4, 24, 24) uint8 [{}]", values.join(", ")),
        "{stdout}"
    );

    // The check has teeth: a mask naming a slot no body holds is refused, and a changed action
    // byte breaks the hash.
    let shard = out.join(&meta.shards[1].file);
    let original = std::fs::read(&shard).unwrap();
    let mut bytes = original.clone();
    let at = tensor_range(&bytes, "masks").start;
    bytes[at] = 200;
    std::fs::write(&shard, &bytes).unwrap();
    let o = run(&out);
    assert!(!o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("masks name slots") && stdout.contains("200]"),
        "{stdout}"
    );
    let mut bytes = original;
    let at = tensor_range(&bytes, "actions").start;
    bytes[at] ^= 0x01;
    std::fs::write(&shard, bytes).unwrap();
    let o = run(&out);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("content hash"));
    // python/moravec names the damaged shard by its own hash in meta.json.
    let o = Command::new(&python)
        .env("PYTHONPATH", root.join("python"))
        .args([
            "-c",
            "import sys; from moravec import load_dataset; load_dataset(sys.argv[1])",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains(&meta.shards[1].file) && stderr.contains("damaged"),
        "{stderr}"
    );
}

/// A dataset at a nuisance level reads back in Python with its hash and its level, and a level
/// out of range is refused by name.
#[test]
fn python_reads_a_nuisance_dataset_and_its_level() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = std::env::var("MORAVEC_PYTHON").unwrap_or_else(|_| "python3".into());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    let generate = |level: &str| {
        Command::new(env!("CARGO_BIN_EXE_bench"))
            .args(["generate", "--scene", "occlusion", "--episodes", "2"])
            .args([
                "--frames",
                "4",
                "--size",
                "24",
                "--nuisance",
                level,
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap()
    };
    let o = generate("5");
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("nuisance") && stderr.contains('5'),
        "{stderr}"
    );
    let o = generate("3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let meta = moravec_sim::dataset::read_meta(&out).unwrap();
    assert_eq!(meta.nuisance.level(), 3);
    assert_reads(&read_dataset(&python, root, &out), &meta.content_hash);
    let script = "import sys; from moravec import load_dataset; d = load_dataset(sys.argv[1]); \
                  print(d['meta'].get('nuisance', 0), d['frames'].shape)";
    let o = moravec_py(&python, root, script, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "3 (2, 4, 24, 24, 3)"
    );
}

/// `python -c SCRIPT DIR` with `python/moravec` importable.
fn moravec_py(python: &str, root: &Path, script: &str, dir: &Path) -> std::process::Output {
    Command::new(python)
        .env("PYTHONPATH", root.join("python"))
        .args(["-c", script])
        .arg(dir)
        .output()
        .unwrap()
}

/// `scripts/read_dataset.py DIR`: numpy and safetensors alone check a dataset.
fn read_dataset(python: &str, root: &Path, dir: &Path) -> std::process::Output {
    Command::new(python)
        .arg(root.join("scripts/read_dataset.py"))
        .arg(dir)
        .output()
        .unwrap()
}

/// `read_dataset.py` succeeded and printed the dataset's content hash.
fn assert_reads(o: &std::process::Output, hash: &str) {
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains(hash), "{stdout}");
}

/// The byte range of tensor `name` in a safetensors file.
fn tensor_range(bytes: &[u8], name: &str) -> std::ops::Range<usize> {
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let json: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header]).unwrap();
    let at = |i: usize| json[name]["data_offsets"][i].as_u64().unwrap() as usize;
    8 + header + at(0)..8 + header + at(1)
}

/// The Python side of `bench score`: `python/moravec` reads a dataset and a suite, the example
/// fits a linear next-frame predictor with numpy and writes its per-frame surprise, and `bench
/// score` scores that file beside the controls.
#[test]
fn a_python_models_surprise_is_scored_by_bench_score() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = std::env::var("MORAVEC_PYTHON").unwrap_or_else(|_| "python3".into());
    let tmp = tempfile::tempdir().unwrap();
    let bench = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_bench"))
            .args(args)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    bench(&[
        "generate",
        "--scene",
        "occlusion",
        "--episodes",
        "4",
        "--frames",
        "16",
        "--size",
        "32",
        "--out",
        "train",
    ]);
    bench(&[
        "generate", "--voe", "--sets", "1", "--frames", "48", "--size", "32", "--out", "suite",
    ]);
    let o = Command::new(&python)
        .arg(root.join("python/examples/linear_predictor.py"))
        .args(["train", "suite", "linear.csv"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // The file names the suite by the id the harness computes.
    let suite = moravec_sim::voe::Suite::load(&tmp.path().join("suite")).unwrap();
    let file = std::fs::read_to_string(tmp.path().join("linear.csv")).unwrap();
    let id = moravec_bench::submission::suite_id(&suite);
    assert!(
        file.starts_with(&format!("# suite {id}\n")),
        "{}",
        &file[..80]
    );
    let printed = bench(&[
        "score",
        "--suite",
        "suite",
        "--surprise",
        "linear.csv",
        "--name",
        "linear",
        "--out",
        "scored",
    ]);
    assert!(printed.contains("linear permanence occluded"), "{printed}");
    let mut r = csv::Reader::from_path(tmp.path().join("scored/voe.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    for model in ["linear", "untrained", "frame-diff"] {
        let cells = rows
            .iter()
            .filter(|x| &x[1] == model && &x[3] == "occluded" && &x[4] == "all")
            .filter(|x| &x[5] == "mean" && &x[6] == "relative_accuracy")
            .count();
        assert_eq!(cells, 9, "{model}: a headline row per property");
    }
}
