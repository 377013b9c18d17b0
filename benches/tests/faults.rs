//! Faults tried at points nobody chose: a run killed (SIGKILL) at seeded random moments and
//! started again until it completes leaves the results of an uninterrupted run; two runs
//! started at once in one work folder make each stage once. `MORAVEC_KILLS=N` makes the kill
//! campaign longer (`scripts/faults/kill-campaign.sh`).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The results folder's files as a comparison sees them: all but those that hold times
/// (`meta.json`, `throughput.csv`, `summary.md`, which renders the tables below with timings),
/// and the planning tables without their last column (time per action).
fn results(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if ["meta.json", "throughput.csv", "summary.md"].contains(&name.as_str()) {
            continue;
        }
        let bytes = fs::read(&path).unwrap();
        let bytes = if name.starts_with("planning") && name.ends_with(".csv") {
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|l| l.rsplit_once(',').map_or(l, |(a, _)| a).to_owned() + "\n")
                .collect::<String>()
                .into_bytes()
        } else {
            bytes
        };
        out.insert(name, bytes);
    }
    out
}

/// Temporary files an interrupted atomic write left under `dir` (they are never read).
fn leftovers(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut n = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if name.contains(".tmp") || name.starts_with(".moravec-partial-") {
                n.push(p);
            }
        }
    }
    n
}

/// Where a killed attempt was: after the stage its last stage line names (made or reused),
/// so in that stage's successor or in the results.
fn doing(log: &str) -> String {
    log.lines()
        .rev()
        .find(|l| {
            ["data ", "voe ", "train ", "score ", "probe ", "plan "]
                .iter()
                .any(|k| l.starts_with(k))
        })
        .map_or("starting".into(), |l| {
            l.split(':').next().unwrap().to_owned()
        })
}

#[test]
fn a_run_killed_at_random_moments_resumes_to_the_uninterrupted_results() {
    let reference = common::smoke_run();
    let want = results(&reference.path().join("results"));
    let kills: usize = std::env::var("MORAVEC_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(38);
    let mut killed: Vec<String> = Vec::new();
    // What the interrupted writes were writing: a checkpoint, a dataset or suite shard, the
    // results tables, another file of the work folder.
    let mut mid_write: BTreeMap<&str, usize> = BTreeMap::new();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let log_path = tmp.path().join(format!("attempt-{attempts}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_bench"))
            .args([
                "run", "--preset", "smoke", "--work", "work", "--out", "results",
            ])
            .current_dir(tmp.path())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        if killed.len() >= kills {
            let status = child.wait().unwrap();
            let log = fs::read_to_string(&log_path).unwrap();
            assert!(status.success(), "the last attempt failed: {log}");
            break;
        }
        // Later kills come later, so that every stage gets done in the end (in cycles of 40, so
        // that a long campaign keeps landing everywhere).
        let ms = rng.random_range(10..(150 + 60 * (killed.len() % 40) as u64));
        let before = leftovers(tmp.path());
        let start = Instant::now();
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if start.elapsed() >= Duration::from_millis(ms) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        match finished {
            Some(status) => {
                let log = fs::read_to_string(&log_path).unwrap();
                assert!(
                    status.success(),
                    "attempt {attempts} failed on its own: {log}"
                );
                // Done before the kill: start again from nothing for the kills still owed.
                fs::remove_dir_all(tmp.path().join("work")).unwrap();
                fs::remove_dir_all(tmp.path().join("results")).unwrap();
            }
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                let log = fs::read_to_string(&log_path).unwrap();
                killed.push(doing(&log));
                for p in leftovers(tmp.path()) {
                    if before.contains(&p) {
                        continue;
                    }
                    let s = p.to_string_lossy();
                    let what = if s.contains("checkpoint") || s.contains("snapshot") {
                        "checkpoint"
                    } else if s.contains("/results/") {
                        "results"
                    } else if s.contains("shard-") {
                        "dataset or suite shard"
                    } else if s.contains("stage.json") || s.contains("row.json") {
                        "stage record"
                    } else if s.contains(".csv") {
                        "stage table"
                    } else {
                        "a stage's output (curves, probe rows, plan row or GIF)"
                    };
                    *mid_write.entry(what).or_default() += 1;
                }
            }
        }
    }
    // Then the results phase alone: every stage is done, so a run only writes the results
    // folder, and kills at moments within its length land in the writing of the tables.
    let run_results = || {
        Command::new(env!("CARGO_BIN_EXE_bench"))
            .args([
                "run", "--preset", "smoke", "--work", "work", "--out", "results",
            ])
            .current_dir(tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let start = Instant::now();
    assert!(run_results().wait().unwrap().success());
    let length = start.elapsed().as_millis().max(20) as u64;
    let (mut results_kills, mut mid_results) = (0, 0);
    let out = tmp.path().join("results");
    for _ in 0..(kills / 3).max(8) {
        let before = leftovers(&out);
        let t0 = std::time::SystemTime::now();
        let mut child = run_results();
        std::thread::sleep(Duration::from_millis(rng.random_range(5..length)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            child.wait().unwrap();
            results_kills += 1;
            let new = leftovers(&out)
                .into_iter()
                .filter(|p| !before.contains(p))
                .count();
            *mid_write.entry("results").or_default() += new;
            // Killed between the first table and the last: some files rewritten, not all.
            let files: Vec<_> = fs::read_dir(&out).unwrap().flatten().collect();
            let rewritten = files
                .iter()
                .filter(|e| e.metadata().unwrap().modified().unwrap() >= t0)
                .count();
            mid_results += usize::from(rewritten > 0 && rewritten < files.len());
        }
    }
    assert!(run_results().wait().unwrap().success());
    eprintln!(
        "{results_kills} kills in the results phase ({length} ms), {mid_results} of them \
         between its first file and its last"
    );
    let mut by_stage: BTreeMap<String, usize> = BTreeMap::new();
    for k in &killed {
        *by_stage
            .entry(k.split_whitespace().next().unwrap().to_owned())
            .or_default() += 1;
    }
    eprintln!(
        "{} kills in {attempts} attempts, by the kind of the last stage the run had reached: \
         {by_stage:?}; temporary files of interrupted writes left: {mid_write:?}",
        killed.len()
    );
    assert!(killed.len() >= kills.min(20));
    let got = results(&tmp.path().join("results"));
    let differ: Vec<&String> = want
        .keys()
        .chain(got.keys())
        .filter(|k| want.get(*k) != got.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "{differ:?} differ from the uninterrupted run's"
    );
}

#[test]
fn two_runs_at_once_in_one_work_folder_make_each_stage_once() {
    let tmp = tempfile::tempdir().unwrap();
    let spawn = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_bench"))
            .args([
                "run",
                "--preset",
                "smoke",
                "--work",
                "work",
                "--stop-after",
                "train",
            ])
            .current_dir(tmp.path())
            .stdout(Stdio::null())
            .stderr(fs::File::create(tmp.path().join(name)).unwrap())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn("a.log"), spawn("b.log"));
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let logs = [
        fs::read_to_string(tmp.path().join("a.log")).unwrap(),
        fs::read_to_string(tmp.path().join("b.log")).unwrap(),
    ];
    // Every stage was made by one run ("<kind> <label>: <seconds> s") and reused by the other.
    let made = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.ends_with(" s") && !l.contains("shard"))
            .map(|l| l.split(':').next().unwrap().to_owned())
            .collect()
    };
    let mut all: Vec<String> = made(&logs[0]).into_iter().chain(made(&logs[1])).collect();
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "a stage was made twice: {logs:?}");
    // 8 datasets, the suite, 7 models.
    assert_eq!(n, 16, "{logs:?}");
    for dir in fs::read_dir(tmp.path().join("work/data")).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            moravec_sim::dataset::verify(&dir.join("dataset")).unwrap();
        }
    }
}

/// A tmpfs mounted for a test, unmounted when dropped.
struct SmallDisk {
    dir: std::path::PathBuf,
}

impl SmallDisk {
    /// A tmpfs of `megabytes` at `dir`, or None where mounting is not allowed (not root).
    fn mount(dir: &Path, megabytes: u64) -> Option<Self> {
        fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self {
            dir: dir.to_owned(),
        })
    }

    /// Gives it `megabytes` in all, keeping what it holds.
    fn grow(&self, megabytes: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={megabytes}m")])
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn a_full_disk_stops_the_run_naming_the_path_and_it_resumes_once_there_is_room() {
    let reference = common::smoke_run();
    let want = results(&reference.path().join("results"));
    let tmp = tempfile::tempdir().unwrap();
    // Full during the datasets, the suite and training (the smoke run's work folder is about
    // 28 MB: 5 of datasets, 13 of suite, 8 of checkpoints).
    for megabytes in [3, 12, 22] {
        let disk = tmp.path().join(format!("disk-{megabytes}"));
        let Some(small) = SmallDisk::mount(&disk, megabytes) else {
            eprintln!("skipped: mounting a tmpfs needs root, which this test process is not");
            return;
        };
        let args = [
            "run", "--preset", "smoke", "--work", "work", "--out", "results",
        ];
        let o = common::bench(&args, &disk);
        assert!(!o.status.success(), "{megabytes} MB: the run fit");
        let t = common::text(&o);
        assert!(
            t.contains("No space left on device")
                && (t.contains("cannot write work/") || t.contains("cannot create work/")),
            "{megabytes} MB: {t}"
        );
        eprintln!(
            "{megabytes} MB: {}",
            t.lines().find(|l| l.starts_with("error")).unwrap_or("")
        );
        small.grow(256);
        let o = common::bench(&args, &disk);
        assert!(
            o.status.success(),
            "{megabytes} MB, resumed: {}",
            common::text(&o)
        );
        let got = results(&disk.join("results"));
        let differ: Vec<&String> = want
            .keys()
            .chain(got.keys())
            .filter(|k| want.get(*k) != got.get(*k))
            .collect();
        assert!(differ.is_empty(), "{megabytes} MB: {differ:?} differ");
    }
}
