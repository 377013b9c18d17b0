//! What the end-to-end test files share: running the binaries, and one smoke run.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `bin` with `args` in `cwd`.
pub fn run_bin(bin: &str, args: &[&str], cwd: &Path) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("binary runs")
}

/// Runs `bench`.
pub fn bench(args: &[&str], cwd: &Path) -> Output {
    run_bin(env!("CARGO_BIN_EXE_bench"), args, cwd)
}

/// Its stdout, then its stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A smoke run from nothing in a fresh folder: stages under `work/`, results in `results/`.
pub fn smoke_run() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let o = bench(
        &[
            "run", "--preset", "smoke", "--work", "work", "--out", "results",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    tmp
}
