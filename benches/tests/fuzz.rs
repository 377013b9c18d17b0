//! Every reader of a file a user can hand us or damage, fed damaged copies of a good file:
//! bits flipped, the file cut short, a run of bytes removed or repeated, bytes overwritten,
//! numbers replaced by extreme ones, a binary header's length field overwritten. Each case is a
//! pure function of (reader, case number), so a failure names a case that can be replayed. For
//! every case: no panic, no hang (a watchdog aborts the test after 60 s on one case), no single
//! allocation far beyond the file's size (a counting allocator records the largest request), and
//! an error, if any, that names the file. `MORAVEC_FUZZ_CASES=N` runs N cases per reader
//! (default 150; `scripts/faults/fuzz-campaign.sh` runs more).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::train::{TrainConfig, load_checkpoint, train};
use moravec_bench::RunConfig;
use moravec_bench::results::read::RunResults;
use moravec_bench::submission::read_surprise;
use moravec_sim::Split;
use moravec_sim::dataset::{GenerateConfig, write_dataset};
use moravec_sim::voe::{Suite, SuiteConfig, write_suite};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The system allocator, recording the largest single request.
struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards its arguments unchanged to the system allocator, whose contract
// is the one `GlobalAlloc` asks of us; recording a size in an atomic touches no allocation.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Damaged copy `case` of `good`.
fn damaged(good: &[u8], seed: u64, case: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(case));
    let mut b = good.to_vec();
    let n = b.len().max(1);
    match case % 7 {
        0 => {
            for _ in 0..rng.random_range(1..9) {
                let i = rng.random_range(0..n).min(b.len().saturating_sub(1));
                if !b.is_empty() {
                    b[i] ^= 1 << rng.random_range(0..8);
                }
            }
        }
        1 => b.truncate(rng.random_range(0..n)),
        2 => {
            let a = rng.random_range(0..n);
            let e = (a + rng.random_range(1..64)).min(b.len());
            b.drain(a.min(e)..e);
        }
        3 => {
            let a = rng.random_range(0..n).min(b.len());
            let e = (a + rng.random_range(1..256)).min(b.len());
            let run = b[a..e].to_vec();
            b.splice(a..a, run);
        }
        4 => {
            let a = rng.random_range(0..n).min(b.len());
            for i in a..(a + rng.random_range(1..17)).min(b.len()) {
                b[i] = rng.random();
            }
        }
        5 => {
            // A number (a run of digits) replaced by an extreme one.
            let digits: Vec<usize> = (0..b.len()).filter(|&i| b[i].is_ascii_digit()).collect();
            if let Some(&i) = digits.get(rng.random_range(0..digits.len().max(1))) {
                let mut e = i;
                while e < b.len() && b[e].is_ascii_digit() {
                    e += 1;
                }
                let extreme: &[&[u8]] = &[
                    b"99999999999999999999999",
                    b"18446744073709551615",
                    b"4294967296",
                    b"0",
                    b"-1",
                    b"1e308",
                    b"NaN",
                ];
                b.splice(
                    i..e,
                    extreme[rng.random_range(0..extreme.len())].iter().copied(),
                );
            }
        }
        _ => {
            // The first eight bytes (a safetensors header's length) overwritten.
            let v: u64 = match rng.random_range(0..3) {
                0 => u64::MAX,
                1 => rng.random_range(0..1 << 40),
                _ => rng.random_range(0..n as u64 * 2),
            };
            for (i, x) in v.to_le_bytes().iter().enumerate() {
                if i < b.len() {
                    b[i] = *x;
                }
            }
        }
    }
    b
}

/// One reader of one file: `read` reads whatever `file` now holds.
struct Target<'a> {
    name: &'static str,
    file: PathBuf,
    read: Box<dyn Fn() -> Result<(), String> + 'a>,
}

/// Feeds `cases` damaged copies of each target's file to its reader.
fn fuzz(targets: &[Target], cases: u64) -> Vec<String> {
    static CURRENT: AtomicU64 = AtomicU64::new(u64::MAX);
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let clock = Instant::now();
    // The watchdog: a case that runs for a minute is a hang.
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let case = CURRENT.load(Ordering::Relaxed);
            let since = STARTED.load(Ordering::Relaxed);
            if case != u64::MAX && clock.elapsed().as_secs() > since + 60 {
                eprintln!("fuzz case {case} hung for a minute");
                std::process::abort();
            }
        }
    });
    let mut report = Vec::new();
    for (t, target) in targets.iter().enumerate() {
        let good = fs::read(&target.file).unwrap();
        assert!(
            (target.read)().is_ok(),
            "{}: the good file is refused",
            target.name
        );
        let name = target
            .file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let (mut errors, mut accepted) = (0, 0);
        for case in 0..cases {
            let bytes = damaged(&good, t as u64, case);
            fs::write(&target.file, &bytes).unwrap();
            LARGEST.store(0, Ordering::Relaxed);
            STARTED.store(clock.elapsed().as_secs(), Ordering::Relaxed);
            CURRENT.store(case, Ordering::Relaxed);
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| (target.read)()));
            CURRENT.store(u64::MAX, Ordering::Relaxed);
            let largest = LARGEST.load(Ordering::Relaxed);
            let what = format!("{} case {case} ({} bytes)", target.name, bytes.len());
            match result {
                Err(_) => panic!("{what}: the reader panicked"),
                Ok(Err(e)) => {
                    errors += 1;
                    assert!(
                        e.contains(&name) || e.contains("content hash"),
                        "{what}: the error does not name {name}: {e}"
                    );
                }
                Ok(Ok(())) => accepted += 1,
            }
            let bound = 64 * good.len().max(bytes.len()) + (64 << 20);
            assert!(
                largest <= bound,
                "{what}: one allocation of {largest} bytes, beyond {bound}"
            );
        }
        fs::write(&target.file, &good).unwrap();
        report.push(format!(
            "{}: {cases} cases, {errors} refused, {accepted} read",
            target.name
        ));
    }
    report
}

#[test]
fn every_reader_refuses_damaged_files_by_name_without_panic_hang_or_huge_allocation() {
    let cases: u64 = std::env::var("MORAVEC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();

    // A dataset: its meta.json and a shard.
    let data = root.join("data");
    let generate = GenerateConfig {
        scene: "occlusion".into(),
        split: Split::Train,
        episodes: 3,
        frames: 16,
        seed: 1,
        size: 16,
        samples: 1,
        shard_episodes: None,
        nuisance: Default::default(),
    };
    write_dataset(&generate, &data, false, &|| {}).unwrap();
    let meta = moravec_sim::dataset::read_meta(&data).unwrap();
    let shard = data.join(&meta.shards[0].file);
    let clips = || Clips::load(&data).map(|_| ()).map_err(|e| e.to_string());

    // A suite: its sets.csv; and a surprise file for it.
    let suite_dir = root.join("suite");
    let suite_config = SuiteConfig {
        seed: 1,
        sets: 1,
        frames: 48,
        size: 16,
        nuisance: Default::default(),
    };
    write_suite(&suite_config, &suite_dir, false, &|| {}).unwrap();
    let suite = Suite::load(&suite_dir).unwrap();
    let surprise = root.join("surprise.csv");
    let mut text = String::from("property,set_id,member,surprise\n");
    for (i, r) in suite.rows.iter().enumerate() {
        text.push_str(&format!(
            "{},{},{},{}\n",
            r.property,
            r.set_id,
            r.member,
            0.125 * i as f64
        ));
    }
    fs::write(&surprise, text).unwrap();

    // A checkpoint.
    let ckpt_dir = root.join("train");
    let clips_data = Clips::load(&data).unwrap();
    let train_config = TrainConfig {
        batch: 2,
        ..TrainConfig::new("jepa-vicreg", "tiny", 1)
    };
    train(&train_config, &clips_data, &ckpt_dir, &Device::Cpu, &|_| {
        true
    })
    .unwrap();
    let ckpt = ckpt_dir.join("checkpoint.safetensors");

    // A run config.
    let config_file = root.join("c.toml");
    fs::write(&config_file, RunConfig::preset("smoke").unwrap().to_toml()).unwrap();

    // Results a comparison reads: a smoke run's.
    let run = common::smoke_run();
    let results = run.path().join("results");
    let other = root.join("other");
    fs::create_dir_all(&other).unwrap();
    for e in fs::read_dir(&results).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, other.join(p.file_name().unwrap())).unwrap();
    }
    let load = || {
        RunResults::load(&results)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let tables = || {
        moravec_bench::compare::compare_tables(&other, &results)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };

    let targets = vec![
        Target {
            name: "dataset meta.json",
            file: data.join("meta.json"),
            read: Box::new(clips),
        },
        Target {
            name: "dataset shard",
            file: shard.clone(),
            read: Box::new(clips),
        },
        Target {
            name: "suite sets.csv",
            file: suite_dir.join("sets.csv"),
            read: Box::new(|| {
                Suite::load(&suite_dir)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }),
        },
        Target {
            name: "surprise file",
            file: surprise.clone(),
            read: Box::new(|| {
                read_surprise(&surprise, &suite)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }),
        },
        Target {
            name: "checkpoint",
            file: ckpt.clone(),
            read: Box::new(|| {
                load_checkpoint(&ckpt, &Device::Cpu)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }),
        },
        Target {
            name: "run config",
            file: config_file.clone(),
            read: Box::new(|| {
                let text = fs::read(&config_file).unwrap();
                let text = String::from_utf8(text)
                    .map_err(|e| format!("{}: not UTF-8: {e}", config_file.display()))?;
                RunConfig::from_toml(&text, "smoke", &config_file.display().to_string())
                    .and_then(|c| c.validate().map(|()| c))
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }),
        },
        Target {
            name: "results voe.csv",
            file: results.join("voe.csv"),
            read: Box::new(load),
        },
        Target {
            name: "results meta.json",
            file: results.join("meta.json"),
            read: Box::new(load),
        },
        Target {
            name: "results config.toml",
            file: results.join("config.toml"),
            read: Box::new(load),
        },
        Target {
            name: "results scores.csv (compare)",
            file: results.join("scores.csv"),
            read: Box::new(tables),
        },
        Target {
            name: "results planning.csv (compare)",
            file: results.join("planning.csv"),
            read: Box::new(tables),
        },
    ];
    let report = fuzz(&targets, cases);
    eprintln!("{}", report.join("\n"));
}
