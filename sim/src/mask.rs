//! Instance masks: which body slot each pixel of a frame shows.
//!
//! The renderer labels every pixel with the body its ray hit ([`crate::render::Renderer::render_labelled`]);
//! a scene's slots say which body is which object. A mask is the labels seen through the slots:
//! a slot index per pixel, [`NO_SLOT`] for the background and for fixed bodies (floor, table,
//! platform), which no slot tracks. Object-centric models (PLATO's setting) take these as input.

use crate::render::NO_BODY;
use crate::world::{BodyId, BodyKind, World};

/// The mask value of a pixel that shows no slot's body: background, fixed bodies.
pub const NO_SLOT: u8 = 255;

/// Most slots a scene may have for its masks to hold them in a byte beside [`NO_SLOT`].
pub const MAX_SLOTS: usize = NO_SLOT as usize;

/// The slot mask of a labelled picture: each pixel's body mapped to the slot that holds it,
/// [`NO_SLOT`] for the background, fixed bodies and bodies in no slot.
pub fn slot_mask(labels: &[u32], slots: &[Option<BodyId>], world: &World) -> Vec<u8> {
    assert!(
        slots.len() <= MAX_SLOTS,
        "{} slots do not fit a byte mask",
        slots.len()
    );
    let mut by_body = vec![NO_SLOT; world.len()];
    for (k, id) in slots.iter().enumerate() {
        if let Some(id) = *id
            && world.kind(id) != BodyKind::Fixed
        {
            by_body[id.0 as usize] = k as u8;
        }
    }
    labels
        .iter()
        .map(|&l| {
            if l == NO_BODY {
                NO_SLOT
            } else {
                by_body.get(l as usize).copied().unwrap_or(NO_SLOT)
            }
        })
        .collect()
}
