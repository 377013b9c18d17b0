//! `bench plan`: a model (or the oracle, or random actions) with a planner on a task's episodes;
//! one row appended to a CSV, optionally a row per episode, a GIF of the first episode beside its
//! goal, or a GIF of every episode (to see how each one failed).

use anyhow::{Context, bail};
use moravec_agents::train::load_checkpoint;
use moravec_bench::planning::{Actor, PlanConfig, episode_gif, needs_gradients, run_cell};
use moravec_bench::results::{EPISODES_HEADER, PLANNING_HEADER};
use moravec_sim::Raster;

use crate::cli::{PlanArgs, ScoredSteps};
use moravec_bench::device::device;
use moravec_bench::files::append_csv;
use moravec_bench::progress::with_progress;

/// Runs `bench plan`.
pub fn run(args: &PlanArgs) -> anyhow::Result<()> {
    let task = moravec_sim::task::find(&args.task)?;
    let device = device(args.device.as_str())?;
    let config = PlanConfig {
        tasks: vec![task.name.to_owned()],
        models: Vec::new(),
        planners: if args.model == "random" {
            Vec::new()
        } else {
            vec![args.planner.clone()]
        },
        episodes: args.episodes,
        budget: args.budget,
        distance: args.distance,
        all_steps: args.score == ScoredSteps::All,
        horizon: args.horizon,
        replan_every: args.replan_every,
    };
    config.validate()?;
    let built;
    let mut label = args.model.clone();
    let raster = |size: usize| Raster::new(size, args.samples);
    let (actor, size, planner) = match (args.model.as_str(), &args.checkpoint) {
        ("random", _) => (Actor::Random, args.size, "none"),
        ("oracle" | "image-oracle", _) if needs_gradients(&args.planner) => {
            bail!(
                "--planner {}: the simulator oracle has no gradients; use cem, cem-vjepa2, cem-smooth or mppi",
                args.planner
            )
        }
        ("oracle", _) => (Actor::Oracle, args.size, args.planner.as_str()),
        ("image-oracle", None) => (Actor::ImageOracle(None), args.size, args.planner.as_str()),
        // The checkpoint's encoder with a perfect predictor: the simulator's frames scored in
        // the model's own space.
        ("image-oracle", Some(path)) => {
            built = load_checkpoint(path, &device)
                .with_context(|| format!("cannot load --checkpoint {}", path.display()))?;
            label = format!("image-oracle[{}]", built.model.name());
            (
                Actor::ImageOracle(Some(&*built.model)),
                built.config.size,
                args.planner.as_str(),
            )
        }
        (name, Some(path)) => {
            built = load_checkpoint(path, &device)
                .with_context(|| format!("cannot load --checkpoint {}", path.display()))?;
            if built.model.name() != name {
                bail!(
                    "--model {name} but {} holds a {} checkpoint",
                    path.display(),
                    built.model.name()
                );
            }
            (
                Actor::Model(&*built.model),
                built.config.size,
                args.planner.as_str(),
            )
        }
        (name, None) => {
            bail!(
                "--model {name} needs --checkpoint (only oracle, image-oracle and random plan without one)"
            )
        }
    };
    if let Some(dir) = &args.gif_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create --gif-dir {}", dir.display()))?;
    }
    let label_line = format!("plan {label} {}", task.name);
    let (row, _) = with_progress(args.episodes, label_line, |bar| {
        run_cell(
            task,
            &actor,
            &label,
            planner,
            &config,
            args.seed,
            raster(size)?,
            args.nuisance,
            &device,
            &mut |i, ep| {
                bar.inc(1);
                let gifs = [
                    args.gif.clone().filter(|_| i == 0),
                    args.gif_dir
                        .as_ref()
                        .map(|d| d.join(format!("{}-episode-{i}.gif", task.name))),
                ];
                for path in gifs.into_iter().flatten() {
                    let goal = task
                        .episode_at(args.seed, i, raster(size)?, args.nuisance)?
                        .goal()
                        .clone();
                    episode_gif(&path, &ep.frames, &goal, 4)?;
                }
                Ok(())
            },
        )
    })?;
    append_csv(&args.csv, &PLANNING_HEADER, &[row.record(&args.run)])?;
    if let Some(path) = &args.episodes_csv {
        append_csv(
            path,
            &EPISODES_HEADER,
            &row.episode_records(&args.run, args.seed),
        )?;
    }
    println!(
        "{} {} on {}: {}/{} successes ({:.0}% [{:.0}, {:.0}]; the object alone {:.0}%, the goal ever held {:.0}%), final distance {:.3} m, {:.1} ms per action",
        row.model,
        row.planner,
        row.task,
        row.successes,
        row.episodes,
        100.0 * row.success_rate,
        100.0 * row.ci_low,
        100.0 * row.ci_high,
        100.0 * row.object_success_rate,
        100.0 * row.ever_reached_rate,
        row.final_distance,
        row.plan_ms_per_action
    );
    Ok(())
}
