//! `bench score`: one model's surprise on any suite, scored by the harness's own metrics beside
//! the controls (the untrained network and the frame controls) and written as a results folder:
//! `voe.csv`, `summary.md` and `relative_accuracy.png`. The model is either an outside one,
//! whose scores come in a file ([`crate::submission`]), or a checkpoint of the harness's own.
//!
//! Outside scores get one more check than a run's models: that they depend on the frames. A
//! script that hands back the same number for every movie of a set, or numbers that follow a
//! physics-blind control, is flagged in the summary (one published evaluation shipped a pixel
//! baseline whose surprise did not depend on the model, and nothing compared it with a control).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::models::WorldModel;
use moravec_agents::train::{TrainConfig, build};
use moravec_sim::results::VOE_HEADER;
use moravec_sim::voe::Suite;

use crate::controls::CONTROLS;
use crate::error::{HarnessError, Result};
use crate::files::{write_csv, write_text};
use crate::report::{self, Aggregation, VoeRow};
use crate::results::write::voe_records;
use crate::surprise::{Curves, Movies, Scorer, read_suite_curves, score_suite};

/// Where the scored model's surprise comes from.
pub enum Source<'a> {
    /// A file's scores, read and checked.
    Submitted(Curves),
    /// A model of the harness (from a checkpoint).
    Model(&'a dyn WorldModel),
}

/// What `bench score` scores and how.
pub struct Request<'a> {
    /// The suite.
    pub suite: &'a Suite,
    /// The model's name in the results.
    pub name: &'a str,
    /// Its surprise.
    pub source: Source<'a>,
    /// Frames a window spans (context + predicted): sets hidden for at most this minus two
    /// frames are `decidable`.
    pub window: usize,
    /// Frames between windows of the harness's scorers.
    pub stride: usize,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Seed of the bootstrap and of the untrained control.
    pub seed: u64,
    /// Where networks run.
    pub device: &'a Device,
}

/// Untrained networks in the control's ensemble (seeds `seed`, `seed + 1`, ...).
pub const UNTRAINED: u64 = 3;

/// Share of sets above which movies with one score for a whole set are flagged.
pub const CONSTANT_SETS: f64 = 0.5;

/// Correlation with a control's per-movie scores above which scores are flagged.
pub const CONTROL_CORRELATION: f64 = 0.9;

/// The controls submitted scores must not follow: the detectors of visible change and of how
/// much object is in view.
pub const FOLLOWED_CONTROLS: [&str; 2] = ["frame-diff", "object-pixels"];

/// Scores the request's model and every control, writes `out`, and returns the VoE rows (the
/// model's first) and the summary's warnings.
pub fn score(request: &Request, out: &Path) -> Result<(Vec<VoeRow>, Vec<String>)> {
    let suite = request.suite;
    let arch = TrainConfig::new("untrained", "small", 0)
        .model_config(suite.meta.size, 0)
        .map_err(|e| invalid("suite size", suite.meta.size, e))?;
    let (context, horizon) = match &request.source {
        Source::Model(m) => (m.config().context, m.config().horizon),
        Source::Submitted(_) => (arch.context, arch.horizon),
    };
    let scratch = tempfile::tempdir().map_err(|e| HarnessError::io("cannot create", out, e))?;
    let curves_of = |scorer: &Scorer, action_dim: usize, label: &str| -> Result<Curves> {
        let dir = scratch.path().join(label);
        score_suite(
            scorer,
            suite,
            Movies::All,
            action_dim,
            request.stride,
            &dir,
            request.device,
            &|| {},
        )?;
        read_suite_curves(&dir, suite)
    };
    let model = match &request.source {
        Source::Submitted(c) => c.clone(),
        Source::Model(m) => curves_of(&Scorer::Model(*m), m.config().action_dim, "model")?,
    };
    // Each scorer's curves; the untrained control is an ensemble of UNTRAINED networks (one
    // network leans one way or the other on some cells by itself).
    let mut scorers: Vec<(String, Vec<Curves>)> = vec![(request.name.to_owned(), vec![model])];
    let mut networks = Vec::new();
    for k in 0..UNTRAINED {
        let seed = request.seed + k;
        let untrained = build(
            &TrainConfig {
                seed,
                ..TrainConfig::new("untrained", "small", 0)
            },
            &Clips {
                masks: Vec::new(),
                frames: Vec::new(),
                actions: Vec::new(),
                episodes: 0,
                length: 0,
                size: suite.meta.size,
                action_dim: 0,
            },
            request.device,
        )?;
        let label = format!("untrained-{seed}");
        networks.push(curves_of(&Scorer::Model(&*untrained.model), 0, &label)?);
    }
    scorers.push(("untrained".into(), networks));
    for spec in CONTROLS {
        let scorer = Scorer::Control {
            spec,
            context,
            horizon,
        };
        scorers.push((spec.name.into(), vec![curves_of(&scorer, 0, spec.name)?]));
    }
    let decidable_max = request.window.saturating_sub(2);
    let mut rows = Vec::new();
    let mut means = Vec::new();
    for (name, per_seed) in &scorers {
        let scores: Vec<_> = per_seed
            .iter()
            .map(|c| report::movie_scores(suite, c))
            .collect();
        rows.extend(report::voe_rows_seeds(
            name,
            &scores,
            decidable_max,
            request.bootstrap,
            request.seed,
        ));
        means.push((name.clone(), movie_means(&scores[0])));
    }
    let warnings = match request.source {
        Source::Submitted(_) => frame_checks(&means),
        Source::Model(_) => Vec::new(),
    };
    std::fs::create_dir_all(out).map_err(|e| HarnessError::io("cannot create", out, e))?;
    write_csv(
        &out.join("voe.csv"),
        &VOE_HEADER,
        &voe_records(request.name, &rows),
    )?;
    crate::plots::relative_accuracy(&out.join("relative_accuracy.png"), &rows)?;
    write_text(&out.join("summary.md"), &summary(request, &rows, &warnings))?;
    Ok((rows, warnings))
}

fn invalid(what: &str, value: usize, e: impl std::fmt::Display) -> HarnessError {
    HarnessError::Invalid {
        what: what.into(),
        value: value.to_string(),
        expected: e.to_string(),
    }
}

/// Per (property, set), the mean-aggregated score of each member, in member order.
type SetMeans = BTreeMap<(String, u64), Vec<f64>>;

fn movie_means(
    scores: &BTreeMap<
        moravec_sim::voe::Property,
        Vec<(moravec_sim::voe::SetRow, report::MovieScore)>,
    >,
) -> SetMeans {
    let mut out: SetMeans = BTreeMap::new();
    for (property, movies) in scores {
        let mut sorted: Vec<_> = movies.iter().collect();
        sorted.sort_by_key(|(row, _)| (row.set_id, row.member));
        for (row, s) in sorted {
            out.entry((property.to_string(), row.set_id))
                .or_default()
                .push(s.score(Aggregation::Mean));
        }
    }
    out
}

/// The checks that submitted scores depend on the frames: warnings when most sets have one
/// score for all their movies, or when the scores follow a physics-blind control.
pub fn frame_checks(means: &[(String, SetMeans)]) -> Vec<String> {
    let Some((name, model)) = means.first() else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    let constant = model
        .values()
        .filter(|v| v.windows(2).all(|w| w[0] == w[1]))
        .count();
    let share = constant as f64 / model.len().max(1) as f64;
    if share > CONSTANT_SETS {
        warnings.push(format!(
            "{name}'s scores are the same for every movie of {constant} of {} sets ({:.0}%): \
             they do not depend on what the movies show",
            model.len(),
            100.0 * share
        ));
    }
    let flat = |m: &SetMeans| m.values().flatten().copied().collect::<Vec<f64>>();
    let x = flat(model);
    for (control, scores) in means
        .iter()
        .filter(|(n, _)| FOLLOWED_CONTROLS.contains(&n.as_str()))
    {
        let r = correlation(&x, &flat(scores));
        if r.abs() > CONTROL_CORRELATION {
            warnings.push(format!(
                "{name}'s scores correlate with the `{control}` control's (r = {r:.3}) over the \
                 suite's movies: they may measure what that control measures, not physics"
            ));
        }
    }
    warnings
}

/// Pearson's correlation (0 when either side is constant).
fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// The summary: what was scored, the warnings, then the run summary's VoE sections.
fn summary(request: &Request, rows: &[VoeRow], warnings: &[String]) -> String {
    let suite = request.suite;
    let mut s = String::new();
    let _ = writeln!(s, "# `{}` scored on a Moravec suite\n", request.name);
    let _ = writeln!(
        s,
        "Suite `{}` ({}): seed {}, {} sets per property and condition, {} frames at {}x{}. \
         Sets hidden for at most {} frames are `decidable` (windows of {} frames). Beside the \
         model: the untrained control ({} networks from seed {}: mean, interval over networks and sets) and the frame controls, windows every {} \
         frame(s); bootstrap of {} resamples.\n",
        suite.dir.display(),
        crate::submission::suite_id(suite),
        suite.meta.seed,
        suite.meta.sets_per_cell,
        suite.meta.frames,
        suite.meta.size,
        suite.meta.size,
        request.window.saturating_sub(2),
        request.window,
        UNTRAINED,
        request.seed,
        request.stride,
        request.bootstrap
    );
    if !warnings.is_empty() {
        let _ = writeln!(s, "## Do the scores depend on the frames?\n");
        for w in warnings {
            let _ = writeln!(s, "- **WARNING**: {w}");
        }
        let _ = writeln!(s);
    }
    crate::summary::voe_sections(&mut s, rows);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(values: &[&[f64]]) -> SetMeans {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (("permanence".to_owned(), i as u64), v.to_vec()))
            .collect()
    }

    #[test]
    fn scores_constant_within_sets_or_following_a_control_are_flagged() {
        let varied = sets(&[&[1.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 4.0, 3.0]]);
        let constant = sets(&[&[5.0; 4], &[6.0; 4]]);
        let control = sets(&[&[1.1, 2.0, 2.9, 4.2], &[2.0, 1.2, 4.0, 2.8]]);
        let other = sets(&[&[4.0, 1.0, 1.0, 3.0], &[1.0, 4.0, 2.0, 2.0]]);
        let clean = frame_checks(&[
            ("m".into(), varied.clone()),
            ("frame-diff".into(), other.clone()),
        ]);
        assert!(clean.is_empty(), "{clean:?}");
        let flat = frame_checks(&[("m".into(), constant), ("frame-diff".into(), other)]);
        assert_eq!(flat.len(), 1, "{flat:?}");
        assert!(flat[0].contains("2 of 2 sets"), "{flat:?}");
        let follows = frame_checks(&[("m".into(), varied), ("frame-diff".into(), control)]);
        assert_eq!(follows.len(), 1, "{follows:?}");
        assert!(follows[0].contains("`frame-diff`"), "{follows:?}");
    }
}
