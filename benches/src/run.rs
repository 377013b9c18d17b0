//! `bench run`: from nothing to a results folder. Generate the training data (and held-out
//! episodes for the probes) and the VoE suite, train every model with every training seed,
//! score every model and control on the suite, probe the models' latents for the bodies' state,
//! score and probe the learning curves' earlier checkpoints, plan, then write the tables, plots
//! and summary. Each stage is cached by the hash of its config (see [`crate::stages`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use moravec_sim::voe::Suite;

use crate::config::RunConfig;
use crate::device::{device, device_name};
use crate::error::Result;
use crate::results::meta::{Machine, RunMeta, now_rfc3339};
use crate::results::write::{RunData, write_summary, write_tables};
use crate::stages::probe::ProbeData;
use crate::stages::runner::Sharded;
use crate::stages::score::ScoreInputs;
use crate::stages::train::{Models, action_dim, architecture};
use crate::stages::{Runner, StageKind, curve, data, plan, probe, score, suite, train};
use moravec_sim::results::RESULTS_SCHEMA;

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// What to run.
    pub config: RunConfig,
    /// The results folder (default `results/<run-id>`).
    pub out: Option<PathBuf>,
    /// Where stages are cached.
    pub work: PathBuf,
    /// Stage kinds to redo even if cached.
    pub force: Vec<StageKind>,
    /// Stop (successfully) once every stage of this kind is done, before the next kind.
    pub stop_after: Option<StageKind>,
    /// Make one shard of, or merge, every stage of one kind, then stop (a run spread over
    /// machines sharing `work`; see [`Sharded`]).
    pub sharded: Option<Sharded>,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// The results folder (None when stopped early).
    pub out: Option<PathBuf>,
    /// The kind it stopped after, if asked to.
    pub stopped_after: Option<StageKind>,
    /// The summary table, as Markdown.
    pub summary: String,
}

impl RunOutcome {
    fn stopped(kind: StageKind) -> Self {
        Self {
            out: None,
            stopped_after: Some(kind),
            summary: String::new(),
        }
    }
}

/// What one level's run produced, for a sweep's tables.
pub(crate) struct LevelOutcome {
    /// What [`run`] returns for it.
    pub outcome: RunOutcome,
    /// Its run id.
    pub run_id: String,
    /// Its VoE table.
    pub voe: Vec<crate::report::VoeRow>,
    /// Its probes.
    pub probed: Vec<crate::stages::probe::Probed>,
    /// Its prediction errors.
    pub predicted: Vec<crate::stages::prediction::Predicted>,
    /// Its planning rows.
    pub plans: Vec<crate::planning::PlanRow>,
    /// Its stages' timings (those of its `meta.json`).
    pub stages: Vec<crate::results::meta::StageTiming>,
}

impl LevelOutcome {
    fn stopped(kind: StageKind) -> Self {
        Self {
            outcome: RunOutcome::stopped(kind),
            run_id: String::new(),
            voe: Vec::new(),
            probed: Vec::new(),
            predicted: Vec::new(),
            plans: Vec::new(),
            stages: Vec::new(),
        }
    }
}

/// Runs everything `options` asks for: the run, or with several `nuisance` levels the sweep
/// ([`crate::sweep`]).
pub fn run(options: &RunOptions) -> Result<RunOutcome> {
    options.config.validate()?;
    match options.config.sweep() {
        Some(levels) => crate::sweep::run(options, &levels),
        None => Ok(run_level(options, false)?.outcome),
    }
}

/// Runs one level: every stage of `options.config` (of at most one nuisance level), then its
/// tables. `predict` adds the prediction stages a sweep reports.
pub(crate) fn run_level(options: &RunOptions, predict: bool) -> Result<LevelOutcome> {
    let config = &options.config;
    config.validate()?;
    let started = now_rfc3339();
    let clock = Instant::now();
    let device = device(&config.device)?;
    let work = options.work.as_path();
    let stop =
        |kind| options.stop_after == Some(kind) || options.sharded.map(|s| s.kind()) == Some(kind);
    let mut runner = Runner::new(&options.force);
    if let Some(sharded) = options.sharded {
        sharded.validate()?;
        runner.sharded = Some(sharded);
    }

    let datasets = data::run(&mut runner, work, config)?;
    let held_out = data::held_out(&mut runner, work, config)?;
    if stop(StageKind::Data) {
        return Ok(LevelOutcome::stopped(StageKind::Data));
    }
    let suite_dir = suite::run(&mut runner, work, config)?;
    if stop(StageKind::Voe) {
        return Ok(LevelOutcome::stopped(StageKind::Voe));
    }
    let trained = train::run(&mut runner, work, config, &datasets, &device)?;
    if stop(StageKind::Train) {
        return Ok(LevelOutcome::stopped(StageKind::Train));
    }
    let mut models = Models::new(&trained, &device);
    let suite = Suite::load(&suite_dir.dir)?;
    let action_dim = action_dim(config)?;
    let arch = architecture(config, action_dim)?;
    let inputs = ScoreInputs {
        config,
        suite_dir: &suite_dir,
        suite: &suite,
        arch: &arch,
        action_dim,
        device: &device,
    };
    let scored = score::run(&mut runner, work, &inputs, &trained, &mut models)?;
    let curve_scored = curve::score(&mut runner, work, &inputs, &trained)?;
    if stop(StageKind::Score) {
        return Ok(LevelOutcome::stopped(StageKind::Score));
    }
    let mut probe_data = ProbeData::new(config, &datasets, &held_out);
    let probed = probe::run(
        &mut runner,
        work,
        &mut probe_data,
        &trained,
        &mut models,
        &device,
    )?;
    let curve = curve::probe(
        &mut runner,
        work,
        &mut probe_data,
        &trained,
        curve_scored,
        &device,
    )?;
    drop(probe_data);
    let predicted = if predict {
        crate::stages::prediction::run(&mut runner, work, config, &trained, &held_out, &device)?
    } else {
        Vec::new()
    };
    if stop(StageKind::Probe) {
        return Ok(LevelOutcome::stopped(StageKind::Probe));
    }
    let plans = plan::run(
        &mut runner,
        work,
        config,
        &trained,
        &mut models,
        action_dim,
        &device,
    )?;
    if stop(StageKind::Plan) {
        return Ok(LevelOutcome::stopped(StageKind::Plan));
    }

    let run_id = config.run_id();
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&run_id));
    let tables = write_tables(
        &out,
        &RunData {
            run_id: &run_id,
            config,
            suite: &suite,
            scored: &scored,
            trained: &trained,
            plans: &plans,
            probed: &probed,
            curve: &curve,
            measures: &runner.measures,
            decidable_max: arch.context + arch.horizon - 2,
        },
    )?;
    let meta = RunMeta {
        schema: RESULTS_SCHEMA.into(),
        run: run_id.clone(),
        preset: config.preset.clone(),
        git_revision: crate::files::git_revision(),
        harness: format!("moravec-bench {}", env!("CARGO_PKG_VERSION")),
        machine: Machine::here(),
        device: device_name(&device).into(),
        started,
        finished: now_rfc3339(),
        wall_seconds: clock.elapsed().as_secs_f64(),
        stages: runner.timings,
    };
    let summary = crate::summary::render(
        &meta,
        config,
        &crate::summary::Inputs {
            voe: &tables.voe,
            plans: &plans.rows,
            probed: &probed,
            curve: &tables.curve,
        },
    );
    write_summary(&out, &meta, &summary)?;
    Ok(LevelOutcome {
        outcome: RunOutcome {
            out: Some(out),
            stopped_after: None,
            summary,
        },
        run_id,
        voe: tables.voe,
        probed,
        predicted,
        plans: plans.rows,
        stages: meta.stages,
    })
}

#[cfg(test)]
mod tests {
    use candle_core::Device;
    use moravec_agents::train::TrainConfig;
    use serde::Serialize;

    use crate::device::device_key;
    use crate::stages::CachedStage;
    use crate::stages::train::TrainKey;

    use super::*;

    #[test]
    fn gpu_stages_are_keyed_apart_and_cpu_keys_are_unchanged() {
        #[derive(Serialize)]
        struct Before<'a> {
            train: &'a TrainConfig,
            data: &'a [String],
        }
        let tc = TrainConfig::new("jepa-vicreg", "tiny", 10);
        let data = vec!["abc".to_owned()];
        let key = |device| {
            CachedStage::new(
                Path::new("w"),
                StageKind::Train,
                "m",
                &TrainKey {
                    train: &tc,
                    data: &data,
                    device,
                    revision: 0,
                },
            )
            .hash
        };
        let before = CachedStage::new(
            Path::new("w"),
            StageKind::Train,
            "m",
            &Before {
                train: &tc,
                data: &data,
            },
        )
        .hash;
        assert_eq!(key(device_key(&Device::Cpu)), before);
        assert_ne!(key(Some("cuda")), before);
    }

    #[test]
    fn a_revised_model_trains_again_and_others_keep_their_keys() {
        let data = vec!["abc".to_owned()];
        let hash = |tc: &TrainConfig, revision| {
            let key = TrainKey {
                train: tc,
                data: &data,
                device: None,
                revision,
            };
            CachedStage::new(Path::new("w"), StageKind::Train, "m", &key).hash
        };
        let of = |tc: &TrainConfig| {
            CachedStage::new(
                Path::new("w"),
                StageKind::Train,
                "m",
                &TrainKey::new(tc, &data, &Device::Cpu),
            )
            .hash
        };
        let slot = TrainConfig::new("slot-jepa", "tiny", 10);
        let revision = moravec_agents::models::slot_jepa::REVISION;
        assert!(revision > 0);
        assert_eq!(of(&slot), hash(&slot, revision));
        assert_ne!(of(&slot), hash(&slot, 0));
        let plain = TrainConfig::new("jepa-vicreg", "tiny", 10);
        assert_eq!(of(&plain), hash(&plain, 0));
    }
}
