//! Moravec's simulation crate: Rapier scenes as environments, a deterministic ray-cast renderer,
//! exploration policies, episodes and datasets.
//!
//! Everything here is a pure function of its seed: the same seed gives the same bits on every
//! machine of the same kind, whatever the thread count.
//!
//! ```
//! use moravec_sim::scene;
//!
//! let spec = scene::find("cart_platform")?;
//! let mut env = spec.make(64)?;
//! let obs = env.reset(7);
//! assert_eq!(obs.frame.data.len(), 64 * 64 * 3);
//! assert!(env.observation_space().contains(&obs));
//! // Push the pusher along +x at 1 m/s for one frame (1/30 s).
//! let step = env.step(&[1.0, 0.0])?;
//! assert!(!step.truncated);
//! assert!(scene::find("cartpole").is_err());
//! # Ok::<(), moravec_sim::SimError>(())
//! ```
#![warn(missing_docs)]

pub mod camera;
pub mod color;
pub mod dataset;
pub mod env;
pub mod episode;
pub mod error;
pub mod mask;
pub mod movie_bodies;
pub mod nuisance;
pub mod observation;
pub mod policy;
pub mod render;
pub mod replay;
pub mod results;
pub mod scene;
pub mod seed;
pub mod space;
pub mod task;
pub mod voe;
pub mod work_slice;
pub mod world;

pub use camera::{Camera, Raster};
pub use color::Rgb;
pub use env::{Environment, Observation, Step};
pub use episode::{Episode, generate_episode};
pub use error::{Result, SimError};
pub use nuisance::Nuisance;
pub use render::{Frame, Renderer, render, render_reference};
pub use scene::{SCENES, SceneSpec};
pub use seed::{EpisodeKey, Split};
pub use work_slice::WorkSlice;
pub use world::{BodyId, BodyKind, BodyState, ShapeDesc, World};
