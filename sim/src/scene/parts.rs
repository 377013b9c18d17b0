//! Pieces several scenes build from.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::color::{Rgb, random_grey};
use crate::world::{BodyDesc, BodyId, BodyKind, ShapeDesc, World};

/// A uniform draw in `[lo, hi)`.
pub fn uniform(rng: &mut ChaCha8Rng, lo: f32, hi: f32) -> f32 {
    rng.random_range(lo..hi)
}

/// `+1.0` or `-1.0` with equal odds.
pub fn sign(rng: &mut ChaCha8Rng) -> f32 {
    if rng.random_bool(0.5) { 1.0 } else { -1.0 }
}

/// A fixed floor of a random grey whose top face is the plane y = 0.
pub fn floor(
    world: &mut World,
    rng: &mut ChaCha8Rng,
    half_x: f32,
    half_z: f32,
    friction: f32,
) -> BodyId {
    let color = random_grey(rng, 0.45, 0.7);
    floor_colored(world, color, half_x, half_z, friction)
}

/// A fixed floor of the given colour whose top face is the plane y = 0.
pub fn floor_colored(
    world: &mut World,
    color: Rgb,
    half_x: f32,
    half_z: f32,
    friction: f32,
) -> BodyId {
    let mut desc = BodyDesc::new(
        BodyKind::Fixed,
        ShapeDesc::Cuboid {
            half: [half_x, 0.1, half_z],
        },
        [0.0, -0.1, 0.0],
        color,
    );
    desc.friction = friction;
    world.add_body(&desc)
}

/// A random small shape: ball, box or upright cylinder, sized between `lo` and `hi` (radius or
/// half extent, metres).
pub fn random_shape(rng: &mut ChaCha8Rng, lo: f32, hi: f32) -> ShapeDesc {
    match rng.random_range(0..3u32) {
        0 => ShapeDesc::Ball {
            radius: uniform(rng, lo, hi),
        },
        1 => ShapeDesc::Cuboid {
            half: [
                uniform(rng, lo, hi),
                uniform(rng, lo, hi),
                uniform(rng, lo, hi),
            ],
        },
        _ => ShapeDesc::Cylinder {
            half_height: uniform(rng, lo, hi),
            radius: uniform(rng, lo, hi),
        },
    }
}

/// The pusher's radius, metres.
pub const PUSHER_RADIUS: f32 = 0.1;
/// The pusher's height, metres.
pub const PUSHER_HEIGHT: f32 = 0.3;
/// How far above its surface the pusher glides, metres: a kinematic body ignores fixed ones,
/// this only keeps the picture clean.
pub const PUSHER_LIFT: f32 = 0.002;

/// A kinematic pusher: an upright cylinder standing on the surface at height `surface_y`.
pub fn pusher(world: &mut World, x: f32, surface_y: f32, z: f32) -> BodyId {
    let shape = ShapeDesc::Cylinder {
        half_height: PUSHER_HEIGHT * 0.5,
        radius: PUSHER_RADIUS,
    };
    let desc = BodyDesc::new(
        BodyKind::Kinematic,
        shape,
        [x, surface_y + PUSHER_HEIGHT * 0.5 + PUSHER_LIFT, z],
        Rgb::new(0.92, 0.92, 0.95),
    );
    world.add_body(&desc)
}
