//! What an environment shows after a reset or a step: the camera image and the state of each
//! body slot. Its own file so that the observation space (`space.rs`) and the environments
//! (`env.rs`) both read it without reading each other.

use crate::render::Frame;
use crate::world::BodyState;

/// What an environment shows after a reset or a step.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The camera image.
    pub frame: Frame,
    /// The instance mask, `height * width` bytes from the top row: the slot whose body each pixel
    /// shows, [`crate::mask::NO_SLOT`] for the background and fixed bodies.
    pub mask: Vec<u8>,
    /// The state of each body slot of the scene, `None` where the slot is empty in this episode.
    pub states: Vec<Option<BodyState>>,
}
