//! Moravec's world models in candle: JEPA encoders and predictors, their losses, training with
//! exact checkpoints, and (in later issues) pixel baselines and surprise.
#![warn(missing_docs)]

pub mod allocator;
pub mod data;
pub mod ema;
pub mod error;
pub mod eval;
pub mod models;
pub mod ops;
pub mod planning;
pub mod train;
pub mod vicreg;

pub use error::{AgentError, Result};
