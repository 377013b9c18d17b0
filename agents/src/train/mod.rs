//! Training: AdamW with warm-up and cosine decay, deterministic batches, a per-step CSV log, and
//! checkpoints that make a resumed run bitwise identical to an uninterrupted one.

mod adamw;
pub mod checkpoint;
mod config;
mod schedule;
mod trainer;

pub use adamw::AdamW;
pub use checkpoint::load as load_checkpoint;
pub use config::{TrainConfig, snapshot_path};
pub use schedule::learning_rate;
pub use trainer::{TrainReport, build, train};
