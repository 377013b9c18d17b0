//! `summary.md`: the tables a researcher reads first, and the controls check that flags an
//! aggregation whose physics-blind controls stray from chance.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::config::RunConfig;
use crate::report::{Aggregation, Subset, VoeRow};
use crate::results::RunMeta;
use crate::results::write::CurveRow;
use crate::stages::probe::Probed;

/// How far from 0.5 a control may score before its aggregation is flagged (when its interval
/// also excludes 0.5).
pub const CONTROL_TOLERANCE: f64 = 0.1;

/// The scorers that know no physics: the untrained models and every control.
pub fn is_control(name: &str) -> bool {
    name == moravec_agents::models::untrained::NAME
        || name == moravec_agents::models::slot_untrained::NAME
        || crate::controls::CONTROLS.iter().any(|c| c.name == name)
}

/// Headline control cells (subset `all`, relative accuracy) far from chance under `agg`. The
/// diagnostic cells (IntPhys's visible sets, the dynamics pairs) are not matched against frame
/// statistics and are reported, not flagged.
pub fn control_flags(rows: &[VoeRow], agg: Aggregation) -> Vec<&VoeRow> {
    rows.iter()
        .filter(|r| {
            r.condition.is_headline()
                && r.aggregation == agg
                && r.subset == Subset::All
                && r.metric == "relative_accuracy"
                && is_control(&r.model)
                && (r.value - 0.5).abs() > CONTROL_TOLERANCE
                && !(r.ci_low <= 0.5 && 0.5 <= r.ci_high)
        })
        .collect()
}

/// What the summary is made from.
pub struct Inputs<'a> {
    /// `voe.csv`'s rows.
    pub voe: &'a [VoeRow],
    /// The planning rows.
    pub plans: &'a [crate::planning::PlanRow],
    /// The probes at the end of training (and the pixel floor).
    pub probed: &'a [Probed],
    /// The learning curves.
    pub curve: &'a [CurveRow],
}

/// The Markdown summary.
pub fn render(meta: &RunMeta, config: &RunConfig, inputs: &Inputs) -> String {
    let (rows, plans) = (inputs.voe, inputs.plans);
    let mut s = String::new();
    let _ = writeln!(s, "# Moravec run `{}`\n", meta.run);
    let _ = writeln!(
        s,
        "Preset `{}`, git `{}`, {} on {} ({} CPUs), device {}; {} to {}, wall time {:.0} s.\n",
        meta.preset,
        meta.git_revision,
        meta.harness,
        meta.machine.os,
        meta.machine.cpus,
        meta.device,
        meta.started,
        meta.finished,
        meta.wall_seconds
    );
    let _ = writeln!(
        s,
        "Training: {} steps of batch {} ({} architecture) on {} episodes x {} frames of {} at {}x{}. \
         Suite: {} sets per property and condition, {} frames per movie, seed {}; windows every {} \
         frame(s).\n",
        config.train.steps,
        config.train.batch,
        config.train.arch,
        config.data.episodes,
        config.data.frames,
        config.data.scenes.join(", "),
        config.size,
        config.size,
        config.voe.sets,
        config.voe.frames,
        config.suite_seed(),
        config.score.stride
    );
    let seeds = config.train_seeds();
    if seeds.len() > 1 {
        let _ = writeln!(
            s,
            "Every model, the untrained control too, was trained with {} seeds ({}): each number \
             is the mean over seeds, its interval resamples seeds and sets, and `voe.csv` gives \
             the spread between seeds (`seed_sd`), `voe_seeds.csv` each seed's rows.\n",
            seeds.len(),
            seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if config
        .train
        .models
        .iter()
        .any(|m| moravec_agents::models::find(m).is_ok_and(|spec| spec.privileged.is_some()))
    {
        let _ = writeln!(
            s,
            "`slot-jepa` is given the instance masks (which body each pixel shows), as PLATO is; \
             its columns say so, and its control is `slot-untrained`, the same network at its \
             random initialisation with the same masks. Both carry a memory through the whole \
             movie and are scored on every frame from the movie's start, not by windows, so the \
             `memory` subsets are decidable for them alone. They do not plan (the planners give \
             frames only).\n"
        );
    }
    voe_sections(&mut s, rows);
    probe_table(&mut s, inputs.probed);
    curve_table(&mut s, inputs.curve);
    if !plans.is_empty() {
        let _ = writeln!(
            s,
            "\n## Planning\n\nSuccess rate over {} episodes per cell (95% Wilson interval), at {} of the \
             planners' published sampling budgets. The oracle plans with the simulator itself and the \
             true distance to the goal; the image oracle with the simulator's rendered futures against \
             the goal image (a perfect predictor with the models' objective). Success: every body \
             the goal image shows that the task moves ends within the task's tolerance of it; \
             `object` counts the pushed object(s) alone, `ever` a goal that held after some step \
             (DINO-WM's sticky success).\n\n\
             | task | model | planner | success | object | ever | final distance (m) | ms per action |\n\
             |---|---|---|---|---|---|---|---|",
            config.plan.episodes, config.plan.budget
        );
        for p in plans {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.2} [{:.2}, {:.2}] | {:.2} | {:.2} | {:.3} | {:.1} |",
                p.task,
                p.model,
                p.planner,
                p.success_rate,
                p.ci_low,
                p.ci_high,
                p.object_success_rate,
                p.ever_reached_rate,
                p.final_distance,
                p.plan_ms_per_action
            );
        }
        let off: std::collections::BTreeSet<String> = plans
            .iter()
            .filter_map(|p| moravec_sim::task::find(&p.task).ok())
            .filter(|t| t.size != config.size)
            .map(|t| format!("{} ({}x{})", t.name, t.size, t.size))
            .collect();
        if !off.is_empty() {
            let _ = writeln!(
                s,
                "\nPlanned at {0}x{0}, not at the size the tasks' tolerances are resolved at: {1}; \
                 a tolerance may then be under {2} pixels of the image the planners see.",
                config.size,
                off.into_iter().collect::<Vec<_>>().join(", "),
                moravec_sim::task::MIN_TOLERANCE_PIXELS
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## Stages\n\n| stage | what | reused | seconds |\n|---|---|---|---|"
    );
    for t in &meta.stages {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} |",
            t.kind,
            t.label,
            if t.cached { "yes" } else { "no" },
            if t.cached {
                t.original_seconds
            } else {
                t.seconds
            }
        );
    }
    s
}

/// The VoE sections of a summary from `voe.csv`'s rows: the headline, the occluded sets by
/// hidden length, the diagnostics, AUROC, the max aggregation and the controls check (also the
/// body of `bench score`'s summary).
pub fn voe_sections(s: &mut String, rows: &[VoeRow]) {
    let models: Vec<String> = {
        let mut seen = Vec::new();
        for r in rows {
            if !seen.contains(&r.model) {
                seen.push(r.model.clone());
            }
        }
        seen
    };
    let _ = writeln!(
        s,
        "## Relative accuracy, mean surprise over windows (headline)\n\n\
         The share of sets whose impossible movies are more surprising in total (ties count 0.5), \
         with its 95% bootstrap interval; chance is 0.50. Every headline set is a quadruplet whose \
         impossible movies show, pixel by pixel, what its possible movies show, so a statistic of \
         the frames alone ties.\n"
    );
    let headline = |r: &VoeRow| r.condition.is_headline();
    let diagnostic = |r: &VoeRow| !r.condition.is_headline();
    // Each table after its heading (the first one's is above): aggregation, metric, subsets,
    // which cells.
    type Cells<'a> = &'a dyn Fn(&VoeRow) -> bool;
    let tables: [(&str, Aggregation, &str, &[Subset], Cells); 5] = [
        (
            "",
            Aggregation::Mean,
            "relative_accuracy",
            &[Subset::All],
            &headline,
        ),
        (
            "\n## Occluded sets by hidden length\n\n\
             `decidable`: A and B are the same picture for at most C + K - 2 frames around the \
             splice, so one window sees both the last visible frame and the reappearance; \
             `memory`: longer, so every window of C and D is one of A or B and a windowed model \
             ties.\n",
            Aggregation::Mean,
            "relative_accuracy",
            &[Subset::Decidable, Subset::Memory],
            &headline,
        ),
        (
            "\n## Diagnostics, mean aggregation\n\n\
             Not matched against frame statistics, so not in the headline: the `visible` IntPhys \
             sets test a discontinuity in plain view (a detector of visible change, `frame-diff`, \
             passes them without any physics), and the dynamics `pair`s (one possible movie, one \
             identical up to a violation made in the simulation) differ in how much moves and \
             shows, which the controls pick up in either direction.\n",
            Aggregation::Mean,
            "relative_accuracy",
            &[Subset::All],
            &diagnostic,
        ),
        (
            "\n## AUROC, mean aggregation\n",
            Aggregation::Mean,
            "auroc",
            &[Subset::All],
            &headline,
        ),
        (
            "\n## Relative accuracy, max surprise over windows\n",
            Aggregation::Max,
            "relative_accuracy",
            &[Subset::All],
            &headline,
        ),
    ];
    for (heading, agg, metric, subsets, cells) in tables {
        if !heading.is_empty() {
            let _ = writeln!(s, "{heading}");
        }
        table(s, rows, &models, agg, metric, subsets, cells);
    }
    let _ = writeln!(s, "\n## Controls check\n");
    for agg in Aggregation::ALL {
        let flags = control_flags(rows, agg);
        if flags.is_empty() {
            let _ = writeln!(
                s,
                "- `{}`: on every headline cell, every control is within 0.50 +- {CONTROL_TOLERANCE:.2} or its interval includes 0.50.",
                agg.as_str()
            );
        } else {
            let _ = writeln!(
                s,
                "- **WARNING `{}`: controls far from chance, so this aggregation rewards something other than physics:**",
                agg.as_str()
            );
            for r in flags {
                let _ = writeln!(
                    s,
                    "  - {} on {} / {}: {:.2} [{:.2}, {:.2}]",
                    r.model, r.property, r.condition, r.value, r.ci_low, r.ci_high
                );
            }
        }
    }
}

/// The probes: R² per scene and variable, a column per model (mean over seeds).
fn probe_table(s: &mut String, probed: &[Probed]) {
    if probed.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n## State probes\n\nR² of a ridge regression from frozen frame features (frame t \
         and t - 1) to the tracked bodies' positions and velocities, and to where the image shows \
         them (`image_position`, pixels: a side camera shows depth far less than the other two \
         axes), fitted on training episodes (its regularisation chosen on held-out training \
         episodes) and scored on test episodes no model saw (`probe.csv`). `pixels`: the same probe on the frames average-pooled to \
         16x16, a floor; `untrained`: the encoder at its random initialisation; `<model> memory`: \
         the same probe on what a model with a memory carries after frames 0 to t (its state at \
         t alone), which can say where a body hidden behind a screen is.\n"
    );
    let mut names: Vec<&str> = Vec::new();
    let mut cells: Vec<(String, String)> = Vec::new();
    let mut values: BTreeMap<(String, String, &str), Vec<f64>> = BTreeMap::new();
    for p in probed {
        if !names.contains(&p.name.as_str()) {
            names.push(&p.name);
        }
        for r in &p.rows {
            let cell = (r.scene.clone(), r.variable.clone());
            if !cells.contains(&cell) {
                cells.push(cell.clone());
            }
            values
                .entry((cell.0, cell.1, p.name.as_str()))
                .or_default()
                .push(r.r2);
        }
    }
    let _ = write!(s, "| scene | variable |");
    for n in &names {
        let _ = write!(s, " {n} |");
    }
    let _ = write!(s, "\n|---|---|");
    for _ in &names {
        let _ = write!(s, "---|");
    }
    let _ = writeln!(s);
    for (scene, variable) in &cells {
        let _ = write!(s, "| {scene} | {variable} |");
        for n in &names {
            match values.get(&(scene.clone(), variable.clone(), *n)) {
                Some(v) if v.len() > 1 => {
                    let _ = write!(
                        s,
                        " {:.2} ± {:.2} |",
                        crate::metrics::mean(v),
                        crate::metrics::sample_sd(v)
                    );
                }
                Some(v) => {
                    let _ = write!(s, " {:.2} |", v[0]);
                }
                None => {
                    let _ = write!(s, " |");
                }
            }
        }
        let _ = writeln!(s);
    }
}

/// The learning curves in brief: per model and step, the decidable permanence and continuity
/// accuracies and the mean position R².
fn curve_table(s: &mut String, curve: &[CurveRow]) {
    if curve.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n## Learning curves\n\nThe first training seed of each model, scored on the headline \
         sets and probed at earlier checkpoints (`learning_curve.csv`, `learning_curve.png`).\n\n\
         | model | step | permanence (decidable) | continuity (decidable) | position R² (mean over scenes) |\n\
         |---|---|---|---|---|"
    );
    let mut keys: Vec<(&str, u64)> = Vec::new();
    for r in curve {
        if !keys.contains(&(r.model.as_str(), r.step)) {
            keys.push((&r.model, r.step));
        }
    }
    for (model, step) in keys {
        let at = |metric: &str, cell: &dyn Fn(&str) -> bool| -> Vec<f64> {
            curve
                .iter()
                .filter(|r| r.model == model && r.step == step && r.metric == metric)
                .filter(|r| cell(&r.cell))
                .map(|r| r.value)
                .collect()
        };
        let show = |v: Vec<f64>| {
            if v.is_empty() {
                "-".to_owned()
            } else {
                format!("{:.2}", crate::metrics::mean(&v))
            }
        };
        let _ = writeln!(
            s,
            "| {model} | {step} | {} | {} | {} |",
            show(at("relative_accuracy", &|c| c == "permanence/decidable")),
            show(at("relative_accuracy", &|c| c == "continuity/decidable")),
            show(at("probe_r2", &|c| c.ends_with("/position"))),
        );
    }
}

/// One table: rows property x condition (x subset) of the cells kept, a column per model.
/// A model's column heading: its name, and the input it is given beyond frames and actions,
/// if any (a privileged model is never read as an equal of the others).
fn column(model: &str) -> String {
    match moravec_agents::models::find(model)
        .ok()
        .and_then(|m| m.privileged)
    {
        Some(input) => format!("{model} (given {input})"),
        None => model.to_owned(),
    }
}

fn table(
    s: &mut String,
    rows: &[VoeRow],
    models: &[String],
    agg: Aggregation,
    metric: &str,
    subsets: &[Subset],
    cells_kept: &dyn Fn(&VoeRow) -> bool,
) {
    let mut cells: BTreeMap<(String, String, Subset), BTreeMap<&str, &VoeRow>> = BTreeMap::new();
    let mut order = Vec::new();
    for r in rows {
        if r.aggregation != agg
            || r.metric != metric
            || !subsets.contains(&r.subset)
            || !cells_kept(r)
        {
            continue;
        }
        let key = (r.property.to_string(), r.condition.to_string(), r.subset);
        if !cells.contains_key(&key) {
            order.push(key.clone());
        }
        cells.entry(key).or_default().insert(&r.model, r);
    }
    if order.is_empty() {
        let _ = writeln!(s, "(no rows)");
        return;
    }
    let _ = write!(s, "| property | condition |");
    if subsets.len() > 1 {
        let _ = write!(s, " subset |");
    }
    for m in models {
        let _ = write!(s, " {} |", column(m));
    }
    let _ = writeln!(s);
    let cols = 2 + usize::from(subsets.len() > 1) + models.len();
    let _ = writeln!(s, "|{}", "---|".repeat(cols));
    for key in order {
        let _ = write!(s, "| {} | {} |", key.0, key.1);
        if subsets.len() > 1 {
            let _ = write!(s, " {} |", key.2.as_str());
        }
        for m in models {
            match cells[&key].get(m.as_str()) {
                Some(r) => {
                    let _ = write!(s, " {:.2} [{:.2}, {:.2}] |", r.value, r.ci_low, r.ci_high);
                }
                None => {
                    let _ = write!(s, " |");
                }
            }
        }
        let _ = writeln!(s);
    }
}

#[cfg(test)]
mod tests {
    use moravec_sim::voe::{Condition, Property};

    use super::*;

    fn row(model: &str, property: Property, condition: Condition, value: f64) -> VoeRow {
        VoeRow {
            model: model.into(),
            property,
            condition,
            subset: Subset::All,
            aggregation: Aggregation::Mean,
            metric: "relative_accuracy".into(),
            value,
            ci_low: value - 0.05,
            ci_high: value + 0.05,
            n: 60,
        }
    }

    /// A control off chance on a diagnostic cell (a visible splice, a pair) is what those cells
    /// are known for and is not flagged; on a headline (occluded) cell it is.
    #[test]
    fn the_controls_check_flags_headline_cells_only() {
        let rows = [
            row("frame-diff", Property::Permanence, Condition::Visible, 1.0),
            row("frame-stats", Property::Gravity, Condition::Pair, 0.98),
            row("jepa-ema", Property::Gravity, Condition::Occluded, 0.1),
            row("untrained", Property::Solidity, Condition::Occluded, 0.3),
            row("frame-diff", Property::Inertia, Condition::Occluded, 0.5),
        ];
        let flags = control_flags(&rows, Aggregation::Mean);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(
            (flags[0].model.as_str(), flags[0].property),
            ("untrained", Property::Solidity)
        );
    }
}
