//! `compare RUN_A RUN_B`: two results folders side by side; with `--fail-on-regression X`, a
//! non-zero exit when any metric of B fell more than X below A's.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use moravec_bench::compare::Comparison;
use moravec_bench::results::RunResults;

/// Compare two Moravec runs.
#[derive(Debug, Parser)]
#[command(name = "compare", version, about)]
struct Args {
    /// The baseline results folder.
    run_a: PathBuf,
    /// The results folder compared with it.
    run_b: PathBuf,
    /// Exit with status 1 when a metric falls by more than this (in its own units).
    #[arg(long, value_name = "X")]
    fail_on_regression: Option<f64>,
    /// Only these metrics (repeatable): relative_accuracy, tie_share, auroc, absolute_accuracy,
    /// disappearance_accuracy, appearance_accuracy.
    #[arg(long)]
    metric: Vec<String>,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<bool> {
    let args = Args::parse();
    if let Some(x) = args.fail_on_regression {
        anyhow::ensure!(
            x.is_finite() && x >= 0.0,
            "--fail-on-regression {x}: expected a finite number >= 0"
        );
    }
    let a = RunResults::load(&args.run_a).context("run A")?;
    let b = RunResults::load(&args.run_b).context("run B")?;
    let c = Comparison::new(&a, &b, &args.metric)?;
    print!(
        "{}",
        c.render(
            &args.run_a.display().to_string(),
            &args.run_b.display().to_string()
        )
    );
    if let Some(x) = args.fail_on_regression {
        let regressions = c.regressions(x);
        if !regressions.is_empty() {
            eprintln!(
                "{} metric(s) regressed by more than {x}:",
                regressions.len()
            );
            for j in regressions {
                eprintln!("  {}: {:.4} -> {:.4}", j.key.join(" "), j.a[0], j.b[0]);
            }
            return Ok(false);
        }
        println!("no metric regressed by more than {x}");
    }
    Ok(true)
}
