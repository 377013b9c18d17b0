//! `bench run`: from nothing to a results folder. Generate the training data and the VoE suite,
//! train every model, score every model and control on the suite, then write the tables, plots
//! and summary. Each stage is cached by the hash of its config (see [`crate::stage`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::models::ModelConfig;
use moravec_agents::train::{TrainConfig, load, train};
use moravec_sim::Split;
use moravec_sim::dataset::{GenerateConfig, write_dataset};
use moravec_sim::voe::{Property, SuiteConfig, write_suite};
use serde::Serialize;

use crate::config::RunConfig;
use crate::error::{HarnessError, Result};
use crate::output::progress;
use crate::planning::{Actor, PlanRow, needs_gradients};
use crate::report::{self, MovieScore, VoeRow};
use crate::results::{self, Machine, RESULTS_SCHEMA, RunMeta, StageTiming, num, write_csv};
use crate::score::{self, Scorer, Suite};
use crate::stage::{Stage, StageKind, StageRecord};

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

/// The device a config names.
pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Device::new_cuda(0).map_err(|e| HarnessError::Invalid {
            what: "device".into(),
            value: "cuda".into(),
            expected: format!("a CUDA GPU and a build with `--features cuda` ({e})"),
        }),
        "auto" => Ok(Device::cuda_if_available(0).unwrap_or(Device::Cpu)),
        other => Err(HarnessError::Invalid {
            what: "device".into(),
            value: other.into(),
            expected: "cpu, cuda or auto".into(),
        }),
    }
}

/// Runs stages, reusing done ones, and keeps their timings.
struct Runner<'a> {
    force: &'a [StageKind],
    timings: Vec<StageTiming>,
    measures: Vec<(StageKind, String, String, f64, bool)>,
}

impl Runner<'_> {
    /// Runs `work` for `stage` unless it is done.
    fn stage(
        &mut self,
        stage: &Stage,
        work: impl FnOnce(&Stage) -> Result<Vec<(String, f64)>>,
    ) -> Result<StageRecord> {
        if self.force.contains(&stage.kind) {
            stage.clear()?;
        }
        let (record, cached, seconds) = match stage.done()? {
            Some(r) => {
                eprintln!(
                    "{} {}: done before, reused",
                    stage.kind.as_str(),
                    stage.label
                );
                (r, true, 0.0)
            }
            None => {
                let t = Instant::now();
                let measures = work(stage)?;
                let secs = t.elapsed().as_secs_f64();
                eprintln!("{} {}: {secs:.1} s", stage.kind.as_str(), stage.label);
                (stage.finish(secs, measures)?, false, secs)
            }
        };
        for (name, value) in &record.measures {
            self.measures.push((
                stage.kind,
                stage.label.clone(),
                name.clone(),
                *value,
                cached,
            ));
        }
        self.timings.push(StageTiming {
            kind: stage.kind.as_str().to_owned(),
            label: stage.label.clone(),
            hash: stage.hash.clone(),
            cached,
            seconds,
            original_seconds: record.seconds,
        });
        Ok(record)
    }
}

/// The data stage's config.
#[derive(Serialize)]
struct DataStage<'a> {
    scene: &'a str,
    episodes: u64,
    frames: usize,
    seed: u64,
    size: usize,
}

/// The VoE stage's config.
#[derive(Serialize)]
struct VoeStage {
    seed: u64,
    sets: u64,
    frames: usize,
    size: usize,
}

/// A training stage's config: the model's, and the datasets it reads.
#[derive(Serialize)]
struct TrainStage<'a> {
    train: &'a TrainConfig,
    data: &'a [String],
    /// Where it ran, if not on the CPU: a GPU run must not reuse CPU checkpoints (nor the
    /// reverse), and CPU stages keep the keys they had before devices were keyed.
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
}

/// A planning stage's config.
#[derive(Serialize)]
struct PlanStage<'a> {
    task: &'a str,
    /// The task's revision: results of an older definition of it are not reused.
    task_revision: u32,
    actor: &'a str,
    trained: Option<&'a str>,
    planner: &'a str,
    plan: &'a crate::planning::PlanConfig,
    seed: u64,
    size: usize,
    /// Where the model ran, if not on the CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
}

/// A scoring stage's config.
#[derive(Serialize)]
struct ScoreStage<'a> {
    scorer: &'a str,
    trained: Option<&'a str>,
    voe: &'a str,
    stride: usize,
    context: usize,
    horizon: usize,
    /// Where the model ran, if not on the CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
}

/// A device as stage keys name it: `None` for the CPU (whose keys predate devices in keys).
fn device_key(device: &Device) -> Option<&'static str> {
    if device.is_cpu() { None } else { Some("cuda") }
}

/// Runs everything `options` asks for.
pub fn run(options: &RunOptions) -> Result<RunOutcome> {
    let config = &options.config;
    config.validate()?;
    let started = results::now_rfc3339();
    let clock = Instant::now();
    let device = device(&config.device)?;
    let work = &options.work;
    let mut runner = Runner {
        force: &options.force,
        timings: Vec::new(),
        measures: Vec::new(),
    };
    let stop = |kind: StageKind| options.stop_after == Some(kind);
    let stopped = |kind: StageKind| RunOutcome {
        out: None,
        stopped_after: Some(kind),
        summary: String::new(),
    };

    // Training data.
    let mut data_dirs = Vec::new();
    let mut data_hashes = Vec::new();
    for scene in &config.data.scenes {
        let gen_config = GenerateConfig {
            scene: scene.clone(),
            split: Split::Train,
            episodes: config.data.episodes,
            frames: config.data.frames,
            seed: config.seed,
            size: config.size,
            samples: 1,
            shard_episodes: None,
        };
        let stage = Stage::new(
            work,
            StageKind::Data,
            scene,
            &DataStage {
                scene,
                episodes: gen_config.episodes,
                frames: gen_config.frames,
                seed: gen_config.seed,
                size: gen_config.size,
            },
        );
        let dir = stage.dir.join("dataset");
        runner.stage(&stage, |_| {
            let bar = progress(gen_config.episodes, format!("data {scene}"));
            let t = Instant::now();
            write_dataset(&gen_config, &dir, true, &|| bar.inc(1))?;
            bar.finish_and_clear();
            let frames = (gen_config.episodes as usize * gen_config.frames) as f64;
            Ok(vec![(
                "frames_per_s".into(),
                frames / t.elapsed().as_secs_f64().max(1e-9),
            )])
        })?;
        data_dirs.push(dir);
        data_hashes.push(stage.hash.clone());
    }
    if stop(StageKind::Data) {
        return Ok(stopped(StageKind::Data));
    }

    // The VoE suite.
    let suite_config = SuiteConfig {
        seed: config.seed,
        sets: config.voe.sets,
        frames: config.voe.frames,
        size: config.size,
    };
    let voe_stage = Stage::new(
        work,
        StageKind::Voe,
        "suite",
        &VoeStage {
            seed: suite_config.seed,
            sets: suite_config.sets,
            frames: suite_config.frames,
            size: suite_config.size,
        },
    );
    let suite_dir = voe_stage.dir.join("suite");
    runner.stage(&voe_stage, |_| {
        let bar = progress(suite_config.total_sets(), "voe suite");
        let t = Instant::now();
        write_suite(&suite_config, &suite_dir, true, &|| bar.inc(1))?;
        bar.finish_and_clear();
        Ok(vec![(
            "sets_per_s".into(),
            suite_config.total_sets() as f64 / t.elapsed().as_secs_f64().max(1e-9),
        )])
    })?;
    if stop(StageKind::Voe) {
        return Ok(stopped(StageKind::Voe));
    }

    // Training: the pooled datasets are read only if some model still has to train.
    let mut pooled: Option<Clips> = None;
    let mut pool = |dirs: &[PathBuf]| -> Result<Clips> {
        if pooled.is_none() {
            let parts = dirs
                .iter()
                .map(|d| Clips::load(d))
                .collect::<moravec_agents::Result<Vec<_>>>()?;
            pooled = Some(Clips::concat(&parts)?);
        }
        Ok(pooled.clone().expect("just loaded"))
    };
    let action_dim = config
        .data
        .scenes
        .iter()
        .map(|s| moravec_sim::scene::find(s).map(|s| s.action_dim))
        .collect::<moravec_sim::Result<Vec<_>>>()?
        .into_iter()
        .max()
        .unwrap_or(0);
    let mut arch = ModelConfig::preset(&config.train.arch, config.size, action_dim)?;
    if let Some(context) = config.train.context {
        arch.context = context;
    }
    let mut trained = Vec::new();
    for model in &config.train.models {
        let tc = TrainConfig {
            batch: config.train.batch,
            lr: config.train.lr,
            warmup: config.train.warmup.min(config.train.steps),
            seed: config.seed,
            checkpoint_every: config.train.checkpoint_every,
            context: config.train.context,
            ..TrainConfig::new(model, &config.train.arch, config.train.steps)
        };
        let stage = Stage::new(
            work,
            StageKind::Train,
            model,
            &TrainStage {
                train: &tc,
                data: &data_hashes,
                device: device_key(&device),
            },
        );
        runner.stage(&stage, |stage| {
            let clips = pool(&data_dirs)?;
            let bar = progress(tc.steps, format!("train {model}"));
            let t = Instant::now();
            let report = train(&tc, &clips, &stage.dir, &device, &|s| {
                bar.set_position(s);
                true
            })?;
            bar.finish_and_clear();
            let done = (report.steps - report.resumed_from) as f64;
            Ok(vec![(
                "samples_per_s".into(),
                done * tc.batch as f64 / t.elapsed().as_secs_f64().max(1e-9),
            )])
        })?;
        trained.push((model.clone(), tc, stage));
    }
    if stop(StageKind::Train) {
        return Ok(stopped(StageKind::Train));
    }

    // Scoring.
    let suite = Suite::load(&suite_dir)?;
    let movies: u64 = suite.meta.properties.iter().map(|p| p.episodes).sum();
    let shape = Clips {
        frames: Vec::new(),
        actions: Vec::new(),
        episodes: 0,
        length: 0,
        size: config.size,
        action_dim,
    };
    let mut scorers: Vec<(String, Stage)> = Vec::new();
    for (model, tc, train_stage) in &trained {
        let stage = Stage::new(
            work,
            StageKind::Score,
            model,
            &ScoreStage {
                scorer: model,
                trained: Some(&train_stage.hash),
                voe: &voe_stage.hash,
                stride: config.score.stride,
                context: arch.context,
                horizon: arch.horizon,
                device: device_key(&device),
            },
        );
        runner.stage(&stage, |stage| {
            let built = load(
                tc,
                &shape,
                &train_stage.dir.join("checkpoint.safetensors"),
                &device,
            )?;
            score_with(
                &Scorer::Model(&*built.model),
                &suite,
                action_dim,
                config.score.stride,
                stage,
                &device,
                movies,
            )
        })?;
        scorers.push((model.clone(), stage));
    }
    for control in &config.score.controls {
        let spec = score::find_control(control)?;
        let stage = Stage::new(
            work,
            StageKind::Score,
            control,
            &ScoreStage {
                scorer: control,
                trained: None,
                voe: &voe_stage.hash,
                stride: config.score.stride,
                context: arch.context,
                horizon: arch.horizon,
                device: None,
            },
        );
        runner.stage(&stage, |stage| {
            score_with(
                &Scorer::Control {
                    spec,
                    context: arch.context,
                    horizon: arch.horizon,
                },
                &suite,
                action_dim,
                config.score.stride,
                stage,
                &device,
                movies,
            )
        })?;
        scorers.push((control.clone(), stage));
    }
    if stop(StageKind::Score) {
        return Ok(stopped(StageKind::Score));
    }

    // Planning: every trained model with each planner, then the oracles and random actions.
    let mut plan_rows: Vec<PlanRow> = Vec::new();
    let mut plan_gifs: Vec<(String, PathBuf)> = Vec::new();
    for task_name in &config.plan.tasks {
        let task = moravec_sim::task::find(task_name)?;
        let mut cells: Vec<(String, String, Option<usize>)> = Vec::new();
        if action_dim == task.scene.action_dim {
            for (k, (model, _, _)) in trained.iter().enumerate() {
                if !config.plan.models.is_empty() && !config.plan.models.contains(model) {
                    continue;
                }
                for planner in &config.plan.planners {
                    cells.push((model.clone(), planner.clone(), Some(k)));
                }
            }
        } else {
            eprintln!(
                "plan {task_name}: the models take {action_dim} action entries, the task {}; only the oracle and random actions plan",
                task.scene.action_dim
            );
        }
        for planner in config.plan.planners.iter().filter(|p| !needs_gradients(p)) {
            cells.push(("oracle".into(), planner.clone(), None));
            cells.push(("image-oracle".into(), planner.clone(), None));
        }
        cells.push(("random".into(), "none".into(), None));
        for (model, planner, k) in cells {
            let trained_hash = k.map(|k| trained[k].2.hash.clone());
            let stage = Stage::new(
                work,
                StageKind::Plan,
                &format!("{task_name}-{model}-{planner}"),
                &PlanStage {
                    task: task_name,
                    task_revision: task.revision,
                    actor: &model,
                    trained: trained_hash.as_deref(),
                    planner: &planner,
                    plan: &config.plan,
                    seed: config.seed,
                    size: config.size,
                    device: k.and(device_key(&device)),
                },
            );
            runner.stage(&stage, |stage| {
                let built = match k {
                    Some(k) => {
                        let (_, tc, train_stage) = &trained[k];
                        Some(load(
                            tc,
                            &shape,
                            &train_stage.dir.join("checkpoint.safetensors"),
                            &device,
                        )?)
                    }
                    None => None,
                };
                let actor = match (&built, model.as_str()) {
                    (Some(b), _) => Actor::Model(&*b.model),
                    (None, "oracle") => Actor::Oracle,
                    (None, "image-oracle") => Actor::ImageOracle(None),
                    (None, _) => Actor::Random,
                };
                let bar = progress(config.plan.episodes, format!("plan {}", stage.label));
                let row = crate::planning::run_cell(
                    task,
                    &actor,
                    &model,
                    &planner,
                    &config.plan,
                    config.seed,
                    config.size,
                    &device,
                    &mut |i, ep| {
                        bar.inc(1);
                        if i == 0 {
                            let goal = task.episode(config.seed, 0, config.size)?.goal().clone();
                            crate::planning::episode_gif(
                                &stage.dir.join("episode.gif"),
                                &ep.frames,
                                &goal,
                                4,
                            )?;
                        }
                        Ok(())
                    },
                )?;
                bar.finish_and_clear();
                write_text(
                    &stage.dir.join("row.json"),
                    &serde_json::to_string_pretty(&row).expect("row serialises"),
                )?;
                Ok(vec![("plan_ms_per_action".into(), row.plan_ms_per_action)])
            })?;
            let row: PlanRow = read_json(&stage.dir.join("row.json"))?;
            if k.is_some() && !plan_gifs.iter().any(|(t, _)| t == task_name) {
                plan_gifs.push((task_name.clone(), stage.dir.join("episode.gif")));
            }
            plan_rows.push(row);
        }
    }
    if stop(StageKind::Plan) {
        return Ok(stopped(StageKind::Plan));
    }

    // Results.
    let run_id = config.run_id();
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&run_id));
    std::fs::create_dir_all(&out).map_err(|e| HarnessError::io("cannot create", &out, e))?;
    let decidable_max = arch.context + arch.horizon - 2;
    let mut voe_rows: Vec<VoeRow> = Vec::new();
    let mut score_rows = Vec::new();
    let mut curve_rows = Vec::new();
    let mut examples = Vec::new();
    for (name, stage) in &scorers {
        let mut curves = BTreeMap::new();
        for p in &suite.meta.properties {
            curves.insert(p.property, score::read_curves(&stage.dir, p.property)?);
        }
        for (property, episodes) in &curves {
            for (episode, curve) in episodes.iter().enumerate() {
                for (frame, v) in curve {
                    curve_rows.push(vec![
                        run_id.clone(),
                        name.clone(),
                        property.to_string(),
                        episode.to_string(),
                        frame.to_string(),
                        results::num(*v),
                    ]);
                }
            }
        }
        let movie_scores = report::movie_scores(&suite, &curves);
        voe_rows.extend(report::voe_rows(
            name,
            &movie_scores,
            decidable_max,
            config.score.bootstrap,
            config.seed,
        ));
        for (property, movies) in &movie_scores {
            for (row, s) in movies {
                score_rows.push(score_record(&run_id, name, *property, row, s));
            }
        }
        examples.push((name.clone(), crate::plots::examples(&suite, &curves)));
    }
    write_csv(
        &out.join("voe.csv"),
        &results::VOE_HEADER,
        &results::voe_records(&run_id, &voe_rows),
    )?;
    write_csv(
        &out.join("scores.csv"),
        &results::SCORES_HEADER,
        &score_rows,
    )?;
    write_csv(
        &out.join("curves.csv"),
        &results::CURVES_HEADER,
        &curve_rows,
    )?;

    let mut training_rows = Vec::new();
    let mut losses = Vec::new();
    for (model, _, stage) in &trained {
        let log = read_training_log(&stage.dir.join("training.csv"))?;
        let mut totals = Vec::new();
        for (step, terms) in &log {
            for (term, value) in terms {
                training_rows.push(vec![
                    run_id.clone(),
                    model.clone(),
                    step.to_string(),
                    term.clone(),
                    num(*value),
                ]);
                if term == "total" {
                    totals.push((*step, *value));
                }
            }
        }
        losses.push((model.clone(), totals));
    }
    write_csv(
        &out.join("training.csv"),
        &results::TRAINING_HEADER,
        &training_rows,
    )?;
    let throughput_rows: Vec<Vec<String>> = runner
        .measures
        .iter()
        .map(|(kind, label, metric, value, cached)| {
            vec![
                run_id.clone(),
                kind.as_str().to_owned(),
                label.clone(),
                metric.clone(),
                num(*value),
                cached.to_string(),
            ]
        })
        .collect();
    write_csv(
        &out.join("throughput.csv"),
        &results::THROUGHPUT_HEADER,
        &throughput_rows,
    )?;
    write_text(&out.join("config.toml"), &config.to_toml())?;
    let planning_rows: Vec<Vec<String>> = plan_rows.iter().map(|r| r.record(&run_id)).collect();
    write_csv(
        &out.join("planning.csv"),
        &crate::planning::PLANNING_HEADER,
        &planning_rows,
    )?;
    let episode_rows: Vec<Vec<String>> = plan_rows
        .iter()
        .flat_map(|r| r.episode_records(&run_id, config.seed))
        .collect();
    write_csv(
        &out.join("planning_episodes.csv"),
        &crate::planning::EPISODES_HEADER,
        &episode_rows,
    )?;
    if !plan_rows.is_empty() {
        crate::plots::success_rates(&out.join("planning.png"), &plan_rows)?;
    }
    for (task, gif) in &plan_gifs {
        if gif.exists() {
            let dest = out.join(format!("plan-{task}.gif"));
            std::fs::copy(gif, &dest).map_err(|e| HarnessError::io("cannot write", &dest, e))?;
        }
    }

    crate::plots::relative_accuracy(&out.join("relative_accuracy.png"), &voe_rows)?;
    crate::plots::training(&out.join("training.png"), &losses)?;
    for (name, ex) in &examples {
        if config.train.models.contains(name) {
            crate::plots::surprise_curves(&out.join(format!("surprise-{name}.png")), name, ex)?;
        }
    }

    let meta = RunMeta {
        schema: RESULTS_SCHEMA.into(),
        run: run_id.clone(),
        preset: config.preset.clone(),
        git_revision: crate::output::git_revision(),
        harness: format!("moravec-bench {}", env!("CARGO_PKG_VERSION")),
        machine: Machine::here(),
        device: if device.is_cpu() {
            "cpu".into()
        } else {
            "cuda:0".into()
        },
        started,
        finished: results::now_rfc3339(),
        wall_seconds: clock.elapsed().as_secs_f64(),
        stages: runner.timings,
    };
    let summary = crate::summary::render(&meta, config, &voe_rows, &plan_rows);
    write_text(&out.join("summary.md"), &summary)?;
    write_text(
        &out.join("meta.json"),
        &(serde_json::to_string_pretty(&meta).expect("meta serialises") + "\n"),
    )?;
    Ok(RunOutcome {
        out: Some(out),
        stopped_after: None,
        summary,
    })
}

/// Scores the suite into a stage with a progress bar; returns movies/s.
fn score_with(
    scorer: &Scorer,
    suite: &Suite,
    action_dim: usize,
    stride: usize,
    stage: &Stage,
    device: &Device,
    movies: u64,
) -> Result<Vec<(String, f64)>> {
    let bar = progress(movies, format!("score {}", stage.label));
    let t = Instant::now();
    score::score_suite(
        scorer,
        suite,
        action_dim,
        stride,
        &stage.dir,
        device,
        &|| bar.inc(1),
    )?;
    bar.finish_and_clear();
    Ok(vec![(
        "movies_per_s".into(),
        movies as f64 / t.elapsed().as_secs_f64().max(1e-9),
    )])
}

fn score_record(
    run: &str,
    model: &str,
    property: Property,
    row: &score::SetRow,
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
        num(s.score(report::Aggregation::Mean)),
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
    let (mut reader, header) = results::open_csv(path, None)?;
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

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| HarnessError::io("cannot read", path, e))?;
    serde_json::from_str(&text).map_err(|e| HarnessError::Schema {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    crate::output::write_atomic(path, text.as_bytes()).map_err(|e| HarnessError::Schema {
        path: path.to_owned(),
        message: format!("{e:#}"),
    })
}

#[cfg(test)]
mod tests {
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
            Stage::new(
                Path::new("w"),
                StageKind::Train,
                "m",
                &TrainStage {
                    train: &tc,
                    data: &data,
                    device,
                },
            )
            .hash
        };
        let before = Stage::new(
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
}
