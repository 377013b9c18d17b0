//! The Moravec viewer: a bevy app that steps `sim`'s own world (one physics truth: bevy only
//! mirrors the bodies' poses), drives the pusher from the keyboard, and shows the model
//! camera's view beside the 3D view; or replays a recorded movie (a dataset episode, a VoE
//! variant) with a model's surprise along it. Run it with
//! `cargo run -p moravec-viewer --release -- --scene cart_platform --seed 3`.
//!
//! The logic ([`SimPlugin`]) runs without rendering, so tests drive it with bevy's
//! `MinimalPlugins`; [`app::build`] adds the window or the headless image target.

pub mod app;
pub mod args;
pub mod bodies;
pub mod capture;
pub mod controls;
pub mod curve;
pub mod curve_panel;
pub mod model_view;
pub mod movie;
pub mod orbit;
pub mod sim_plugin;
pub mod variants;
pub mod world_state;

pub use args::Args;
pub use movie::{Movie, MovieBodyLink};
pub use sim_plugin::{SimPlugin, SimSet};
pub use variants::Variants;
pub use world_state::{BodyLink, SimState};
