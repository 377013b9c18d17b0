//! `collision`: two or three balls and boxes of different sizes and masses roll and slide into
//! each other and into a wall. Nothing passes through anything; momentum is exchanged.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::SceneSpec;
use super::parts::{floor, uniform};
use crate::camera::Camera;
use crate::color::{Rgb, random_color, random_grey};
use crate::env::{Outcome, Scene};
use crate::world::{BodyDesc, BodyId, BodyKind, ShapeDesc, World};

/// The registry entry of this scene.
pub static SPEC: SceneSpec = SceneSpec {
    name: "collision",
    description: "balls and boxes of different masses roll into each other and into a wall (solidity, inertia)",
    action_dim: 0,
    max_action: 0.0,
    slots: &["body0", "body1", "body2"],
    max_steps: 300,
    extent: 12.0,
    max_speed: 60.0,
    make: super::make::<Collision>,
};

/// The scene's state beyond the world.
pub struct Collision {
    slots: [Option<BodyId>; 3],
}

impl Scene for Collision {
    fn spec() -> &'static SceneSpec {
        &SPEC
    }

    fn camera() -> Camera {
        Camera::new(
            [0.3, 1.6, 4.8],
            [0.3, 0.3, 0.0],
            44.0,
            Rgb::new(0.1, 0.11, 0.15),
        )
    }

    fn build(rng: &mut ChaCha8Rng) -> (World, Self) {
        let mut world = World::new();
        floor(&mut world, rng, 8.0, 4.0, 0.5);
        let wall_x = uniform(rng, 2.0, 2.5);
        world.add_body(&BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [0.1, 0.5, 1.2],
            },
            [wall_x + 0.1, 0.5, 0.0],
            random_grey(rng, 0.3, 0.5),
        ));

        let n = rng.random_range(2..=3usize);
        let mut slots = [None; 3];
        // Bodies start spread along x on nearly the same lane, the first one moving right fastest.
        for (k, slot) in slots.iter_mut().take(n).enumerate() {
            let shape = if rng.random_bool(0.7) {
                ShapeDesc::Ball {
                    radius: uniform(rng, 0.12, 0.25),
                }
            } else {
                let h = uniform(rng, 0.1, 0.2);
                ShapeDesc::Cuboid { half: [h, h, h] }
            };
            let x = -1.5 + 1.2 * k as f32 + uniform(rng, -0.15, 0.15);
            let mut desc = BodyDesc::new(
                BodyKind::Dynamic,
                shape,
                [x, shape.half_height(), uniform(rng, -0.08, 0.08)],
                random_color(rng),
            );
            let speed = if k == 0 {
                uniform(rng, 2.0, 3.5)
            } else {
                uniform(rng, -0.5, 0.5)
            };
            desc.linvel = [speed, 0.0, 0.0];
            if let ShapeDesc::Ball { radius } = shape {
                // Rolling without slipping from the start.
                desc.angvel = [0.0, 0.0, -speed / radius];
            }
            desc.density = uniform(rng, 200.0, 3000.0);
            // Balls roll; boxes slide, so they get little friction to reach the others.
            desc.friction = match shape {
                ShapeDesc::Ball { .. } => uniform(rng, 0.2, 0.5),
                _ => uniform(rng, 0.02, 0.08),
            };
            desc.restitution = uniform(rng, 0.2, 0.8);
            *slot = Some(world.add_body(&desc));
        }
        (world, Self { slots })
    }

    fn slots(&self) -> &[Option<BodyId>] {
        &self.slots
    }

    fn drive(&mut self, _world: &mut World, _action: &[f32], _frame: u64) {}

    fn outcome(&mut self, _world: &World) -> Outcome {
        Outcome::default()
    }
}
