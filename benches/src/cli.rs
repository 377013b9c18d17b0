//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use moravec_bench::stages::StageKind;
use moravec_sim::Split;

/// Moravec: does a world model have physical intuition?
#[derive(Debug, Parser)]
#[command(name = "bench", version, about)]
pub struct Cli {
    /// What to do; without one, `run` with its defaults.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole benchmark: data, VoE suite, training, scoring, results (the default).
    Run(RunArgs),
    /// Generate a dataset of one scene.
    Generate(GenerateArgs),
    /// Write an animated GIF of one episode.
    Preview(PreviewArgs),
    /// Measure physics + render frames per second and append a row per scene to a CSV.
    Throughput(ThroughputArgs),
    /// Train a world model on a dataset (resumes from the checkpoint in --out).
    Train(TrainArgs),
    /// Plan on a task with a trained model (or the simulator oracle, or random actions).
    Plan(PlanArgs),
    /// Run a preset on the CPU and on another device (the GPU) and compare: first losses
    /// (within a tolerance), throughput, accuracy.
    DeviceCheck(DeviceCheckArgs),
    /// Score one model on a VoE suite beside the controls: an outside model's surprise from a
    /// file, or a checkpoint of ours on any suite of its image size.
    Score(ScoreArgs),
    /// Join the shards of a dataset or suite made with `bench generate --shard I/N` (the same
    /// options, and --shards N) into exactly what one unsharded `bench generate` writes.
    Merge(MergeArgs),
}

/// Options of `bench merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// How many shards the work was cut into (the N of `--shard I/N`).
    #[arg(long)]
    pub shards: u64,
    /// The options the shards were generated with.
    #[command(flatten)]
    pub generate: GenerateArgs,
}

/// Options of `bench score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The VoE suite folder (`bench generate --voe --out DIR`).
    #[arg(long)]
    pub suite: PathBuf,
    /// A CSV of an outside model's surprise: `property,set_id,member,surprise` (one per movie)
    /// or `property,set_id,member,frame,surprise` (one per window or frame).
    #[arg(
        long,
        required_unless_present = "checkpoint",
        conflicts_with = "checkpoint"
    )]
    pub surprise: Option<PathBuf>,
    /// A checkpoint of one of the harness's models (`bench train`, or a run's
    /// `runs/train/.../checkpoint.safetensors`).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The model's name in the results (default: the checkpoint's model, or `submission`).
    #[arg(long)]
    pub name: Option<String>,
    /// The results folder (voe.csv, summary.md, relative_accuracy.png).
    #[arg(long, default_value = "results/score")]
    pub out: PathBuf,
    /// Frames one window of the model spans, context plus predicted (default: the
    /// checkpoint's, else 12 as the harness's models): occluded sets hidden for at most this
    /// minus two frames are `decidable`.
    #[arg(long)]
    pub window: Option<usize>,
    /// Frames between windows of the checkpoint and the controls.
    #[arg(long, default_value_t = 4)]
    pub stride: usize,
    /// Bootstrap resamples of every interval.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the bootstrap and of the untrained control.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where networks run.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

/// Options of `bench device-check`.
#[derive(Debug, Args)]
pub struct DeviceCheckArgs {
    /// The device compared with the CPU: cuda, auto, or cpu (a second CPU run, which must
    /// agree bit for bit).
    #[arg(long, default_value = "cuda", value_parser = ["cpu", "cuda", "auto"])]
    pub device: String,
    /// The preset both runs use.
    #[arg(long, default_value = "smoke")]
    pub preset: String,
    /// Where both runs cache their stages (one folder per device).
    #[arg(long, default_value = "runs/device-check")]
    pub work: PathBuf,
    /// Where both runs' results and `device-check.csv` go.
    #[arg(long, default_value = "results/device-check")]
    pub out: PathBuf,
    /// Training steps whose total loss is compared.
    #[arg(long, default_value_t = 3)]
    pub steps: u64,
    /// Largest relative difference of a compared loss that passes.
    #[arg(long, default_value_t = 1e-3)]
    pub tolerance: f64,
}

/// Options of `bench run`.
#[derive(Debug, Parser)]
pub struct RunArgs {
    /// Preset: smoke (CI, minutes), default (about ten minutes on two cores), standard (about an
    /// hour, the scale numbers are quoted at), full (GPU scale).
    #[arg(long, default_value = "default")]
    pub preset: String,
    /// A TOML file laid over the preset (its own `preset` key, if any, picks the preset);
    /// unknown keys are errors.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The results folder (default results/<preset>-<config hash>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where stages are cached (datasets, the suite, checkpoints, surprise curves).
    #[arg(long, default_value = "runs")]
    pub work: PathBuf,
    /// Redo every stage of this kind even if it is cached (repeatable).
    #[arg(long, value_enum)]
    pub force: Vec<StageKind>,
    /// Stop once every stage of this kind is done (the next run picks up from there).
    #[arg(long, value_enum)]
    pub stop_after: Option<StageKind>,
    /// Make shard I of N of every stage of the kind --stage names (data: the datasets' files;
    /// voe: the suite's sets; train: whole models; score: the suite's movies; probe: whole
    /// probes; plan: each cell's episodes), in a --work folder the machines share, then stop.
    /// Every stage of an earlier kind must be done.
    #[arg(long, value_name = "I/N", requires = "stage", conflicts_with_all = ["merge", "stop_after"])]
    pub shard: Option<moravec_sim::WorkSlice>,
    /// With --shard: the kind of stage to cut.
    #[arg(long, value_enum, requires = "shard")]
    pub stage: Option<StageKind>,
    /// Join the shards of every stage of this kind once all N are made (`--shards N`), then stop.
    #[arg(long, value_enum, requires = "shards", conflicts_with = "stop_after")]
    pub merge: Option<StageKind>,
    /// With --merge: how many shards the stages were cut into.
    #[arg(long, requires = "merge")]
    pub shards: Option<u64>,
    /// Make nothing: list every stage the run would make or reuse, in order, with its cache
    /// key, whether it is done in --work, and what a shard of its kind cuts (to size
    /// `--shard I/N` and a Slurm array).
    #[arg(long, conflicts_with_all = ["shard", "merge", "stop_after"])]
    pub plan_only: bool,
}

/// Options of `bench generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Generate the violation-of-expectation suite instead of a training dataset.
    #[arg(long, conflicts_with_all = ["scene", "episodes", "split", "shard_episodes"])]
    pub voe: bool,
    /// With --voe: sets per property and condition.
    #[arg(long, requires = "voe", default_value_t = moravec_sim::voe::DEFAULT_SETS)]
    pub sets: u64,
    /// Scene name (cart_platform, occlusion, table_clearing, collision).
    #[arg(long, required_unless_present = "voe")]
    pub scene: Option<String>,
    /// Number of episodes.
    #[arg(long, required_unless_present = "voe")]
    pub episodes: Option<u64>,
    /// Frames per episode (with --voe: per movie, default 64).
    #[arg(long, required_unless_present = "voe")]
    pub frames: Option<usize>,
    /// Global seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output directory (must not exist or be empty, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// Image side in pixels, 16 to 512.
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Rays per pixel side, 1 to 8: each pixel the mean of SAMPLES x SAMPLES rays, so that an
    /// edge moved by less than a pixel shows (training datasets; 1, the default, casts one ray
    /// through the pixel's centre).
    #[arg(long, default_value_t = 1)]
    pub samples: usize,
    /// Split: train, val or test.
    #[arg(long, default_value = "train")]
    pub split: Split,
    /// Episodes per shard (default: about 64 MiB of frames per shard).
    #[arg(long)]
    pub shard_episodes: Option<u64>,
    /// Nuisance level, 0 to 3: pixel detail drawn over every frame that carries no physics
    /// (1: a fresh texture on the static surfaces every frame; 2: plus flicker and a colour
    /// cast; 3: plus drifting distractor particles). States, actions and masks are those of
    /// level 0, bit for bit.
    #[arg(long, default_value_t = moravec_sim::Nuisance::NONE, value_parser = parse_nuisance)]
    pub nuisance: moravec_sim::Nuisance,
    /// Replace a non-empty output directory (only once the new dataset is complete).
    #[arg(long)]
    pub force: bool,
    /// Make only shard I of N (of the dataset's files, or with --voe of the suite's sets, by
    /// index) in a folder beside --out that all shards share; `bench merge --shards N` with the
    /// same options joins them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<moravec_sim::WorkSlice>,
}

/// Options of `bench preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Show a VoE set (possible movies framed green, impossible red) instead of an episode.
    #[arg(long, requires_all = ["property", "condition"], conflicts_with = "scene")]
    pub voe: bool,
    /// With --voe: the property (permanence, shape_constancy, color_constancy, continuity,
    /// gravity, support, solidity, inertia, collision).
    #[arg(long, requires = "voe")]
    pub property: Option<moravec_sim::voe::Property>,
    /// With --voe: occluded, visible (permanence, shape_constancy, color_constancy, continuity)
    /// or pair (gravity, support, solidity, inertia, collision).
    #[arg(long, requires = "voe")]
    pub condition: Option<moravec_sim::voe::Condition>,
    /// Scene name.
    #[arg(long, required_unless_present = "voe")]
    pub scene: Option<String>,
    /// Global seed of the episode.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Episode index within the split (with --voe: the set's index in its cell).
    #[arg(long, default_value_t = 0)]
    pub episode: u64,
    /// Split the episode is drawn from.
    #[arg(long, default_value = "train")]
    pub split: Split,
    /// Frames in the GIF (default 90; with --voe, 64).
    #[arg(long)]
    pub frames: Option<usize>,
    /// Rendered image side, pixels (16 to 512).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Rays per pixel side, 1 to 8 (episodes only; 1, the default, casts one ray per pixel).
    #[arg(long, default_value_t = 1)]
    pub samples: usize,
    /// Each rendered pixel becomes SCALE x SCALE pixels in the GIF (1 to 8).
    #[arg(long, default_value_t = 4)]
    pub scale: usize,
    /// Output GIF file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Options of `bench throughput`.
#[derive(Debug, Args)]
pub struct ThroughputArgs {
    /// Image side, pixels.
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Episodes per scene.
    #[arg(long, default_value_t = 64)]
    pub episodes: u64,
    /// Frames per episode.
    #[arg(long, default_value_t = 120)]
    pub frames: usize,
    /// Rayon threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// CSV the rows are appended to.
    #[arg(long, default_value = "results/throughput.csv")]
    pub csv: PathBuf,
}

/// Where tensors live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// The CPU (default; deterministic).
    Cpu,
    /// The first CUDA GPU (needs a build with `--features cuda`).
    Cuda,
    /// CUDA when available, else the CPU.
    Auto,
}

impl DeviceArg {
    /// Its name, as [`moravec_bench::device::device`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceArg::Cpu => "cpu",
            DeviceArg::Cuda => "cuda",
            DeviceArg::Auto => "auto",
        }
    }
}

/// Options of `bench train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Model: jepa-vicreg.
    #[arg(long)]
    pub model: String,
    /// Dataset directory (from `bench generate`).
    #[arg(long)]
    pub data: PathBuf,
    /// Output directory: checkpoint.safetensors and training.csv (resumed when present).
    #[arg(long)]
    pub out: PathBuf,
    /// Total optimiser steps.
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,
    /// Architecture: tiny or small (the run presets are `bench run --preset`'s).
    #[arg(long, default_value = "small")]
    pub arch: String,
    /// Windows per batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Seed of the weights and the data order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Steps between checkpoints.
    #[arg(long, default_value_t = 100)]
    pub checkpoint_every: u64,
    /// Context frames C, when not the preset's 8.
    #[arg(long)]
    pub context: Option<usize>,
    /// Frames K the rollout loss predicts, when not the preset's 4.
    #[arg(long)]
    pub horizon: Option<usize>,
    /// Simulator steps per model step (DINO-WM's frameskip, 5 there): the model sees every
    /// K-th frame and the K actions in between as one, so context and horizon count model
    /// steps and a 5-step plan covers 5 K simulator steps. Default 1.
    #[arg(long)]
    pub frameskip: Option<usize>,
    /// FiLM action conditioning: the actions also scale the predictor's hidden channels, not
    /// only shift them. Off by default.
    #[arg(long)]
    pub film: bool,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

/// Options of `bench plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Task: reach, cart_push, block_push, table_clear.
    #[arg(long)]
    pub task: String,
    /// Model: a checkpoint's model (with --checkpoint), `oracle` (the simulator, costing the true
    /// distance), `image-oracle` (the simulator's rendered futures against the goal image, in
    /// pixels, or with --checkpoint in that model's space: the model with a perfect predictor) or
    /// `random`.
    #[arg(long)]
    pub model: String,
    /// The trained model's checkpoint (from `bench train` or a run's `runs/train/...`).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Planner: cem, cem-vjepa2, cem-smooth, mppi, gradient, cem-gradient (ignored for random).
    #[arg(long, default_value = "cem")]
    pub planner: String,
    /// Distance to the goal in the planning space: l2 or l1 (mean over the scored steps), or
    /// l2-pyramid (l2 over the grid and over its averages in overlapping windows of 2, 4, ...
    /// cells up to the whole grid, summed).
    #[arg(long, default_value = "l2", value_parser = parse_distance)]
    pub distance: moravec_agents::planning::Distance,
    /// Predicted steps scored against the goal: all (the mean over the horizon) or last
    /// (DINO-WM's `mode: last`).
    #[arg(long, default_value = "all", value_parser = parse_score)]
    pub score: ScoredSteps,
    /// Steps planned ahead (default: the task's).
    #[arg(long)]
    pub horizon: Option<usize>,
    /// Actions executed from each plan before replanning, 1 to the horizon (default 1; DINO-WM's
    /// MPC executes its whole 5-step plan).
    #[arg(long)]
    pub replan_every: Option<usize>,
    /// Episodes.
    #[arg(long, default_value_t = 10)]
    pub episodes: u64,
    /// Sampling budget as a share of the planner's published defaults.
    #[arg(long, default_value_t = 1.0)]
    pub budget: f64,
    /// Image side for the oracle and random actions (a model plans at its own).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Rays per pixel side of the episodes' frames and goal images, 1 to 8 (default 1): for a
    /// model, those of its training data (`bench generate --samples`).
    #[arg(long, default_value_t = 1)]
    pub samples: usize,
    /// Seed of the episodes and the planner.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// CSV the row is appended to.
    #[arg(long, default_value = "results/planning.csv")]
    pub csv: PathBuf,
    /// The rows' `run` column: tells settings apart in one CSV (`--run replan5`).
    #[arg(long, default_value = "cli", value_parser = parse_label)]
    pub run: String,
    /// Write the first episode beside its goal image as an animated GIF here.
    #[arg(long)]
    pub gif: Option<PathBuf>,
    /// Write every episode beside its goal image as `<task>-episode-<i>.gif` in this folder.
    #[arg(long)]
    pub gif_dir: Option<PathBuf>,
    /// Append a row per episode (success, final distance, cleared share, time per action) to
    /// this CSV.
    #[arg(long)]
    pub episodes_csv: Option<PathBuf>,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Nuisance level of the episodes' frames and goal images, 0 to 3 (see `bench generate
    /// --nuisance`): for a model, that of its training data.
    #[arg(long, default_value_t = moravec_sim::Nuisance::NONE, value_parser = parse_nuisance)]
    pub nuisance: moravec_sim::Nuisance,
}

/// `--run`: a label of letters, digits and `-_.+[]=`, 1 to 64 characters.
fn parse_label(s: &str) -> Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "-_.+[]=".contains(c);
    if (1..=64).contains(&s.len()) && s.chars().all(ok) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "{s:?}: expected 1 to 64 letters, digits or -_.+[]="
        ))
    }
}

/// Which predicted steps a plan is scored on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoredSteps {
    /// Every step of the horizon.
    All,
    /// The last one.
    Last,
}

/// `--score`: all or last.
fn parse_score(s: &str) -> Result<ScoredSteps, String> {
    match s {
        "all" => Ok(ScoredSteps::All),
        "last" => Ok(ScoredSteps::Last),
        other => Err(format!("{other}: expected all or last")),
    }
}

/// `--distance`: l1, l2 or l2-pyramid.
fn parse_distance(s: &str) -> Result<moravec_agents::planning::Distance, String> {
    use moravec_agents::planning::Distance;
    match s {
        "l1" => Ok(Distance::L1),
        "l2" => Ok(Distance::L2),
        "l2-pyramid" => Ok(Distance::L2Pyramid),
        other => Err(format!("{other}: expected l1, l2 or l2-pyramid")),
    }
}

/// A `--nuisance` level, refused by name when out of range.
fn parse_nuisance(s: &str) -> std::result::Result<moravec_sim::Nuisance, String> {
    let level: u8 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a nuisance level: expected 0 to 3"))?;
    moravec_sim::Nuisance::new(level).map_err(|e| e.to_string())
}
