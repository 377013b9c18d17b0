//! The planning stages: on every task of the run, every trained model with each planner, then
//! the oracles and random actions; one cached cell each, holding its row and a GIF of its first
//! episode beside the goal.

use std::ops::Range;
use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::Serialize;

use crate::config::RunConfig;
use crate::device::device_key;
use crate::error::Result;
use crate::files::{read_json, write_text};
use crate::planning::{Actor, PlanConfig, PlanRow, episode_gif, needs_gradients, run_episodes};
use crate::planning_sliced::{merge_plan_slices, plan_slice};
use crate::progress::with_progress;
use crate::stages::cache::{CachedStage, StageKind};
use crate::stages::runner::{Part, Runner};
use crate::stages::train::{Models, Trained};

/// A planning cell's cache key.
#[derive(Serialize)]
struct PlanKey<'a> {
    task: &'a str,
    /// The task's revision: results of an older definition of it are not reused.
    task_revision: u32,
    actor: &'a str,
    trained: Option<&'a str>,
    planner: &'a str,
    plan: &'a PlanConfig,
    seed: u64,
    size: usize,
    /// Where the model ran, if not on the CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
    /// The nuisance level of the task's frames, when not 0 (whose keys predate nuisance).
    #[serde(skip_serializing_if = "Option::is_none")]
    nuisance: Option<u8>,
}

/// What the planning stages made.
#[derive(Clone, Debug, Default)]
pub struct Plans {
    /// Every cell's row, in order.
    pub rows: Vec<PlanRow>,
    /// Per task, the GIF of its first model cell.
    pub gifs: Vec<(String, PathBuf)>,
}

/// One planning cell: who acts (a trained model, an oracle or random actions) with which planner.
struct Cell<'t> {
    actor: String,
    planner: String,
    trained: Option<&'t Trained>,
}

/// The cells of one task: the models (when their actions fit the task), then the oracles with
/// every planner that needs no gradients, then random actions.
fn cells<'t>(
    config: &RunConfig,
    trained: &'t [Trained],
    action_dim: usize,
    task: &moravec_sim::task::TaskSpec,
) -> Vec<Cell<'t>> {
    let mut cells = Vec::new();
    if action_dim == task.scene.action_dim {
        // Planning uses each model of the first training seed.
        let first = config.train_seeds()[0];
        for t in trained.iter().filter(|t| t.seed == first) {
            if !config.plan.models.is_empty() && !config.plan.models.contains(&t.name) {
                continue;
            }
            if let Some(input) = moravec_agents::models::find(&t.name)
                .ok()
                .and_then(|m| m.privileged)
            {
                eprintln!(
                    "plan {}: {} is given {input}, which the planners do not give; it does not plan",
                    task.name, t.name
                );
                continue;
            }
            for planner in &config.plan.planners {
                cells.push(Cell {
                    actor: t.name.clone(),
                    planner: planner.clone(),
                    trained: Some(t),
                });
            }
        }
    } else {
        eprintln!(
            "plan {}: the models take {action_dim} action entries, the task {}; only the oracle and random actions plan",
            task.name, task.scene.action_dim
        );
    }
    for planner in config.plan.planners.iter().filter(|p| !needs_gradients(p)) {
        for oracle in ["oracle", "image-oracle"] {
            cells.push(Cell {
                actor: oracle.into(),
                planner: planner.clone(),
                trained: None,
            });
        }
    }
    cells.push(Cell {
        actor: "random".into(),
        planner: "none".into(),
        trained: None,
    });
    cells
}

/// The stage of `cell` on `task`.
fn plan_stage(
    work: &Path,
    config: &RunConfig,
    task: &moravec_sim::task::TaskSpec,
    cell: &Cell,
    device: &Device,
) -> CachedStage {
    let key = PlanKey {
        task: task.name,
        task_revision: task.revision,
        actor: &cell.actor,
        trained: cell.trained.map(|t| t.stage.hash.as_str()),
        planner: &cell.planner,
        plan: &config.plan,
        seed: config.seed,
        size: config.size,
        device: cell.trained.and(device_key(device)),
        nuisance: config.nuisance_level().key(),
    };
    let label = format!("{}-{}-{}", task.name, cell.actor, cell.planner);
    CachedStage::new(work, StageKind::Plan, &label, &key)
}

/// Every planning stage of the run, in order, with the episodes each plans: what [`run`]
/// makes and `bench run --plan-only` lists.
pub(crate) fn planned(
    work: &Path,
    config: &RunConfig,
    trained: &[Trained],
    action_dim: usize,
    device: &Device,
) -> Result<Vec<CachedStage>> {
    let mut out = Vec::new();
    for task_name in &config.plan.tasks {
        let task = moravec_sim::task::find(task_name)?;
        for cell in cells(config, trained, action_dim, task) {
            out.push(plan_stage(work, config, task, &cell, device));
        }
    }
    Ok(out)
}

/// Plans (or reuses) every cell of every task of the run.
pub fn run(
    runner: &mut Runner,
    work: &Path,
    config: &RunConfig,
    trained: &[Trained],
    models: &mut Models,
    action_dim: usize,
    device: &Device,
) -> Result<Plans> {
    let mut plans = Plans::default();
    for task_name in &config.plan.tasks {
        let task = moravec_sim::task::find(task_name)?;
        for cell in cells(config, trained, action_dim, task) {
            let stage = plan_stage(work, config, task, &cell, device);
            let done = runner.stage_sharded(&stage, |stage, part| {
                let gif = stage.dir.join("episode.gif");
                let episodes = config.plan.episodes;
                // Called once, by a whole cell or a shard; a merge reads verdicts only and
                // loads no model.
                let mut plan = |range: Range<u64>| {
                    let actor = match (cell.trained, cell.actor.as_str()) {
                        (Some(t), _) => Actor::Model(models.get(&t.label)?),
                        (None, "oracle") => Actor::Oracle,
                        (None, "image-oracle") => Actor::ImageOracle(None),
                        (None, _) => Actor::Random,
                    };
                    let what = match part {
                        Part::Shard(slice) => format!("plan {} shard {slice}", stage.label),
                        _ => format!("plan {}", stage.label),
                    };
                    let (rows, _) = with_progress(range.end - range.start, what, |bar| {
                        run_episodes(
                            task,
                            &actor,
                            &cell.planner,
                            &config.plan,
                            config.seed,
                            config.size,
                            config.nuisance_level(),
                            device,
                            range.clone(),
                            &mut |i, ep| {
                                bar.inc(1);
                                if i == 0 {
                                    let goal = task
                                        .episode_at(
                                            config.seed,
                                            0,
                                            config.size,
                                            config.nuisance_level(),
                                        )?
                                        .goal()
                                        .clone();
                                    episode_gif(&gif, &ep.frames, &goal, 4)?;
                                }
                                Ok(())
                            },
                        )
                    })?;
                    Ok(rows)
                };
                let who = (cell.actor.as_str(), cell.planner.as_str(), task.name);
                let row = match part {
                    Part::Whole => {
                        let rows = plan(0..episodes)?;
                        PlanRow::from_episodes(who.0, who.1, who.2, rows)
                    }
                    Part::Shard(slice) => {
                        plan_slice(&stage.dir, episodes, slice, plan)?;
                        return Ok(Vec::new());
                    }
                    Part::Merge(count) => merge_plan_slices(&stage.dir, count, episodes, who)?,
                };
                let json = serde_json::to_string_pretty(&row).expect("row serialises");
                write_text(&stage.dir.join("row.json"), &json)?;
                Ok(vec![("plan_ms_per_action".into(), row.plan_ms_per_action)])
            })?;
            if done.is_none() {
                // A shard: the cell is finished by the merge.
                continue;
            }
            let row: PlanRow = read_json(&stage.dir.join("row.json"))?;
            if cell.trained.is_some() && !plans.gifs.iter().any(|(t, _)| t == task_name) {
                plans
                    .gifs
                    .push((task_name.clone(), stage.dir.join("episode.gif")));
            }
            plans.rows.push(row);
        }
    }
    Ok(plans)
}
