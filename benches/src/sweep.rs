//! The nuisance sweep: `bench run` with several `nuisance` levels runs the whole run once per
//! level (the same models, steps and seeds; data, suite and tasks at that level; results in
//! `nuisance-<level>/`), then writes `nuisance.csv`, `nuisance.png` and a summary: per model and
//! level, the state probes' R², VoE relative accuracy on the headline cells, the prediction
//! error against copying the last frame, and planning success where planning runs.
//!
//! The physics is the same bits at every level ([`moravec_sim::nuisance`]), so whatever moves
//! along a curve moves because of detail that carries no physics: the experiment the project's
//! argument asks for (a model that predicts pixels spends itself on what cannot be predicted; a
//! joint embedding may learn to ignore it).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use moravec_sim::Nuisance;
use moravec_sim::voe::Condition;

use crate::error::Result;
use crate::files::{num, write_csv, write_text};
use crate::report::{Aggregation, Subset};
use crate::results::meta::{Machine, RunMeta, now_rfc3339};
use crate::run::{LevelOutcome, RunOptions, RunOutcome, run_level};

/// Columns of `nuisance.csv`.
pub const NUISANCE_HEADER: [&str; 10] = [
    "run", "model", "level", "metric", "cell", "value", "ci_low", "ci_high", "n", "source",
];

/// One number of the sweep: a model's metric on a cell at a level.
///
/// - `relative_accuracy`, cell `<property>/<subset>` of the occluded (headline) sets: the
///   level's `voe.csv` row (mean over seeds; interval resampling seeds and sets; `n` sets);
/// - `probe_r2`, cell `<scene>/<variable>` and `mean/<variable>` (over scenes): mean over
///   training seeds, interval the lowest and highest seed, `n` seeds;
/// - `prediction_ratio`, cell `<scene>` and `mean`: held-out multi-step prediction error over
///   copying the last frame (below 1: better than nothing moving), in the model's own target
///   space; mean, lowest and highest over seeds;
/// - `planning_success`, cell `<task>/<planner>`: success rate, Wilson interval, `n` episodes.
#[derive(Clone, Debug, PartialEq)]
pub struct NuisanceRow {
    /// Model, control or floor.
    pub model: String,
    /// Nuisance level.
    pub level: u8,
    /// Metric name.
    pub metric: &'static str,
    /// What it is measured on.
    pub cell: String,
    /// Point estimate.
    pub value: f64,
    /// Lower bound.
    pub ci_low: f64,
    /// Upper bound.
    pub ci_high: f64,
    /// Sets, seeds or episodes behind it.
    pub n: usize,
}

/// Runs the sweep of `levels` that `options` describes.
pub fn run(options: &RunOptions, levels: &[Nuisance]) -> Result<RunOutcome> {
    let config = &options.config;
    let started = now_rfc3339();
    let clock = Instant::now();
    let run_id = config.run_id();
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&run_id));
    let mut done = Vec::new();
    let mut stopped = None;
    let mut timings = Vec::new();
    for &level in levels {
        eprintln!("nuisance level {level}: {}", level.describe());
        let level_options = RunOptions {
            config: config.at_level(level),
            out: Some(out.join(format!("nuisance-{level}"))),
            ..options.clone()
        };
        let mut outcome = run_level(&level_options, true)?;
        if let Some(kind) = outcome.outcome.stopped_after {
            stopped = Some(kind);
            continue;
        }
        timings.append(&mut outcome.stages);
        done.push((level, outcome));
    }
    if let Some(kind) = stopped {
        return Ok(RunOutcome {
            out: None,
            stopped_after: Some(kind),
            summary: String::new(),
        });
    }
    let rows = rows(&done);
    std::fs::create_dir_all(&out)
        .map_err(|e| crate::error::HarnessError::io("cannot create", &out, e))?;
    write_csv(
        &out.join("nuisance.csv"),
        &NUISANCE_HEADER,
        &records(&run_id, &done, &rows),
    )?;
    crate::plots::nuisance(&out.join("nuisance.png"), &rows)?;
    write_text(&out.join("config.toml"), &config.to_toml())?;
    let meta = RunMeta {
        schema: moravec_sim::results::RESULTS_SCHEMA.into(),
        run: run_id.clone(),
        preset: config.preset.clone(),
        git_revision: crate::files::git_revision(),
        harness: format!("moravec-bench {}", env!("CARGO_PKG_VERSION")),
        machine: Machine::here(),
        device: config.device.clone(),
        started,
        finished: now_rfc3339(),
        wall_seconds: clock.elapsed().as_secs_f64(),
        stages: timings,
    };
    let summary = render(&meta, config, levels, &rows);
    crate::results::write::write_summary(&out, &meta, &summary)?;
    Ok(RunOutcome {
        out: Some(out),
        stopped_after: None,
        summary,
    })
}

/// The sweep's rows from each level's outcome.
pub(crate) fn rows(levels: &[(Nuisance, LevelOutcome)]) -> Vec<NuisanceRow> {
    let mut out = Vec::new();
    for (level, o) in levels {
        let level = level.level();
        for r in &o.voe {
            if r.metric == "relative_accuracy"
                && r.aggregation == Aggregation::Mean
                && r.condition == Condition::Occluded
                && matches!(r.subset, Subset::All | Subset::Decidable)
            {
                out.push(NuisanceRow {
                    model: r.model.clone(),
                    level,
                    metric: "relative_accuracy",
                    cell: format!("{}/{}", r.property, r.subset.as_str()),
                    value: r.value,
                    ci_low: r.ci_low,
                    ci_high: r.ci_high,
                    n: r.n,
                });
            }
        }
        // Probe R² per (model, scene, variable), one value per seed; and per seed the mean
        // over scenes.
        let mut probes: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
        let mut means: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
        for p in &o.probed {
            let mut per_variable: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
            for r in &p.rows {
                probes
                    .entry((p.name.clone(), format!("{}/{}", r.scene, r.variable)))
                    .or_default()
                    .push(r.r2);
                per_variable.entry(&r.variable).or_default().push(r.r2);
            }
            for (variable, values) in per_variable {
                means
                    .entry((p.name.clone(), format!("mean/{variable}")))
                    .or_default()
                    .push(mean(&values));
            }
        }
        for ((model, cell), values) in probes.into_iter().chain(means) {
            out.push(over_seeds(model, level, "probe_r2", cell, &values));
        }
        let mut ratios: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
        for p in &o.predicted {
            let per_scene: Vec<f64> = p.rows.iter().map(|r| r.ratio()).collect();
            for r in &p.rows {
                ratios
                    .entry((p.name.clone(), r.scene.clone()))
                    .or_default()
                    .push(r.ratio());
            }
            ratios
                .entry((p.name.clone(), "mean".into()))
                .or_default()
                .push(mean(&per_scene));
        }
        for ((model, cell), values) in ratios {
            out.push(over_seeds(model, level, "prediction_ratio", cell, &values));
        }
        for r in &o.plans {
            out.push(NuisanceRow {
                model: r.model.clone(),
                level,
                metric: "planning_success",
                cell: format!("{}/{}", r.task, r.planner),
                value: r.success_rate,
                ci_low: r.ci_low,
                ci_high: r.ci_high,
                n: r.episodes as usize,
            });
        }
    }
    out
}

/// A row from one value per training seed: their mean, lowest and highest.
fn over_seeds(
    model: String,
    level: u8,
    metric: &'static str,
    cell: String,
    values: &[f64],
) -> NuisanceRow {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    NuisanceRow {
        model,
        level,
        metric,
        cell,
        value: mean(values),
        ci_low: lo,
        ci_high: hi,
        n: values.len(),
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// `nuisance.csv`'s records: the sweep's run id, and in `source` the run id of the level's
/// own results folder.
fn records(
    run: &str,
    levels: &[(Nuisance, LevelOutcome)],
    rows: &[NuisanceRow],
) -> Vec<Vec<String>> {
    let source: BTreeMap<u8, &str> = levels
        .iter()
        .map(|(l, o)| (l.level(), o.run_id.as_str()))
        .collect();
    rows.iter()
        .map(|r| {
            vec![
                run.to_owned(),
                r.model.clone(),
                r.level.to_string(),
                r.metric.to_owned(),
                r.cell.clone(),
                num(r.value),
                num(r.ci_low),
                num(r.ci_high),
                r.n.to_string(),
                source.get(&r.level).copied().unwrap_or_default().to_owned(),
            ]
        })
        .collect()
}

/// The headline numbers of the sweep, one table per metric: a row per model, a column per
/// level.
const TABLES: [(&str, &str, &str); 5] = [
    (
        "probe_r2",
        "mean/position",
        "State probe R² of position, mean over scenes (mean over training seeds; lowest and highest seed)",
    ),
    (
        "prediction_ratio",
        "mean",
        "Held-out prediction error over copying the last frame, mean over scenes (below 1: better than copying; mean, lowest and highest seed)",
    ),
    (
        "relative_accuracy",
        "permanence/decidable",
        "Relative accuracy, decidable occluded permanence (95% interval resampling seeds and sets)",
    ),
    (
        "relative_accuracy",
        "continuity/decidable",
        "Relative accuracy, decidable occluded continuity",
    ),
    (
        "relative_accuracy",
        "permanence/all",
        "Relative accuracy, occluded permanence, every set",
    ),
];

/// The sweep's `summary.md`.
pub fn render(
    meta: &RunMeta,
    config: &crate::config::RunConfig,
    levels: &[Nuisance],
    rows: &[NuisanceRow],
) -> String {
    let mut s = format!("# Moravec nuisance sweep `{}`\n\n", meta.run);
    s += &format!(
        "Preset `{}`, git `{}`, {} on {} ({} CPUs); {} to {}, wall time {:.0} s.\n\n",
        meta.preset,
        meta.git_revision,
        meta.harness,
        meta.machine.os,
        meta.machine.cpus,
        meta.started,
        meta.finished,
        meta.wall_seconds
    );
    s += &format!(
        "Every model trained {} steps with seeds {:?} at each nuisance level; the physics \
         (states, actions, trajectories) is the same bits at every level. Each level's full \
         results are in `nuisance-<level>/`.\n\n",
        config.train.steps,
        config.train_seeds()
    );
    for l in levels {
        s += &format!("- level {}: {}\n", l.level(), l.describe());
    }
    s += "\n![nuisance](nuisance.png)\n";
    let mut models: Vec<&str> = Vec::new();
    for r in rows {
        if !models.contains(&r.model.as_str()) {
            models.push(&r.model);
        }
    }
    let mut planning: Vec<String> = Vec::new();
    for r in rows.iter().filter(|r| r.metric == "planning_success") {
        if !planning.contains(&r.cell) {
            planning.push(r.cell.clone());
        }
    }
    let planning: Vec<(&str, &str, String)> = planning
        .iter()
        .map(|cell| {
            let title = format!("Planning success, {cell} (Wilson 95% interval)");
            ("planning_success", cell.as_str(), title)
        })
        .collect();
    let tables = TABLES
        .iter()
        .map(|(m, c, t)| (*m, *c, (*t).to_owned()))
        .chain(planning);
    for (metric, cell, title) in tables {
        let cells: Vec<&NuisanceRow> = rows
            .iter()
            .filter(|r| r.metric == metric && r.cell == cell)
            .collect();
        if cells.is_empty() {
            continue;
        }
        s += &format!("\n## {title}\n\n| model |");
        for l in levels {
            s += &format!(" level {} |", l.level());
        }
        s += "\n|---|";
        s += &"---|".repeat(levels.len());
        s += "\n";
        for m in &models {
            if !cells.iter().any(|r| r.model == *m) {
                continue;
            }
            s += &format!("| {m} |");
            for l in levels {
                match cells.iter().find(|r| r.model == *m && r.level == l.level()) {
                    Some(r) => {
                        s += &format!(" {:.2} [{:.2}, {:.2}] |", r.value, r.ci_low, r.ci_high)
                    }
                    None => s += " |",
                }
            }
            s += "\n";
        }
    }
    s
}
