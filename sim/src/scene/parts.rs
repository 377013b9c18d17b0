//! Pieces several scenes build from.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::camera::Camera;
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

/// Steps of [`confine_to_view`], metres.
const VIEW_STEP: f32 = 0.01;

/// Narrows the region `lo..hi` (x and z) of a pusher gliding on a surface at `surface_y` to
/// where `camera` sees the whole pusher, and says whether any of it is left. The cameras look
/// along -z, so they cut a region's sides: the x bound of each corner not seen moves in, a
/// centimetre at a time.
pub fn confine_to_view(
    camera: &Camera,
    surface_y: f32,
    lo: &mut [f32; 2],
    hi: &mut [f32; 2],
) -> bool {
    let (bottom, top) = (
        surface_y + PUSHER_LIFT,
        surface_y + PUSHER_LIFT + PUSHER_HEIGHT,
    );
    // The region and the pusher are convex, and so is what the camera sees: the pusher is seen
    // whole everywhere in the region if it is at the region's four corners.
    let seen = |x: f32, z: f32| {
        [-PUSHER_RADIUS, PUSHER_RADIUS].into_iter().all(|dx| {
            [-PUSHER_RADIUS, PUSHER_RADIUS].into_iter().all(|dz| {
                [bottom, top]
                    .into_iter()
                    .all(|y| camera.sees([x + dx, y, z + dz]))
            })
        })
    };
    loop {
        let left = seen(lo[0], lo[1]) && seen(lo[0], hi[1]);
        let right = seen(hi[0], lo[1]) && seen(hi[0], hi[1]);
        if left && right {
            return true;
        }
        if !left {
            lo[0] += VIEW_STEP;
        }
        if !right {
            hi[0] -= VIEW_STEP;
        }
        if lo[0] >= hi[0] {
            return false;
        }
    }
}
