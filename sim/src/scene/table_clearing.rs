//! `table_clearing`: three to six objects on a table and a pusher gliding over its top. The goal
//! is an empty table: each object pushed off falls to the floor and earns a reward of 1.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::parts::{confine_to_view, floor, pusher, random_shape, uniform};
use crate::camera::Camera;
use crate::color::{Rgb, random_color, random_grey};
use crate::env::{Outcome, Scene, SceneSpec, drive_pusher, make_env};
use crate::world::{BodyDesc, BodyId, BodyKind, ShapeDesc, World};

/// Height of the table top.
const TOP: f32 = 0.75;

/// The registry entry of this scene.
pub static SPEC: SceneSpec = SceneSpec {
    name: "table_clearing",
    description: "a pusher clears 3 to 6 objects off a table; pushed off, they fall to the floor (planning)",
    action_dim: 2,
    max_action: 1.5,
    slots: &[
        "object0", "object1", "object2", "object3", "object4", "object5", "pusher",
    ],
    max_steps: 300,
    extent: 12.0,
    max_speed: 60.0,
    make: make_env::<TableClearing>,
};

/// The scene's state beyond the world.
#[derive(Clone, Debug)]
pub struct TableClearing {
    slots: [Option<BodyId>; 7],
    objects: Vec<BodyId>,
    off: Vec<bool>,
    pusher: BodyId,
    half: [f32; 2],
    lo: [f32; 2],
    hi: [f32; 2],
}

impl TableClearing {
    /// The objects on the table at the start.
    pub fn objects(&self) -> &[BodyId] {
        &self.objects
    }

    /// The table top's half extents, x and z (it is centred on the origin).
    pub fn half(&self) -> [f32; 2] {
        self.half
    }

    /// Height of the table top.
    pub fn top(&self) -> f32 {
        TOP
    }

    /// Where the pusher may go: `(lo, hi)`, each `[x, z]`.
    pub fn pusher_region(&self) -> ([f32; 2], [f32; 2]) {
        (self.lo, self.hi)
    }

    /// Narrows the pusher's region to where the camera sees the whole pusher (a large table's
    /// front corners lie a little outside the picture), and says whether any of it is left.
    /// Only the planning tasks confine the pusher: see
    /// [`CartPlatform::confine_pusher_to_view`](super::CartPlatform::confine_pusher_to_view).
    pub fn confine_pusher_to_view(&mut self) -> bool {
        confine_to_view(&Self::camera(), TOP, &mut self.lo, &mut self.hi)
    }

    /// The table with 3 to 6 random objects, or (`block`) with one rectangular block only: the
    /// block-pushing task's start, the PushT of this world.
    fn build_with(rng: &mut ChaCha8Rng, block: bool) -> (World, Self) {
        let mut world = World::new();
        floor(&mut world, rng, 6.0, 6.0, 0.6);
        let half = [uniform(rng, 0.65, 0.85), uniform(rng, 0.45, 0.6)];
        let table_color = random_grey(rng, 0.3, 0.45);
        let mut top = BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [half[0], 0.04, half[1]],
            },
            [0.0, TOP - 0.04, 0.0],
            table_color,
        );
        top.friction = uniform(rng, 0.3, 0.6);
        world.add_body(&top);
        for (sx, sz) in [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)] {
            let leg = ShapeDesc::Cylinder {
                half_height: (TOP - 0.08) * 0.5,
                radius: 0.04,
            };
            world.add_body(&BodyDesc::new(
                BodyKind::Fixed,
                leg,
                [
                    sx * (half[0] - 0.08),
                    (TOP - 0.08) * 0.5,
                    sz * (half[1] - 0.08),
                ],
                table_color,
            ));
        }

        let n = if block {
            1
        } else {
            rng.random_range(3..=6usize)
        };
        let mut slots = [None; 7];
        let mut objects = Vec::with_capacity(n);
        // The pusher starts near the front edge; objects keep clear of it.
        let (px, pz) = (uniform(rng, -half[0] * 0.6, half[0] * 0.6), half[1] - 0.12);
        let mut placed: Vec<([f32; 2], f32)> = vec![([px, pz], 0.1)];
        for slot in slots.iter_mut().take(n) {
            let shape = if block {
                ShapeDesc::Cuboid {
                    half: [uniform(rng, 0.1, 0.13), 0.05, uniform(rng, 0.05, 0.07)],
                }
            } else {
                random_shape(rng, 0.07, 0.12)
            };
            let r = shape_radius(&shape);
            // Rejection sampling for a free spot. A crowded table may have none left: then the
            // episode has fewer objects (at least three always fit).
            let Some(xz) = (0..200).find_map(|_| {
                let p = [
                    uniform(rng, -half[0] + r + 0.05, half[0] - r - 0.05),
                    uniform(rng, -half[1] + r + 0.05, half[1] - r - 0.05),
                ];
                placed
                    .iter()
                    .all(|(q, rq)| (p[0] - q[0]).hypot(p[1] - q[1]) > r + rq + 0.05)
                    .then_some(p)
            }) else {
                break;
            };
            placed.push((xz, r));
            let mut desc = BodyDesc::new(
                BodyKind::Dynamic,
                shape,
                [xz[0], TOP + shape.half_height(), xz[1]],
                random_color(rng),
            );
            desc.density = uniform(rng, 300.0, 1200.0);
            desc.friction = uniform(rng, 0.3, 0.7);
            let id = world.add_body(&desc);
            *slot = Some(id);
            objects.push(id);
        }
        let pusher = pusher(&mut world, px, TOP, pz);
        slots[6] = Some(pusher);
        let margin = 0.15;
        (
            world,
            Self {
                slots,
                off: vec![false; objects.len()],
                objects,
                pusher,
                half,
                lo: [-half[0] - margin, -half[1] - margin],
                hi: [half[0] + margin, half[1] + margin],
            },
        )
    }

    /// A table with one rectangular block and the pusher (for the block-pushing task).
    pub fn build_block(rng: &mut ChaCha8Rng) -> (World, Self) {
        Self::build_with(rng, true)
    }

    /// Whether a body is off the table: below its top, or outside its footprint.
    pub fn is_off(&self, world: &World, id: BodyId) -> bool {
        let p = world.position(id);
        p[1] < TOP - 0.05 || p[0].abs() > self.half[0] || p[2].abs() > self.half[1]
    }
}

impl Scene for TableClearing {
    fn spec() -> &'static SceneSpec {
        &SPEC
    }

    fn camera() -> Camera {
        Camera::new(
            [0.0, 2.5, 2.0],
            [0.0, 0.5, 0.0],
            52.0,
            Rgb::new(0.09, 0.08, 0.12),
        )
    }

    fn build(rng: &mut ChaCha8Rng) -> (World, Self) {
        Self::build_with(rng, false)
    }

    fn slots(&self) -> &[Option<BodyId>] {
        &self.slots
    }

    fn drive(&mut self, world: &mut World, action: &[f32], _frame: u64) {
        drive_pusher(world, self.pusher, action, self.lo, self.hi);
    }

    fn outcome(&mut self, world: &World) -> Outcome {
        let mut reward = 0.0;
        for k in 0..self.objects.len() {
            if !self.off[k] && self.is_off(world, self.objects[k]) {
                self.off[k] = true;
                reward += 1.0;
            }
        }
        Outcome {
            reward,
            terminated: self.off.iter().all(|&o| o),
        }
    }

    fn pusher(&self) -> Option<BodyId> {
        Some(self.pusher)
    }

    fn exploration_target(&self, world: &World) -> Option<[f32; 2]> {
        let p = world.position(self.pusher);
        self.objects
            .iter()
            .zip(&self.off)
            .filter(|(_, off)| !**off)
            .map(|(&id, _)| world.position(id))
            .min_by(|a, b| {
                let da = (a[0] - p[0]).hypot(a[2] - p[2]);
                let db = (b[0] - p[0]).hypot(b[2] - p[2]);
                da.total_cmp(&db)
            })
            .map(|q| [q[0], q[2]])
    }
}

/// Radius of the shape's footprint on the table.
fn shape_radius(shape: &ShapeDesc) -> f32 {
    match *shape {
        ShapeDesc::Ball { radius } | ShapeDesc::Cylinder { radius, .. } => radius,
        ShapeDesc::Cuboid { half } => half[0].hypot(half[2]),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn every_table_holds_three_to_six_objects_resting_apart() {
        let mut counts = [0usize; 7];
        for seed in 0..300 {
            let (world, scene) = TableClearing::build(&mut ChaCha8Rng::seed_from_u64(seed));
            let n = scene.objects.len();
            assert!((3..=6).contains(&n), "seed {seed}: {n} objects");
            counts[n] += 1;
            for &id in &scene.objects {
                let p = world.position(id);
                assert!(
                    !scene.is_off(&world, id),
                    "seed {seed}: object starts off the table"
                );
                assert!((p[1] - TOP - world.shape(id).half_height()).abs() < 1e-6);
            }
        }
        // Every count from three to six occurs.
        assert!(counts[3..=6].iter().all(|&c| c > 0), "{counts:?}");
    }
}
