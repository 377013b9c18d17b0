//! The scene registry: every scene, by name, in one static table.

pub mod cart_platform;
pub mod collision;
pub mod occlusion;
pub(crate) mod parts;
pub mod table_clearing;

pub use cart_platform::CartPlatform;
pub use collision::Collision;
pub use occlusion::Occlusion;
pub use table_clearing::TableClearing;

use crate::camera::Raster;
use crate::env::{Environment, SceneEnv};
use crate::error::{Result, SimError};

/// A scene's entry in the registry: what it is and how to make it.
#[derive(Debug)]
pub struct SceneSpec {
    /// The name used on the command line and in datasets.
    pub name: &'static str,
    /// One line saying what the scene tests.
    pub description: &'static str,
    /// Length of the action vector (0 for scenes without agent).
    pub action_dim: usize,
    /// Actions are clamped to `[-max_action, max_action]` in every dimension (m/s for pushers).
    pub max_action: f32,
    /// The body slots of the state vector, in order.
    pub slots: &'static [&'static str],
    /// Frames after which an episode is truncated.
    pub max_steps: u64,
    /// Bodies stay within this many metres of the origin on every axis.
    pub extent: f32,
    /// Bodies move slower than this (m/s, rad/s).
    pub max_speed: f32,
    /// Makes the environment rendering images as the raster says.
    pub make: fn(Raster) -> Result<Box<dyn Environment>>,
}

impl SceneSpec {
    /// Makes the environment rendering `size` x `size` images (16 to 512; a bare side casts one
    /// ray per pixel, a [`Raster`] may ask for more).
    pub fn make(&self, raster: impl Into<Raster>) -> Result<Box<dyn Environment>> {
        (self.make)(raster.into())
    }
}

fn make<S: crate::env::Scene>(raster: Raster) -> Result<Box<dyn Environment>> {
    Ok(Box::new(SceneEnv::<S>::new(raster)?))
}

/// Every scene.
pub static SCENES: &[&SceneSpec] = &[
    &cart_platform::SPEC,
    &occlusion::SPEC,
    &table_clearing::SPEC,
    &collision::SPEC,
];

/// The scene with this name, or an error listing the known ones.
pub fn find(name: &str) -> Result<&'static SceneSpec> {
    SCENES
        .iter()
        .copied()
        .find(|s| s.name == name)
        .ok_or_else(|| SimError::UnknownScene {
            name: name.to_owned(),
            known: SCENES.iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scene_is_found_by_its_name_and_unknown_names_list_the_known() {
        for spec in SCENES {
            assert_eq!(find(spec.name).unwrap().name, spec.name);
        }
        let err = find("cartpole").unwrap_err().to_string();
        assert!(err.contains("cartpole"), "{err}");
        for spec in SCENES {
            assert!(err.contains(spec.name), "{err}");
        }
    }

    #[test]
    fn each_scene_spec_names_itself() {
        for spec in SCENES {
            let env = spec.make(16).unwrap();
            assert_eq!(env.spec().name, spec.name);
        }
    }
}
