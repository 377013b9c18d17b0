//! `occlusion`: objects slide across the view behind one or two screens. Screens may stand still,
//! sink into the floor or rise out of it (as in IntPhys), so that objects are hidden for a while
//! and then seen again.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::SceneSpec;
use super::parts::{floor, random_shape, sign, uniform};
use crate::camera::Camera;
use crate::color::{Rgb, random_color, random_grey};
use crate::env::{Outcome, SUBSTEPS, Scene};
use crate::world::{BodyDesc, BodyId, BodyKind, DT, ShapeDesc, World};

/// Speed of a moving screen, m/s.
const SCREEN_SPEED: f32 = 1.2;

/// How a screen moves during the episode.
#[derive(Clone, Copy, Debug, PartialEq)]
enum ScreenMotion {
    /// Stands still the whole episode.
    Still,
    /// Stands at first, then sinks below the floor from `start` on.
    Sinks { start: u64 },
    /// Starts below the floor, then rises from `start` on.
    Rises { start: u64 },
}

#[derive(Clone, Copy, Debug)]
struct Screen {
    id: BodyId,
    motion: ScreenMotion,
    /// Centre height when standing on the floor.
    up: f32,
    /// Centre height when fully hidden below the floor.
    down: f32,
}

/// The registry entry of this scene.
pub static SPEC: SceneSpec = SceneSpec {
    name: "occlusion",
    description: "one to three objects cross the view behind one or two screens that may rise or fall (permanence, continuity, shape and colour constancy)",
    action_dim: 0,
    max_action: 0.0,
    slots: &["object0", "object1", "object2", "screen0", "screen1"],
    max_steps: 300,
    extent: 12.0,
    max_speed: 60.0,
    make: super::make::<Occlusion>,
};

/// The scene's state beyond the world.
pub struct Occlusion {
    slots: [Option<BodyId>; 5],
    screens: Vec<Screen>,
}

impl Scene for Occlusion {
    fn spec() -> &'static SceneSpec {
        &SPEC
    }

    fn camera() -> Camera {
        Camera::new(
            [0.0, 1.3, 5.2],
            [0.0, 0.45, 0.0],
            42.0,
            Rgb::new(0.1, 0.1, 0.16),
        )
    }

    fn build(rng: &mut ChaCha8Rng) -> (World, Self) {
        let mut world = World::new();
        // Frictionless floor and objects: objects slide at constant speed, as in IntPhys.
        floor(&mut world, rng, 8.0, 4.0, 0.0);
        let wall = BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [8.0, 2.5, 0.1],
            },
            [0.0, 2.5, -2.4],
            random_grey(rng, 0.2, 0.35),
        );
        world.add_body(&wall);

        let mut slots = [None; 5];
        let n_screens = rng.random_range(1..=2usize);
        let mut screens = Vec::with_capacity(n_screens);
        for k in 0..n_screens {
            let x = if n_screens == 1 {
                uniform(rng, -0.5, 0.5)
            } else {
                (k as f32 - 0.5) * uniform(rng, 1.8, 2.4)
            };
            let half = [uniform(rng, 0.35, 0.6), uniform(rng, 0.45, 0.7), 0.03];
            let motion = match rng.random_range(0..4u32) {
                0 => ScreenMotion::Sinks {
                    start: rng.random_range(20..60),
                },
                1 => ScreenMotion::Rises {
                    start: rng.random_range(0..20),
                },
                _ => ScreenMotion::Still,
            };
            let (up, down) = (half[1], -half[1] - 0.05);
            let y = if matches!(motion, ScreenMotion::Rises { .. }) {
                down
            } else {
                up
            };
            let id = world.add_body(&BodyDesc::new(
                BodyKind::Kinematic,
                ShapeDesc::Cuboid { half },
                [x, y, 0.9],
                random_color(rng),
            ));
            slots[3 + k] = Some(id);
            screens.push(Screen {
                id,
                motion,
                up,
                down,
            });
        }

        let n_objects = rng.random_range(1..=3usize);
        for (k, slot) in slots.iter_mut().take(n_objects).enumerate() {
            let shape = random_shape(rng, 0.12, 0.22);
            let side = sign(rng);
            let z = -0.2 - 0.5 * k as f32 + uniform(rng, -0.1, 0.1);
            let mut desc = BodyDesc::new(
                BodyKind::Dynamic,
                shape,
                [side * uniform(rng, 2.0, 3.2), shape.half_height(), z],
                random_color(rng),
            );
            desc.linvel = [-side * uniform(rng, 1.0, 2.4), 0.0, 0.0];
            if rng.random_bool(0.25) {
                // A toss: starts higher, moving up, and lands while crossing.
                desc.position[1] += uniform(rng, 0.2, 0.6);
                desc.linvel[1] = uniform(rng, 1.0, 3.0);
            }
            desc.friction = 0.0;
            desc.density = uniform(rng, 300.0, 1500.0);
            *slot = Some(world.add_body(&desc));
        }
        (world, Self { slots, screens })
    }

    fn slots(&self) -> &[Option<BodyId>] {
        &self.slots
    }

    fn drive(&mut self, world: &mut World, _action: &[f32], frame: u64) {
        let frame_dt = DT * SUBSTEPS as f32;
        for s in &self.screens {
            let goal = match s.motion {
                ScreenMotion::Still => s.up,
                ScreenMotion::Sinks { start } if frame >= start => s.down,
                ScreenMotion::Sinks { .. } => s.up,
                ScreenMotion::Rises { start } if frame >= start => s.up,
                ScreenMotion::Rises { .. } => s.down,
            };
            let y = world.position(s.id)[1];
            // Reach the goal exactly instead of overshooting it on the last frame.
            let vy = ((goal - y) / frame_dt).clamp(-SCREEN_SPEED, SCREEN_SPEED);
            world.set_linvel(s.id, [0.0, vy, 0.0]);
        }
    }

    fn outcome(&mut self, _world: &World) -> Outcome {
        Outcome::default()
    }
}
