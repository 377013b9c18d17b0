//! Writing a run's results folder from its stages: `voe.csv`, `scores.csv`, `curves.csv`,
//! `training.csv`, `throughput.csv`, `planning.csv`, `planning_episodes.csv`, the plots,
//! `config.toml`, `summary.md` and, last, `meta.json`. Every file is written atomically.

use std::collections::BTreeMap;
use std::path::Path;

use moravec_sim::results::{
    CURVES_HEADER, EPISODES_HEADER, PLANNING_HEADER, SCORES_HEADER, THROUGHPUT_HEADER,
    TRAINING_HEADER, VOE_HEADER,
};
use moravec_sim::voe::{Property, SetRow, Suite};

use crate::config::RunConfig;
use crate::error::{HarnessError, Result};
use crate::files::{num, open_csv, write_csv, write_text};
use crate::report::{self, Aggregation, MovieScore, VoeRow};
use crate::results::meta::RunMeta;
use crate::stages::plan::Plans;
use crate::stages::runner::Measure;
use crate::stages::score::Scored;
use crate::stages::train::Trained;
use crate::surprise::read_curves;

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
    /// Every stage's measurements.
    pub measures: &'a [Measure],
    /// C + K - 2: the longest hidden stretch a window can see both ends of.
    pub decidable_max: usize,
}

/// Writes everything but `summary.md` and `meta.json` into `out`; returns the VoE rows.
pub fn write_tables(out: &Path, data: &RunData) -> Result<Vec<VoeRow>> {
    std::fs::create_dir_all(out).map_err(|e| HarnessError::io("cannot create", out, e))?;
    let voe_rows = write_voe(out, data)?;
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
    Ok(voe_rows)
}

/// Writes `summary.md` and, last, `meta.json`.
pub fn write_summary(out: &Path, meta: &RunMeta, summary: &str) -> Result<()> {
    write_text(&out.join("summary.md"), summary)?;
    let json = serde_json::to_string_pretty(meta).expect("meta serialises") + "\n";
    write_text(&out.join("meta.json"), &json)
}

/// `voe.csv`, `scores.csv`, `curves.csv`, the accuracy plot and each model's surprise curves.
fn write_voe(out: &Path, data: &RunData) -> Result<Vec<VoeRow>> {
    let run = data.run_id;
    let mut voe_rows: Vec<VoeRow> = Vec::new();
    let mut score_rows = Vec::new();
    let mut curve_rows = Vec::new();
    let mut examples = Vec::new();
    for scored in data.scored {
        let name = &scored.name;
        let mut curves = BTreeMap::new();
        for p in &data.suite.meta.properties {
            curves.insert(p.property, read_curves(&scored.dir, p.property)?);
        }
        for (property, episodes) in &curves {
            for (episode, curve) in episodes.iter().enumerate() {
                for (frame, v) in curve {
                    curve_rows.push(vec![
                        run.to_owned(),
                        name.clone(),
                        property.to_string(),
                        episode.to_string(),
                        frame.to_string(),
                        num(*v),
                    ]);
                }
            }
        }
        let movie_scores = report::movie_scores(data.suite, &curves);
        voe_rows.extend(report::voe_rows(
            name,
            &movie_scores,
            data.decidable_max,
            data.config.score.bootstrap,
            data.config.seed,
        ));
        for (property, movies) in &movie_scores {
            for (row, s) in movies {
                score_rows.push(score_record(run, name, *property, row, s));
            }
        }
        examples.push((name.clone(), crate::plots::examples(data.suite, &curves)));
    }
    write_csv(
        &out.join("voe.csv"),
        &VOE_HEADER,
        &voe_records(run, &voe_rows),
    )?;
    write_csv(&out.join("scores.csv"), &SCORES_HEADER, &score_rows)?;
    write_csv(&out.join("curves.csv"), &CURVES_HEADER, &curve_rows)?;
    crate::plots::relative_accuracy(&out.join("relative_accuracy.png"), &voe_rows)?;
    for (name, ex) in &examples {
        if data.config.train.models.contains(name) {
            crate::plots::surprise_curves(&out.join(format!("surprise-{name}.png")), name, ex)?;
        }
    }
    Ok(voe_rows)
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
                    t.name.clone(),
                    step.to_string(),
                    term,
                    num(value),
                ]);
            }
        }
        losses.push((t.name.clone(), totals));
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
