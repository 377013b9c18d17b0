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

    let run = |dir: &Path| {
        Command::new(&python)
            .arg(root.join("scripts/read_dataset.py"))
            .arg(dir)
            .output()
            .unwrap()
    };
    let o = run(&out);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains(&meta.content_hash), "{stdout}");

    // The check has teeth: a changed action byte breaks the hash.
    let shard = out.join(&meta.shards[1].file);
    let mut bytes = std::fs::read(&shard).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x01;
    std::fs::write(&shard, bytes).unwrap();
    let o = run(&out);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("content hash"));
}
