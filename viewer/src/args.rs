//! Command-line options of `view`.

use std::path::PathBuf;

use clap::Parser;

/// Look at Moravec's scenes: orbit with the mouse (left drag, wheel), drive the pusher with the
/// arrow keys or WASD, space pauses, N single-steps, R resets, [ and ] change the seed, Tab
/// cycles the scenes, V steps through the scene's VoE variants (possible and impossible movies
/// of one set) and P picks the property they test. `--replay` plays a dataset's episode instead,
/// and `--run` draws a model's surprise along it.
#[derive(Parser, Debug, Clone)]
#[command(name = "view", version)]
pub struct Args {
    /// The scene to show (cart_platform, occlusion, table_clearing, collision).
    #[arg(long, default_value = "cart_platform")]
    pub scene: String,
    /// The episode seed: the same seed builds the same world as in the datasets' generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Side of the model camera's image, pixels (the datasets' frames; 16 to 512).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Render without any window or display into an image (with --screenshot).
    #[arg(long)]
    pub headless: bool,
    /// Write the view after --frames frames to this PNG file, then exit.
    #[arg(long)]
    pub screenshot: Option<PathBuf>,
    /// Frames to run before the screenshot, or before exiting.
    #[arg(long)]
    pub frames: Option<u32>,
    /// Width of the window or of the headless image, pixels.
    #[arg(long, default_value_t = 960)]
    pub width: u32,
    /// Height of the window or of the headless image, pixels.
    #[arg(long, default_value_t = 720)]
    pub height: u32,
    /// Play an episode of this dataset (a training split, or a property's directory of a VoE
    /// suite) instead of the live scene; its scene replaces --scene.
    #[arg(long, value_name = "DATASET", conflicts_with_all = ["scene", "seed"])]
    pub replay: Option<PathBuf>,
    /// The episode of --replay to play.
    #[arg(long, default_value_t = 0, requires = "replay")]
    pub episode: u64,
    /// A results directory of `bench run` (results/<run-id>): draw a model's surprise curve
    /// along the replayed VoE movie, with a cursor at the frame shown.
    #[arg(long, value_name = "RESULTS", requires = "replay")]
    pub run: Option<PathBuf>,
    /// The model whose curve --run draws (default jepa-vicreg, else the first in the run).
    #[arg(long, requires = "run")]
    pub model: Option<String>,
}
