//! `bench device-check`: the same run on the CPU and on another device (the GPU), compared.

use std::time::Instant;

use anyhow::bail;
use moravec_bench::RunConfig;
use moravec_bench::device_check::{CHECK_HEADER, CheckRow, compare};
use moravec_bench::files::write_csv;
use moravec_bench::run::{RunOptions, run as run_benchmark};

use crate::cli::DeviceCheckArgs;

/// Runs the preset on both devices, writes `device-check.csv` and fails if the losses differ.
pub fn run(args: &DeviceCheckArgs) -> anyhow::Result<()> {
    if !(args.tolerance.is_finite() && args.tolerance >= 0.0) {
        bail!(
            "--tolerance {}: expected a relative difference of 0 or more",
            args.tolerance
        );
    }
    let base = RunConfig::preset(&args.preset)?;
    let other = if args.device == "cpu" {
        "cpu-again".to_owned()
    } else {
        args.device.clone()
    };
    let mut seconds = Vec::new();
    for (label, device) in [("cpu", "cpu"), (other.as_str(), args.device.as_str())] {
        let config = RunConfig {
            device: device.to_owned(),
            ..base.clone()
        };
        eprintln!("device check: preset {} on {device}", config.preset);
        let t = Instant::now();
        run_benchmark(&RunOptions {
            config,
            out: Some(args.out.join(label)),
            work: args.work.join(label),
            force: Vec::new(),
            stop_after: None,
            sharded: None,
        })?;
        seconds.push(t.elapsed().as_secs_f64());
    }
    let mut rows = compare(
        &args.out.join("cpu"),
        &args.out.join(&other),
        args.steps,
        args.tolerance,
    )?;
    rows.push(CheckRow {
        model: "all".into(),
        metric: "run_seconds".into(),
        cpu: seconds[0],
        other: seconds[1],
        compare: seconds[0] / seconds[1].max(1e-9),
        tolerance: None,
    });
    let records: Vec<Vec<String>> = rows.iter().map(|r| r.record(&args.device)).collect();
    let path = args.out.join("device-check.csv");
    write_csv(&path, &CHECK_HEADER, &records)?;
    println!(
        "{:<14} {:<26} {:>14} {:>14} {:>10}  pass",
        "model", "metric", "cpu", &args.device, "compare"
    );
    for r in &rows {
        println!(
            "{:<14} {:<26} {:>14.6} {:>14.6} {:>10.3e}  {}",
            r.model,
            r.metric,
            r.cpu,
            r.other,
            r.compare,
            r.pass()
        );
    }
    println!("written to {}", path.display());
    let failed: Vec<&CheckRow> = rows.iter().filter(|r| !r.pass()).collect();
    if !failed.is_empty() {
        bail!(
            "{} of the {} run's first losses differ from the CPU run's by more than {} \
             (relative): {}",
            failed.len(),
            args.device,
            args.tolerance,
            failed
                .iter()
                .map(|r| format!("{} {} ({:.2e})", r.model, r.metric, r.compare))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
