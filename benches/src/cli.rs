//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
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
    /// The default suite: generate a small dataset of every scene, then measure throughput.
    Run(SuiteArgs),
    /// Generate a dataset of one scene.
    Generate(GenerateArgs),
    /// Write an animated GIF of one episode.
    Preview(PreviewArgs),
    /// Measure physics + render frames per second and append a row per scene to a CSV.
    Throughput(ThroughputArgs),
}

/// Options of `bench run`.
#[derive(Debug, Parser)]
pub struct SuiteArgs {
    /// Where datasets go: DIR/<scene>/<split>.
    #[arg(long, default_value = "data/default")]
    pub data: PathBuf,
    /// Episodes per scene.
    #[arg(long, default_value_t = 32)]
    pub episodes: u64,
    /// Frames per episode.
    #[arg(long, default_value_t = 48)]
    pub frames: usize,
    /// Global seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where the throughput rows are appended.
    #[arg(long, default_value = "results/throughput.csv")]
    pub throughput_csv: PathBuf,
}

/// Options of `bench generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Scene name (cart_platform, occlusion, table_clearing, collision).
    #[arg(long)]
    pub scene: String,
    /// Number of episodes.
    #[arg(long)]
    pub episodes: u64,
    /// Frames per episode.
    #[arg(long)]
    pub frames: usize,
    /// Global seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output directory (must not exist or be empty, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// Image side in pixels, 16 to 512.
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Split: train, val or test.
    #[arg(long, default_value = "train")]
    pub split: Split,
    /// Episodes per shard (default: about 64 MiB of frames per shard).
    #[arg(long)]
    pub shard_episodes: Option<u64>,
    /// Replace a non-empty output directory (only once the new dataset is complete).
    #[arg(long)]
    pub force: bool,
}

/// Options of `bench preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Scene name.
    #[arg(long)]
    pub scene: String,
    /// Global seed of the episode.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Episode index within the split.
    #[arg(long, default_value_t = 0)]
    pub episode: u64,
    /// Split the episode is drawn from.
    #[arg(long, default_value = "train")]
    pub split: Split,
    /// Frames in the GIF.
    #[arg(long, default_value_t = 90)]
    pub frames: usize,
    /// Rendered image side, pixels (16 to 512).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
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
