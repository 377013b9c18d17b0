//! The run's stages, one module each, in the order a run does them: [`data`], [`suite`],
//! [`train`], [`score`] (with the learning curve's points), [`probe`], [`plan`]. Each owns its slice of the config, its cache key and its
//! `run`; the subcommands call the same functions, and [`listing`] lists their stages
//! without making them (`bench run --plan-only`). [`cache`] is a stage's folder and record,
//! [`runner`] runs stages, reusing done ones, each under its [`lock`].

pub mod cache;
pub mod curve;
pub mod data;
pub mod listing;
pub mod lock;
pub mod plan;
pub mod prediction;
pub mod probe;
pub mod runner;
pub mod score;
pub mod suite;
pub mod train;

pub use cache::{CachedStage, StageKind, StageRecord};
pub use runner::{Part, Runner, Sharded};
