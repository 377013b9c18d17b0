//! Training: AdamW with warm-up and cosine decay, deterministic batches, a per-step CSV log, and
//! checkpoints that make a resumed run bitwise identical to an uninterrupted one.

mod adamw;
pub mod checkpoint;
mod schedule;
mod trainer;

pub use adamw::AdamW;
pub use schedule::learning_rate;
pub use trainer::{Built, TrainConfig, TrainReport, build, load, load_checkpoint, train};
