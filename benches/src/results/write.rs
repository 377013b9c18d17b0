//! Writing a run's results folder from its stages: `voe.csv` (and `voe_seeds.csv`),
//! `scores.csv`, `curves.csv`, `probe.csv`, `learning_curve.csv`, `training.csv`, `throughput.csv`, `planning.csv`, `planning_episodes.csv`, the plots,
//! `config.toml`, `summary.md` and, last, `meta.json`. Every file is written atomically.

use std::collections::BTreeMap;
use std::path::Path;

use moravec_sim::results::{
    CURVES_HEADER, EPISODES_HEADER, LEARNING_CURVE_HEADER, PLANNING_HEADER, PROBE_HEADER,
    SCORES_HEADER, THROUGHPUT_HEADER, TRAINING_HEADER, VOE_HEADER,
};
use moravec_sim::voe::{Property, SetRow, Suite};

use crate::config::RunConfig;
use crate::error::{HarnessError, Result};
use crate::files::{num, open_csv, write_csv, write_text};
use crate::report::{self, Aggregation, MovieScore, VoeRow};
use crate::results::meta::RunMeta;
use crate::stages::curve::CurvePoint;
use crate::stages::plan::Plans;
use crate::stages::probe::Probed;
use crate::stages::runner::Measure;
use crate::stages::score::Scored;
use crate::stages::train::Trained;
use crate::surprise::read_suite_curves;

/// What the results are made from.
pub struct RunData<'a> {
    /// The run's id (the `run` column).
    pub run_id: &'a str,
    /// The resolved config.
    pub config: &'a RunConfig,
    /// The suite that was scored.
    pub suite: &'a Suite,
    /// Every scored model and control.
    pub scored: &'a [Scored],
    /// Every trained model.
    pub trained: &'a [Trained],
    /// Every planning cell.
    pub plans: &'a Plans,
    /// Every probe at the end of training (and the pixel floor).
    pub probed: &'a [Probed],
    /// The learning curves' earlier points.
    pub curve: &'a [CurvePoint],
    /// Every stage's measurements.
    pub measures: &'a [Measure],
    /// C + K - 2: the longest hidden stretch a window can see both ends of.
    pub decidable_max: usize,
}

/// The tables the summary is made from.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    /// `voe.csv`.
    pub voe: Vec<VoeRow>,
    /// `learning_curve.csv`.
    pub curve: Vec<CurveRow>,
}

/// Writes everything but `summary.md` and `meta.json` into `out`; returns the VoE and
/// learning-curve rows.
pub fn write_tables(out: &Path, data: &RunData) -> Result<Tables> {
    std::fs::create_dir_all(out).map_err(|e| HarnessError::io("cannot create", out, e))?;
    // What a run killed while it wrote the tables left behind.
    crate::files::remove_stale_temps(out)?;
    let (voe_rows, first_rows) = write_voe(out, data)?;
    write_probe(out, data)?;
    let curve = write_learning_curve(out, data, &first_rows)?;
    write_training(out, data)?;
    let run = data.run_id;
    let throughput: Vec<Vec<String>> = data
        .measures
        .iter()
        .map(|m| {
            vec![
                run.to_owned(),
                m.kind.as_str().to_owned(),
                m.label.clone(),
                m.metric.clone(),
                num(m.value),
                m.cached.to_string(),
            ]
        })
        .collect();
    write_csv(&out.join("throughput.csv"), &THROUGHPUT_HEADER, &throughput)?;
    write_text(&out.join("config.toml"), &data.config.to_toml())?;
    write_planning(out, data)?;
    Ok(Tables {
        voe: voe_rows,
        curve,
    })
}

/// Writes `summary.md` and, last, `meta.json`.
pub fn write_summary(out: &Path, meta: &RunMeta, summary: &str) -> Result<()> {
    write_text(&out.join("summary.md"), summary)?;
    let json = serde_json::to_string_pretty(meta).expect("meta serialises") + "\n";
    write_text(&out.join("meta.json"), &json)
}

/// Every movie's scores of one scored suite.
type MovieScores = BTreeMap<Property, Vec<(SetRow, MovieScore)>>;

/// The VoE rows of one scorer's movies, with the run's bootstrap settings.
fn voe_rows_of(data: &RunData, model: &str, scores: &MovieScores) -> Vec<VoeRow> {
    report::voe_rows(
        model,
        scores,
        data.decidable_max,
        data.config.score.bootstrap,
        data.config.seed,
    )
}

/// `voe.csv` (per model, over its training seeds), `voe_seeds.csv` (per seed, when a run has
/// several), `scores.csv`, `curves.csv`, the accuracy plot and each model's surprise curves.
/// Returns the rows of `voe.csv`, and those of the first seed of every model (the learning
/// curves' last point).
fn write_voe(out: &Path, data: &RunData) -> Result<(Vec<VoeRow>, Vec<VoeRow>)> {
    let run = data.run_id;
    let first_seed = data.config.train_seeds()[0];
    let several = data.config.train_seeds().len() > 1;
    let mut voe_rows: Vec<VoeRow> = Vec::new();
    let mut seed_rows: Vec<VoeRow> = Vec::new();
    let mut first_rows: Vec<VoeRow> = Vec::new();
    let mut score_rows = Vec::new();
    let mut curve_rows = Vec::new();
    let mut examples = Vec::new();
    let mut groups: Vec<(String, Vec<MovieScores>)> = Vec::new();
    for scored in data.scored {
        let curves = read_suite_curves(&scored.dir, data.suite)?;
        for (property, episodes) in &curves {
            for (episode, curve) in episodes.iter().enumerate() {
                for (frame, v) in curve {
                    curve_rows.push(vec![
                        run.to_owned(),
                        scored.label.clone(),
                        property.to_string(),
                        episode.to_string(),
                        frame.to_string(),
                        num(*v),
                    ]);
                }
            }
        }
        let movie_scores = report::movie_scores(data.suite, &curves);
        for (property, movies) in &movie_scores {
            for (row, s) in movies {
                score_rows.push(score_record(run, &scored.label, *property, row, s));
            }
        }
        let first = scored.seed.is_none_or(|s| s == first_seed);
        if first {
            examples.push((
                scored.name.clone(),
                crate::plots::examples(data.suite, &curves),
            ));
        }
        if several && scored.seed.is_some() {
            let rows = voe_rows_of(data, &scored.label, &movie_scores);
            if first {
                first_rows.extend(rows.iter().map(|r| VoeRow {
                    model: scored.name.clone(),
                    ..r.clone()
                }));
            }
            seed_rows.extend(rows);
        }
        match groups.iter_mut().find(|g| g.0 == scored.name) {
            Some(g) => g.1.push(movie_scores),
            None => groups.push((scored.name.clone(), vec![movie_scores])),
        }
    }
    for (name, per_seed) in &groups {
        voe_rows.extend(report::voe_rows_seeds(
            name,
            per_seed,
            data.decidable_max,
            data.config.score.bootstrap,
            data.config.seed,
        ));
    }
    if !several {
        first_rows = voe_rows.clone();
    }
    write_csv(
        &out.join("voe.csv"),
        &VOE_HEADER,
        &voe_records(run, &voe_rows),
    )?;
    if several {
        write_csv(
            &out.join("voe_seeds.csv"),
            &VOE_HEADER,
            &voe_records(run, &seed_rows),
        )?;
    }
    write_csv(&out.join("scores.csv"), &SCORES_HEADER, &score_rows)?;
    write_csv(&out.join("curves.csv"), &CURVES_HEADER, &curve_rows)?;
    crate::plots::relative_accuracy(&out.join("relative_accuracy.png"), &voe_rows)?;
    for (name, ex) in &examples {
        if data.config.train.models.contains(name) {
            crate::plots::surprise_curves(&out.join(format!("surprise-{name}.png")), name, ex)?;
        }
    }
    Ok((voe_rows, first_rows))
}

/// `probe.csv` and its plot.
fn write_probe(out: &Path, data: &RunData) -> Result<()> {
    let mut rows = Vec::new();
    for p in data.probed {
        for r in &p.rows {
            rows.push(vec![
                data.run_id.to_owned(),
                p.name.clone(),
                p.seed.map(|s| s.to_string()).unwrap_or_default(),
                r.scene.clone(),
                r.variable.clone(),
                num(r.r2),
                num(r.lambda),
                r.bodies.clone(),
                r.fit_rows.to_string(),
                r.test_rows.to_string(),
            ]);
        }
    }
    write_csv(&out.join("probe.csv"), &PROBE_HEADER, &rows)?;
    crate::plots::probes(&out.join("probe.png"), data.probed)
}

/// One point of a learning curve, as `learning_curve.csv` has it.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveRow {
    /// Model.
    pub model: String,
    /// Training seed.
    pub seed: u64,
    /// Steps trained.
    pub step: u64,
    /// `relative_accuracy` or `probe_r2`.
    pub metric: String,
    /// `property/subset` or `scene/variable`.
    pub cell: String,
    /// Value.
    pub value: f64,
    /// Interval (NaN for probes).
    pub ci_low: f64,
    /// Interval (NaN for probes).
    pub ci_high: f64,
    /// Sets, or test frames.
    pub n: usize,
}

/// The rows of one curve point: headline relative accuracy (mean aggregation) and probes.
fn curve_rows(
    name: &str,
    seed: u64,
    step: u64,
    voe: &[VoeRow],
    probed: &crate::stages::probe::Probed,
) -> Vec<CurveRow> {
    let mut rows: Vec<CurveRow> = voe
        .iter()
        .filter(|r| {
            r.condition.is_headline()
                && r.aggregation == Aggregation::Mean
                && r.metric == "relative_accuracy"
        })
        .map(|r| CurveRow {
            model: name.to_owned(),
            seed,
            step,
            metric: "relative_accuracy".into(),
            cell: format!("{}/{}", r.property, r.subset.as_str()),
            value: r.value,
            ci_low: r.ci_low,
            ci_high: r.ci_high,
            n: r.n,
        })
        .collect();
    rows.extend(probed.rows.iter().map(|p| CurveRow {
        model: name.to_owned(),
        seed,
        step,
        metric: "probe_r2".into(),
        cell: format!("{}/{}", p.scene, p.variable),
        value: p.r2,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        n: p.test_rows,
    }));
    rows
}

/// `learning_curve.csv` and its plot: every trained model of the first seed at its kept
/// checkpoints and at the end of training.
fn write_learning_curve(
    out: &Path,
    data: &RunData,
    first_rows: &[VoeRow],
) -> Result<Vec<CurveRow>> {
    let first_seed = data.config.train_seeds()[0];
    let mut rows: Vec<CurveRow> = Vec::new();
    for t in data.trained.iter().filter(|t| t.seed == first_seed) {
        if !moravec_agents::models::find(&t.name).is_ok_and(|m| m.trains) {
            continue;
        }
        for point in data
            .curve
            .iter()
            .filter(|p| p.name == t.name && p.seed == t.seed)
        {
            let curves = read_suite_curves(&point.scored.dir, data.suite)?;
            let scores = report::movie_scores(data.suite, &curves);
            let voe = voe_rows_of(data, &t.name, &scores);
            rows.extend(curve_rows(&t.name, t.seed, point.step, &voe, &point.probed));
        }
        let end: Vec<VoeRow> = first_rows
            .iter()
            .filter(|r| r.model == t.name)
            .cloned()
            .collect();
        if let Some(p) = data
            .probed
            .iter()
            .find(|p| p.name == t.name && p.seed == Some(t.seed))
        {
            rows.extend(curve_rows(&t.name, t.seed, t.config.steps, &end, p));
        }
    }
    let records: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                data.run_id.to_owned(),
                r.model.clone(),
                r.seed.to_string(),
                r.step.to_string(),
                r.metric.clone(),
                r.cell.clone(),
                num(r.value),
                num(r.ci_low),
                num(r.ci_high),
                r.n.to_string(),
            ]
        })
        .collect();
    write_csv(
        &out.join("learning_curve.csv"),
        &LEARNING_CURVE_HEADER,
        &records,
    )?;
    crate::plots::learning_curves(&out.join("learning_curve.png"), &rows)?;
    Ok(rows)
}

/// `training.csv` and the loss plot.
fn write_training(out: &Path, data: &RunData) -> Result<()> {
    let mut rows = Vec::new();
    let mut losses = Vec::new();
    for t in data.trained {
        let mut totals = Vec::new();
        for (step, terms) in read_training_log(&t.log())? {
            for (term, value) in terms {
                if term == "total" {
                    totals.push((step, value));
                }
                rows.push(vec![
                    data.run_id.to_owned(),
                    t.label.clone(),
                    step.to_string(),
                    term,
                    num(value),
                ]);
            }
        }
        losses.push((t.label.clone(), totals));
    }
    write_csv(&out.join("training.csv"), &TRAINING_HEADER, &rows)?;
    crate::plots::training(&out.join("training.png"), &losses)
}

/// `planning.csv`, `planning_episodes.csv`, the success plot and each task's GIF.
fn write_planning(out: &Path, data: &RunData) -> Result<()> {
    let run = data.run_id;
    let rows = &data.plans.rows;
    let records: Vec<Vec<String>> = rows.iter().map(|r| r.record(run)).collect();
    write_csv(&out.join("planning.csv"), &PLANNING_HEADER, &records)?;
    let episodes: Vec<Vec<String>> = rows
        .iter()
        .flat_map(|r| r.episode_records(run, data.config.seed))
        .collect();
    write_csv(
        &out.join("planning_episodes.csv"),
        &EPISODES_HEADER,
        &episodes,
    )?;
    if !rows.is_empty() {
        crate::plots::success_rates(&out.join("planning.png"), rows)?;
    }
    for (task, gif) in &data.plans.gifs {
        if gif.exists() {
            let dest = out.join(format!("plan-{task}.gif"));
            std::fs::copy(gif, &dest).map_err(|e| HarnessError::io("cannot write", &dest, e))?;
        }
    }
    Ok(())
}

/// `voe.csv` rows of a run.
pub fn voe_records(run: &str, rows: &[VoeRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            vec![
                run.to_owned(),
                r.model.clone(),
                r.property.to_string(),
                r.condition.to_string(),
                r.subset.as_str().to_owned(),
                r.aggregation.as_str().to_owned(),
                r.metric.clone(),
                num(r.value),
                num(r.ci_low),
                num(r.ci_high),
                r.n.to_string(),
            ]
        })
        .collect()
}

/// One `scores.csv` row.
fn score_record(
    run: &str,
    model: &str,
    property: Property,
    row: &SetRow,
    s: &MovieScore,
) -> Vec<String> {
    vec![
        run.to_owned(),
        model.to_owned(),
        property.to_string(),
        row.condition.to_string(),
        row.set_id.to_string(),
        row.member.to_string(),
        row.possible.to_string(),
        row.occlusion_frames.to_string(),
        s.windows.to_string(),
        num(s.score(Aggregation::Mean)),
        num(s.max),
    ]
}

/// One step of a trainer's log: the step and each term's value.
type LogRow = (u64, Vec<(String, f64)>);

/// A trainer's log: per step, each term's value (`total` and the model's terms).
fn read_training_log(path: &Path) -> Result<Vec<LogRow>> {
    if !path.exists() {
        // The untrained control has no log.
        return Ok(Vec::new());
    }
    let bad = |m: String| HarnessError::Schema {
        path: path.to_owned(),
        message: m,
    };
    let (mut reader, header) = open_csv(path, None)?;
    let mut out = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let step: u64 = rec[0].parse().map_err(|e| bad(format!("step: {e}")))?;
        let mut terms = Vec::new();
        for (name, value) in header.iter().zip(rec.iter()).skip(1) {
            if ["lr", "samples_per_s", "elapsed_s"].contains(&name.as_str()) {
                continue;
            }
            terms.push((
                name.clone(),
                value.parse().map_err(|e| bad(format!("{name}: {e}")))?,
            ));
        }
        out.push((step, terms));
    }
    Ok(out)
}
