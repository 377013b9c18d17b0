//! `collision`: two or three balls and boxes of different sizes and masses roll and slide into
//! each other and into a wall. Nothing passes through anything; momentum is exchanged.
//!
//! A world is built from a [`CollisionLayout`], which the scene samples from its seed; the VoE
//! suite keeps only the bodies a matched pair needs.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::parts::{floor_colored, uniform};
use crate::camera::Camera;
use crate::color::{Rgb, random_color, random_grey};
use crate::env::{Outcome, Scene, SceneSpec, make_env};
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
    make: make_env::<Collision>,
};

/// Everything that makes one `collision` world.
#[derive(Clone, Debug, PartialEq)]
pub struct CollisionLayout {
    /// Floor colour.
    pub floor: Rgb,
    /// x of the wall's face.
    pub wall_x: f32,
    /// Wall colour.
    pub wall: Rgb,
    /// The moving bodies (slots `body0..2`), as full descriptions.
    pub bodies: Vec<BodyDesc>,
    /// Fixed bodies added after the moving ones (the VoE suite's causes: a panel, a deflector),
    /// so that the moving bodies keep their ids whatever stands in their way.
    pub extra: Vec<BodyDesc>,
}

impl CollisionLayout {
    /// A random layout: bodies spread along x on nearly one lane, the first moving right fastest.
    pub fn sample(rng: &mut ChaCha8Rng) -> Self {
        let floor = random_grey(rng, 0.45, 0.7);
        let wall_x = uniform(rng, 1.7, 2.1);
        let wall = random_grey(rng, 0.3, 0.5);
        let n = rng.random_range(2..=3usize);
        let bodies = (0..n)
            .map(|k| {
                let shape = if rng.random_bool(0.7) {
                    ShapeDesc::Ball {
                        radius: uniform(rng, 0.28, 0.42),
                    }
                } else {
                    let h = uniform(rng, 0.22, 0.32);
                    ShapeDesc::Cuboid { half: [h, h, h] }
                };
                let x = -1.2 + 1.0 * k as f32 + uniform(rng, -0.1, 0.1);
                let mut desc = BodyDesc::new(
                    BodyKind::Dynamic,
                    shape,
                    [x, shape.half_height(), uniform(rng, -0.06, 0.06)],
                    random_color(rng),
                );
                let speed = if k == 0 {
                    uniform(rng, 1.8, 3.0)
                } else {
                    uniform(rng, -0.4, 0.4)
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
                desc
            })
            .collect();
        Self {
            floor,
            wall_x,
            wall,
            bodies,
            extra: Vec::new(),
        }
    }
}

/// The scene's state beyond the world.
pub struct Collision {
    slots: [Option<BodyId>; 3],
    wall: BodyId,
}

impl Collision {
    /// Builds the world of a layout.
    pub fn from_layout(layout: &CollisionLayout) -> (World, Self) {
        let mut world = World::new();
        // A slippery floor: boxes slide far (frictions combine by average), balls still roll.
        floor_colored(&mut world, layout.floor, 8.0, 4.0, 0.05);
        let wall = world.add_body(&BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [0.1, 0.5, 1.2],
            },
            [layout.wall_x + 0.1, 0.5, 0.0],
            layout.wall,
        ));
        let mut slots = [None; 3];
        for (slot, desc) in slots.iter_mut().zip(&layout.bodies) {
            *slot = Some(world.add_body(desc));
        }
        for desc in &layout.extra {
            world.add_body(desc);
        }
        (world, Self { slots, wall })
    }

    /// The wall.
    pub fn wall(&self) -> BodyId {
        self.wall
    }

    /// The body in slot `k`, if any.
    pub fn body(&self, k: usize) -> Option<BodyId> {
        self.slots.get(k).copied().flatten()
    }
}

impl Scene for Collision {
    fn spec() -> &'static SceneSpec {
        &SPEC
    }

    fn camera() -> Camera {
        Camera::new(
            [0.4, 1.2, 3.4],
            [0.4, 0.3, 0.0],
            50.0,
            Rgb::new(0.1, 0.11, 0.15),
        )
    }

    fn build(rng: &mut ChaCha8Rng) -> (World, Self) {
        Self::from_layout(&CollisionLayout::sample(rng))
    }

    fn slots(&self) -> &[Option<BodyId>] {
        &self.slots
    }

    fn drive(&mut self, _world: &mut World, _action: &[f32], _frame: u64) {}

    fn outcome(&mut self, _world: &World) -> Outcome {
        Outcome::default()
    }
}
