//! How the frame-level controls score sets of every cell, without a run: for each cell, the sets
//! built, their mean violation frame, each frame control's relative accuracy (windows of 8
//! context and 4 target frames every 2 frames, as the default preset scores) and the time taken.
//! The harness scores the same controls in every run; this is the quick look while designing
//! sets.
//! `cargo run --release -p moravec-sim --example voe_balance -- SETS FRAMES SIZE [SEED]`.

use moravec_sim::voe::{PROPERTIES, SetRequest, generate_set, set_seed};
use rayon::prelude::*;

const CONTEXT: usize = 8;
const HORIZON: usize = 4;
const STRIDE: usize = 2;

/// A window's statistic from its last context frame and its target frames.
type Stat = dyn Fn(&[u8], &[&[u8]]) -> u64 + Sync;

fn windows(frames: &[u8], n: usize, stat: &Stat) -> u64 {
    let len = frames.len() / n;
    let f = |t: usize| &frames[t * len..(t + 1) * len];
    let mut total = 0;
    let mut s = 0;
    while s + CONTEXT + HORIZON <= n {
        let targets: Vec<&[u8]> = (0..HORIZON).map(|k| f(s + CONTEXT + k)).collect();
        total += stat(f(s + CONTEXT - 1), &targets);
        s += STRIDE;
    }
    total
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let (n, frames, size) = (args[0], args[1] as usize, args[2] as usize);
    let seed = args.get(3).copied().unwrap_or(0);
    let brightness = |_: &[u8], t: &[&[u8]]| -> u64 {
        t.iter()
            .map(|f| f.iter().map(|&b| u64::from(b)).sum::<u64>())
            .sum()
    };
    let saturated = |_: &[u8], t: &[&[u8]]| -> u64 {
        t.iter()
            .map(|f| {
                f.chunks_exact(3)
                    .filter(|p| {
                        let max = u32::from(p[0].max(p[1]).max(p[2]));
                        let min = u32::from(p[0].min(p[1]).min(p[2]));
                        max >= 64 && (max - min) * 2 > max
                    })
                    .count() as u64
            })
            .sum()
    };
    let diff = |l: &[u8], t: &[&[u8]]| -> u64 {
        t.iter()
            .map(|f| {
                f.iter()
                    .zip(l)
                    .map(|(&x, &y)| u64::from(x.abs_diff(y)))
                    .sum::<u64>()
            })
            .sum()
    };
    let controls: [(&str, &Stat); 3] = [
        ("frame-stats", &brightness),
        ("object-pixels", &saturated),
        ("frame-diff", &diff),
    ];
    for spec in PROPERTIES {
        for &condition in spec.conditions {
            let start = std::time::Instant::now();
            let sets: Vec<_> = (0..n)
                .into_par_iter()
                .map(|index| {
                    generate_set(&SetRequest {
                        property: spec.property,
                        condition,
                        seed: set_seed(seed, spec.property, condition, index),
                        index,
                        frames,
                        size,
                    })
                })
                .collect();
            let ok: Vec<_> = sets.iter().filter_map(|s| s.as_ref().ok()).collect();
            let failed = sets.len() - ok.len();
            let mean_v =
                ok.iter().map(|s| s.violation_frame as f64).sum::<f64>() / ok.len().max(1) as f64;
            let mut line = format!(
                "{:16} {:9} built {:3} failed {:2} mean v {:5.1}",
                spec.property.as_str(),
                condition.as_str(),
                ok.len(),
                failed,
                mean_v
            );
            for (name, stat) in &controls {
                let score: f64 = ok
                    .iter()
                    .map(|s| {
                        let (mut p, mut q) = (0u64, 0u64);
                        for m in &s.members {
                            let w = windows(&m.episode.frames, frames, *stat);
                            if m.possible {
                                p += w;
                            } else {
                                q += w;
                            }
                        }
                        match q.cmp(&p) {
                            std::cmp::Ordering::Greater => 1.0,
                            std::cmp::Ordering::Less => 0.0,
                            _ => 0.5,
                        }
                    })
                    .sum::<f64>()
                    / ok.len().max(1) as f64;
                line += &format!(" {name} {score:.2}");
            }
            line += &format!(" ({:.1} s)", start.elapsed().as_secs_f64());
            println!("{line}");
            if let Some(e) = sets.iter().find_map(|s| s.as_ref().err()) {
                println!("  first error: {e}");
            }
        }
    }
}
