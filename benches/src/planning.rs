//! Planning in the harness: run a model (or the oracle, or random actions) with a planner on a
//! task's episodes, and summarise success with a Wilson interval; one GIF per cell shows the
//! first episode beside its goal image; every episode's verdict is kept.

use std::path::Path;

use candle_core::Device;
use moravec_agents::models::WorldModel;
use moravec_agents::planning::{
    Agent, Cem, CemConfig, Distance, EpisodeResult, GradientConfig, GradientDescent, ImageOracle,
    ModelController, Mppi, MppiConfig, Oracle, Planner, RandomController, Receding, Refined,
    run_episode,
};
use moravec_sim::Raster;
use moravec_sim::render::Frame;
use moravec_sim::task::TaskSpec;
use serde::{Deserialize, Serialize};

use crate::error::{HarnessError, Result};
use crate::files::num;

/// Planner names.
pub const PLANNERS: [&str; 6] = [
    "cem",
    "cem-vjepa2",
    "cem-smooth",
    "mppi",
    "gradient",
    "cem-gradient",
];

/// Whether planner `name` follows the objective's gradient, which the simulator oracles lack.
pub fn needs_gradients(name: &str) -> bool {
    matches!(name, "gradient" | "cem-gradient")
}

/// Planning settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    /// Tasks (see `moravec_sim::task::TASKS`).
    pub tasks: Vec<String>,
    /// Trained models that plan (empty: every one); the oracle and random actions always do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Planners: cem (DINO-WM's 300 x 30), cem-vjepa2 (800 x 10), cem-smooth, mppi, gradient,
    /// cem-gradient (CEM, then gradient descent from its plan).
    pub planners: Vec<String>,
    /// Episodes per task, model and planner.
    pub episodes: u64,
    /// Scale of the sampling budgets: samples and iterations are multiplied by it (1 = the
    /// published defaults; smaller presets plan with less).
    pub budget: f64,
    /// Distance in the model's space.
    pub distance: Distance,
    /// Score every predicted step, not only the last.
    pub all_steps: bool,
    /// Steps planned ahead, when not each task's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon: Option<usize>,
    /// Actions executed from each plan before the next one (absent: 1, replanning after every
    /// action; DINO-WM's MPC executes its whole 5-step plan). At most the horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replan_every: Option<usize>,
}

impl PlanConfig {
    /// Checks names and ranges.
    pub fn validate(&self) -> Result<()> {
        for t in &self.tasks {
            moravec_sim::task::find(t).map_err(|e| HarnessError::Invalid {
                what: "plan.tasks".into(),
                value: t.clone(),
                expected: e.to_string(),
            })?;
        }
        for p in &self.planners {
            if !PLANNERS.contains(&p.as_str()) {
                return Err(HarnessError::Invalid {
                    what: "plan.planners".into(),
                    value: p.clone(),
                    expected: format!("planner names among {}", PLANNERS.join(", ")),
                });
            }
        }
        if self.episodes > 1000 {
            return Err(HarnessError::Invalid {
                what: "plan.episodes".into(),
                value: self.episodes.to_string(),
                expected: "0 to 1000".into(),
            });
        }
        if let Some(h) = self.horizon.filter(|h| !(1..=200).contains(h)) {
            return Err(HarnessError::Invalid {
                what: "plan.horizon".into(),
                value: h.to_string(),
                expected: "1 to 200 steps".into(),
            });
        }
        if let Some(k) = self.replan_every {
            for t in &self.tasks {
                let horizon = self
                    .horizon
                    .or_else(|| moravec_sim::task::find(t).ok().map(|t| t.horizon))
                    .unwrap_or(1);
                if !(1..=horizon).contains(&k) {
                    return Err(HarnessError::Invalid {
                        what: "plan.replan_every".into(),
                        value: k.to_string(),
                        expected: format!("1 to the horizon of {t} ({horizon} steps)"),
                    });
                }
            }
        }
        if self.budget.is_nan() || self.budget <= 0.0 || self.budget > 10.0 {
            return Err(HarnessError::Invalid {
                what: "plan.budget".into(),
                value: self.budget.to_string(),
                expected: "in (0, 10]".into(),
            });
        }
        Ok(())
    }

    /// The planner `name` with this config's budget, seeded.
    pub fn planner(&self, name: &str, seed: u64) -> Result<Planner> {
        let scale = |n: usize, min: usize| ((n as f64 * self.budget).round() as usize).max(min);
        let cem = |base: CemConfig| -> Result<Cem> {
            let samples = scale(base.samples, 8);
            let elites = (base.elites * samples / base.samples).clamp(2, samples);
            Ok(Cem::new(CemConfig {
                samples,
                iterations: scale(base.iterations, 2),
                elites,
                seed,
                ..base
            })?)
        };
        let gradient = |base: GradientConfig| -> Result<GradientDescent> {
            Ok(GradientDescent::new(GradientConfig {
                steps: scale(base.steps, 5),
                seed,
                ..base
            })?)
        };
        match name {
            "cem" => Ok(Planner::Cem(cem(CemConfig::dino_wm())?)),
            "cem-vjepa2" => Ok(Planner::Cem(cem(CemConfig::vjepa2_ac())?)),
            "cem-smooth" => Ok(Planner::Cem(cem(CemConfig {
                correlation: 0.9,
                ..CemConfig::dino_wm()
            })?)),
            "mppi" => {
                let base = MppiConfig::default();
                Ok(Planner::Mppi(Mppi::new(MppiConfig {
                    samples: scale(base.samples, 8),
                    iterations: scale(base.iterations, 2),
                    seed,
                    ..base
                })?))
            }
            "gradient" => Ok(Planner::Gradient(gradient(GradientConfig::default())?)),
            "cem-gradient" => Ok(Planner::Refined(Refined {
                cem: cem(CemConfig::dino_wm())?,
                gradient: gradient(GradientConfig::refine())?,
            })),
            other => Err(HarnessError::Invalid {
                what: "planner".into(),
                value: other.into(),
                expected: format!("one of {}", PLANNERS.join(", ")),
            }),
        }
    }
}

/// Who acts in a planning cell.
pub enum Actor<'a> {
    /// A world model with a planner.
    Model(&'a dyn WorldModel),
    /// The simulator as the model, costing the true distance to the goal.
    Oracle,
    /// The simulator as a perfect video predictor, costing the distance to the goal image in
    /// pixels, or in a model's target space (that model with a perfect predictor).
    ImageOracle(Option<&'a dyn WorldModel>),
    /// Uniformly random actions.
    Random,
}

/// One row of `planning.csv` (without the run column).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanRow {
    /// Model, `oracle`, `image-oracle` or `random`.
    pub model: String,
    /// Planner (`none` for random actions).
    pub planner: String,
    /// Task.
    pub task: String,
    /// Episodes run.
    pub episodes: u64,
    /// Successful episodes.
    pub successes: u64,
    /// Share of successes.
    pub success_rate: f64,
    /// Wilson 95% interval.
    pub ci_low: f64,
    /// Wilson 95% interval.
    pub ci_high: f64,
    /// Share of episodes whose pushed object(s) alone ended within tolerance (the verdict that
    /// ignores the pusher).
    #[serde(default = "nan")]
    pub object_success_rate: f64,
    /// Share of episodes whose goal held after some step (DINO-WM's sticky success).
    #[serde(default = "nan")]
    pub ever_reached_rate: f64,
    /// Mean distance to the goal at the end (the task's own distance, metres).
    pub final_distance: f64,
    /// Mean share of objects cleared (table_clear only).
    pub cleared: Option<f64>,
    /// Mean milliseconds spent choosing one action.
    pub plan_ms_per_action: f64,
    /// Each episode's verdict, in order (empty in cells cached before episodes were kept).
    #[serde(default)]
    pub per_episode: Vec<EpisodeRow>,
}

/// How one planning episode went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRow {
    /// Its index among the task's episodes for the seed.
    pub episode: u64,
    /// Whether the task was achieved (every body the goal image shows, at the end).
    pub success: bool,
    /// Whether the pushed object(s) alone were, at the end.
    #[serde(default)]
    pub object_success: bool,
    /// Whether the goal held after some step.
    #[serde(default)]
    pub ever_reached: bool,
    /// The task's distance to its goal at the end, metres.
    pub final_distance: f64,
    /// The share of objects cleared (table_clear only).
    pub cleared: Option<f64>,
    /// Milliseconds spent choosing one action.
    pub plan_ms_per_action: f64,
}

impl PlanRow {
    /// The CSV record.
    pub fn record(&self, run: &str) -> Vec<String> {
        vec![
            run.to_owned(),
            self.model.clone(),
            self.planner.clone(),
            self.task.clone(),
            self.episodes.to_string(),
            self.successes.to_string(),
            num(self.success_rate),
            num(self.ci_low),
            num(self.ci_high),
            num(self.object_success_rate),
            num(self.ever_reached_rate),
            num(self.final_distance),
            self.cleared.map_or_else(|| "NaN".into(), num),
            num(self.plan_ms_per_action),
        ]
    }

    /// The records of its episodes ([`moravec_sim::results::EPISODES_HEADER`]), for episodes of
    /// `seed`.
    pub fn episode_records(&self, run: &str, seed: u64) -> Vec<Vec<String>> {
        self.per_episode
            .iter()
            .map(|e| {
                vec![
                    run.to_owned(),
                    self.model.clone(),
                    self.planner.clone(),
                    self.task.clone(),
                    seed.to_string(),
                    e.episode.to_string(),
                    e.success.to_string(),
                    e.object_success.to_string(),
                    e.ever_reached.to_string(),
                    num(e.final_distance),
                    e.cleared.map_or_else(|| "NaN".into(), num),
                    num(e.plan_ms_per_action),
                ]
            })
            .collect()
    }
}

/// Not a number: a rate of a cell cached before it was counted.
fn nan() -> f64 {
    f64::NAN
}

/// The Wilson score interval (95%) of `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    // At the extremes the bound is exactly 0 or 1 (the formula leaves rounding dust).
    let lo = if k == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if k == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
}

/// Runs `episodes` episodes of `task` and summarises them, each episode's verdict included.
/// `on_episode` sees each episode (its index and how it went, frames included) as it ends: for
/// GIFs and progress.
#[allow(clippy::too_many_arguments)]
pub fn run_cell(
    task: &'static TaskSpec,
    actor: &Actor,
    model_name: &str,
    planner_name: &str,
    config: &PlanConfig,
    seed: u64,
    raster: impl Into<Raster>,
    nuisance: moravec_sim::Nuisance,
    device: &Device,
    on_episode: &mut dyn FnMut(u64, &EpisodeResult) -> Result<()>,
) -> Result<PlanRow> {
    let episodes = run_episodes(
        task,
        actor,
        planner_name,
        config,
        seed,
        raster,
        nuisance,
        device,
        0..config.episodes,
        on_episode,
    )?;
    Ok(PlanRow::from_episodes(
        model_name,
        planner_name,
        task.name,
        episodes,
    ))
}

/// Runs episodes `range` of `task` (a planning shard takes a run of them); returns their
/// verdicts in order. An episode depends on the seed and its index alone, so where the range is
/// cut does not show in its verdict.
#[allow(clippy::too_many_arguments)]
pub fn run_episodes(
    task: &'static TaskSpec,
    actor: &Actor,
    planner_name: &str,
    config: &PlanConfig,
    seed: u64,
    raster: impl Into<Raster>,
    nuisance: moravec_sim::Nuisance,
    device: &Device,
    range: std::ops::Range<u64>,
    on_episode: &mut dyn FnMut(u64, &EpisodeResult) -> Result<()>,
) -> Result<Vec<EpisodeRow>> {
    let raster: Raster = raster.into();
    let mut per_episode = Vec::with_capacity((range.end - range.start) as usize);
    let horizon = config.horizon.unwrap_or(task.horizon);
    let receding = || Receding::new(config.replan_every.unwrap_or(1));
    for i in range {
        let mut episode = task.episode_at(seed, i, raster, nuisance)?;
        let planner = || config.planner(planner_name, seed ^ i);
        // The objective: distance to the goal, over every predicted step or the last.
        let (d, all) = (config.distance, config.all_steps);
        let result = match actor {
            Actor::Random => {
                let mut c = RandomController::new(seed ^ i);
                run_episode(&mut *episode, Agent::Observer(&mut c))?
            }
            Actor::Oracle => {
                let mut o = Oracle::new(planner()?, horizon).with_receding(receding()?);
                run_episode(&mut *episode, Agent::Oracle(&mut o))?
            }
            Actor::ImageOracle(space) => {
                let o = ImageOracle::new(planner()?, horizon, d, all, *space, device.clone());
                run_episode(
                    &mut *episode,
                    Agent::Oracle(&mut o.with_receding(receding()?)),
                )?
            }
            Actor::Model(model) => {
                let c = ModelController::new(*model, planner()?, horizon, d, all, device.clone());
                run_episode(
                    &mut *episode,
                    Agent::Observer(&mut c.with_receding(receding()?)),
                )?
            }
        };
        per_episode.push(EpisodeRow {
            episode: i,
            success: result.judgement.success,
            object_success: result.judgement.object_success,
            ever_reached: result.ever_reached,
            final_distance: f64::from(result.judgement.distance),
            cleared: result.judgement.cleared.map(f64::from),
            plan_ms_per_action: result.seconds_per_action * 1000.0,
        });
        on_episode(i, &result)?;
    }
    Ok(per_episode)
}

impl PlanRow {
    /// The row of a cell whose episodes went as `per_episode` says, in order: counts, rates
    /// with a Wilson interval, means. Whole cells and merged shards both summarise through it,
    /// so they give the same bits.
    pub fn from_episodes(
        model: &str,
        planner: &str,
        task: &str,
        per_episode: Vec<EpisodeRow>,
    ) -> Self {
        let n = per_episode.len() as u64;
        let count = |f: fn(&EpisodeRow) -> bool| per_episode.iter().filter(|e| f(e)).count() as u64;
        let successes = count(|e| e.success);
        let (object_successes, reached) = (count(|e| e.object_success), count(|e| e.ever_reached));
        let mut distance = 0.0;
        let mut cleared: Option<f64> = None;
        let mut ms = 0.0;
        for e in &per_episode {
            distance += e.final_distance;
            if let Some(c) = e.cleared {
                *cleared.get_or_insert(0.0) += c;
            }
            ms += e.plan_ms_per_action;
        }
        let (lo, hi) = wilson(successes, n);
        let per = |x: f64| if n == 0 { f64::NAN } else { x / n as f64 };
        PlanRow {
            model: model.to_owned(),
            planner: planner.to_owned(),
            task: task.to_owned(),
            episodes: n,
            successes,
            success_rate: per(successes as f64),
            ci_low: lo,
            ci_high: hi,
            object_success_rate: per(object_successes as f64),
            ever_reached_rate: per(reached as f64),
            final_distance: per(distance),
            cleared: cleared.map(per),
            plan_ms_per_action: per(ms),
            per_episode,
        }
    }
}

/// An animated GIF of an episode (left) beside its goal image (right), each pixel `scale`
/// times, written atomically.
pub fn episode_gif(path: &Path, frames: &[Frame], goal: &Frame, scale: usize) -> Result<()> {
    let Some(first) = frames.first() else {
        return Ok(());
    };
    let (w, h) = (first.width * scale, first.height * scale);
    let gap = 4;
    let width = 2 * w + gap;
    crate::files::write_gif(path, width, h, frames.len(), &mut |t| {
        let mut canvas = vec![255u8; width * h * 3];
        for (ox, img) in [(0, &frames[t]), (w + gap, goal)] {
            for y in 0..h {
                for x in 0..w {
                    let p = img.pixel(x / scale, y / scale);
                    let o = (y * width + ox + x) * 3;
                    canvas[o..o + 3].copy_from_slice(&p);
                }
            }
        }
        canvas
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_by_hand() {
        // 8 of 10: the textbook interval [0.490, 0.943].
        let (lo, hi) = wilson(8, 10);
        assert!(
            (lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 5);
        assert_eq!(lo.to_bits(), 0.0f64.to_bits());
        assert_eq!(wilson(5, 5).1.to_bits(), 1.0f64.to_bits());
        assert!(hi > 0.4 && hi < 0.45, "{hi}");
        assert!(wilson(0, 0).0.is_nan());
    }
}
