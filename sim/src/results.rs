//! The on-disk schema of a run's results folder, which the harness (`moravec-bench`) writes and
//! the viewer reads: the schema name and the columns of each CSV. It lives here, in the crate
//! both depend on, so that writer and reader share one definition and cannot drift apart.

/// Names the layout of a results folder; `compare` refuses others.
pub const RESULTS_SCHEMA: &str = "moravec-results/1";

/// Columns of `voe.csv`.
pub const VOE_HEADER: [&str; 11] = [
    "run",
    "model",
    "property",
    "condition",
    "subset",
    "aggregation",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
];
/// The columns that identify a `voe.csv` row.
pub const VOE_KEYS: [&str; 6] = [
    "model",
    "property",
    "condition",
    "subset",
    "aggregation",
    "metric",
];
/// Columns of `probe.csv`: each model's state probe per scene and variable at the end of
/// training (one row per training seed), and the raw-pixel floor (seed empty).
pub const PROBE_HEADER: [&str; 10] = [
    "run",
    "model",
    "seed",
    "scene",
    "variable",
    "r2",
    "lambda",
    "bodies",
    "fit_rows",
    "test_rows",
];
/// Columns of `learning_curve.csv`: per model (first training seed) and training step, the
/// headline cells' relative accuracy (`cell` = `property/subset`) and the probes' R² (`cell` =
/// `scene/variable`).
pub const LEARNING_CURVE_HEADER: [&str; 10] = [
    "run", "model", "seed", "step", "metric", "cell", "value", "ci_low", "ci_high", "n",
];
/// Columns of `training.csv`.
pub const TRAINING_HEADER: [&str; 5] = ["run", "model", "step", "term", "value"];
/// Columns of `throughput.csv`.
pub const THROUGHPUT_HEADER: [&str; 6] = ["run", "stage", "item", "metric", "value", "cached"];
/// Columns of `curves.csv`: every window's surprise, the curves the viewer draws under a replay.
pub const CURVES_HEADER: [&str; 6] = [
    "run",
    "model",
    "property",
    "episode",
    "target_frame",
    "surprise",
];
/// Columns of `scores.csv`.
pub const SCORES_HEADER: [&str; 11] = [
    "run",
    "model",
    "property",
    "condition",
    "set_id",
    "member",
    "possible",
    "occlusion_frames",
    "windows",
    "mean",
    "max",
];
/// Columns of `planning.csv`.
pub const PLANNING_HEADER: [&str; 14] = [
    "run",
    "model",
    "planner",
    "task",
    "episodes",
    "successes",
    "success_rate",
    "ci_low",
    "ci_high",
    "object_success_rate",
    "ever_reached_rate",
    "final_distance",
    "cleared",
    "plan_ms_per_action",
];
/// Columns of `planning_episodes.csv` (and of `bench plan --episodes-csv`).
pub const EPISODES_HEADER: [&str; 12] = [
    "run",
    "model",
    "planner",
    "task",
    "seed",
    "episode",
    "success",
    "object_success",
    "ever_reached",
    "final_distance",
    "cleared",
    "plan_ms_per_action",
];
