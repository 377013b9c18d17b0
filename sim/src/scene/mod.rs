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

pub use crate::env::SceneSpec;
use crate::error::{Result, SimError};

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
