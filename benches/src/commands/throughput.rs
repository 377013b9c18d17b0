//! `bench throughput`: physics + render frames per second, per scene, on all cores.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use moravec_sim::episode::generate_episode;
use moravec_sim::{EpisodeKey, SCENES, Split, camera::check_size};
use rayon::prelude::*;

use crate::cli::ThroughputArgs;
use moravec_bench::files::{append_csv, git_revision};

/// Columns of `throughput.csv`.
pub const HEADER: [&str; 9] = [
    "unix_time",
    "git_rev",
    "scene",
    "size",
    "threads",
    "episodes",
    "frames",
    "seconds",
    "frames_per_s",
];

/// One scene's measurement.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Scene name, or `all` for the total.
    pub scene: String,
    /// Frames simulated and rendered.
    pub frames: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl Measurement {
    /// Frames per second.
    pub fn rate(&self) -> f64 {
        self.frames as f64 / self.seconds.max(1e-9)
    }
}

/// Runs `bench throughput` and returns the measurements (last: all scenes together).
pub fn run(args: &ThroughputArgs) -> anyhow::Result<Vec<Measurement>> {
    check_size("size", args.size)?;
    moravec_sim::episode::check_frames(args.frames)?;
    anyhow::ensure!(
        args.episodes >= 1,
        "--episodes 0 is out of range: expected at least 1"
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start the thread pool")?;
    let threads = pool.current_num_threads();
    let mut results = Vec::new();
    for spec in SCENES {
        let start = Instant::now();
        pool.install(|| {
            (0..args.episodes).into_par_iter().try_for_each(|index| {
                let key = EpisodeKey {
                    seed: 0,
                    scene: spec.name,
                    split: Split::Train,
                    index,
                };
                generate_episode(spec, &key, args.frames, args.size).map(drop)
            })
        })?;
        results.push(Measurement {
            scene: spec.name.to_owned(),
            frames: args.episodes * args.frames as u64,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    results.push(Measurement {
        scene: "all".into(),
        frames: results.iter().map(|m| m.frames).sum(),
        seconds: results.iter().map(|m| m.seconds).sum(),
    });

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let rev = git_revision();
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|m| {
            vec![
                now.to_string(),
                rev.clone(),
                m.scene.clone(),
                args.size.to_string(),
                threads.to_string(),
                args.episodes.to_string(),
                m.frames.to_string(),
                format!("{:.4}", m.seconds),
                format!("{:.1}", m.rate()),
            ]
        })
        .collect();
    append_csv(&args.csv, &HEADER, &rows)?;
    println!(
        "throughput at {0}x{0} on {threads} thread(s), physics + render:",
        args.size
    );
    for m in &results {
        println!("  {:16} {:>10.0} frames/s", m.scene, m.rate());
    }
    println!("rows appended to {}", args.csv.display());
    Ok(results)
}
