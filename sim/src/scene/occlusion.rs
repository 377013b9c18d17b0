//! `occlusion`: objects slide across the view behind one or two screens. Screens may stand still,
//! sink into the floor or rise out of it (as in IntPhys), so that objects are hidden for a while
//! and then seen again.
//!
//! A world is built from an [`OcclusionLayout`], which the scene samples from its seed; the VoE
//! suite edits layouts (drop an object, swap its shape or colour, shift it) to make the possible
//! movies of its quadruplets.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::parts::{floor_colored, sign, uniform};
use crate::camera::Camera;
use crate::color::{Rgb, random_color, random_grey};
use crate::env::{Outcome, SUBSTEPS, Scene, SceneSpec, make_env};
use crate::world::{BodyDesc, BodyId, BodyKind, DT, ShapeDesc, World};

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
    make: make_env::<Occlusion>,
};

/// Speed of a moving screen, m/s.
const SCREEN_SPEED: f32 = 1.2;

/// Depth (z) of the screens' plane, between the camera and the objects' lanes.
pub const SCREEN_Z: f32 = 0.55;

/// How a screen moves during the episode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScreenMotion {
    /// Stands still the whole episode.
    Still,
    /// Stands at first, then sinks below the floor from frame `start` on.
    Sinks {
        /// First frame of the motion.
        start: u64,
    },
    /// Starts below the floor, then rises from frame `start` on.
    Rises {
        /// First frame of the motion.
        start: u64,
    },
}

/// One screen of a layout.
#[derive(Clone, Debug, PartialEq)]
pub struct ScreenLayout {
    /// Centre x.
    pub x: f32,
    /// Half extents (x, y, z).
    pub half: [f32; 3],
    /// Colour.
    pub color: Rgb,
    /// How it moves.
    pub motion: ScreenMotion,
}

/// One moving object of a layout.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectLayout {
    /// Shape.
    pub shape: ShapeDesc,
    /// Colour.
    pub color: Rgb,
    /// Initial position of the centre.
    pub position: [f32; 3],
    /// Initial velocity.
    pub velocity: [f32; 3],
    /// Density, kg/m^3.
    pub density: f32,
}

/// Everything that makes one `occlusion` world.
#[derive(Clone, Debug, PartialEq)]
pub struct OcclusionLayout {
    /// Floor colour.
    pub floor: Rgb,
    /// Back wall colour.
    pub wall: Rgb,
    /// One or two screens (slots `screen0`, `screen1`).
    pub screens: Vec<ScreenLayout>,
    /// Up to three objects (slots `object0..2`).
    pub objects: Vec<ObjectLayout>,
}

impl OcclusionLayout {
    /// A random layout: one to three objects on separate lanes, one or two screens.
    pub fn sample(rng: &mut ChaCha8Rng) -> Self {
        let floor = random_grey(rng, 0.45, 0.7);
        let wall = random_grey(rng, 0.2, 0.35);
        let n_screens = rng.random_range(1..=2usize);
        let mut screens = Vec::with_capacity(n_screens);
        for k in 0..n_screens {
            let x = if n_screens == 1 {
                uniform(rng, -0.4, 0.4)
            } else {
                (k as f32 - 0.5) * uniform(rng, 1.5, 2.0)
            };
            let half = [uniform(rng, 0.3, 0.55), uniform(rng, 0.45, 0.65), 0.03];
            let motion = match rng.random_range(0..4u32) {
                0 => ScreenMotion::Sinks {
                    start: rng.random_range(20..60),
                },
                1 => ScreenMotion::Rises {
                    start: rng.random_range(0..20),
                },
                _ => ScreenMotion::Still,
            };
            screens.push(ScreenLayout {
                x,
                half,
                color: random_color(rng),
                motion,
            });
        }
        let n_objects = rng.random_range(1..=3usize);
        let objects = (0..n_objects)
            .map(|lane| {
                let mut o = ObjectLayout::sample(rng, lane);
                if rng.random_bool(0.25) {
                    // A toss: starts higher, moving up, and lands while crossing.
                    o.position[1] += uniform(rng, 0.2, 0.5);
                    o.velocity[1] = uniform(rng, 1.0, 2.5);
                }
                o
            })
            .collect();
        Self {
            floor,
            wall,
            screens,
            objects,
        }
    }
}

impl ObjectLayout {
    /// An object on lane `lane` (0 nearest the screens), starting off screen on a random side and
    /// sliding across at a random speed.
    pub fn sample(rng: &mut ChaCha8Rng, lane: usize) -> Self {
        let shape = object_shape(rng.random_range(0..3u32), uniform(rng, 0.25, 0.42));
        let side = sign(rng);
        let z = -0.1 - 0.85 * lane as f32 + uniform(rng, -0.04, 0.04);
        Self {
            shape,
            color: random_color(rng),
            position: [side * uniform(rng, 2.3, 2.8), shape.half_height(), z],
            velocity: [-side * uniform(rng, 1.2, 2.6), 0.0, 0.0],
            density: uniform(rng, 300.0, 1500.0),
        }
    }
}

/// Shape `kind` (0 ball, 1 cube, 2 cylinder) whose centre sits `half` above the floor: shapes of
/// one `half` slide along the same trajectory, which the shape-constancy sets rely on.
pub fn object_shape(kind: u32, half: f32) -> ShapeDesc {
    match kind % 3 {
        0 => ShapeDesc::Ball { radius: half },
        1 => ShapeDesc::Cuboid {
            half: [half * 0.9, half, half * 0.9],
        },
        _ => ShapeDesc::Cylinder {
            half_height: half,
            radius: half * 0.85,
        },
    }
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

/// The scene's state beyond the world.
pub struct Occlusion {
    slots: [Option<BodyId>; 5],
    screens: Vec<Screen>,
}

impl Occlusion {
    /// Builds the world of a layout.
    pub fn from_layout(layout: &OcclusionLayout) -> (World, Self) {
        let mut world = World::new();
        // Frictionless floor and objects: objects slide at constant speed, as in IntPhys.
        floor_colored(&mut world, layout.floor, 8.0, 4.0, 0.0);
        world.add_body(&BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [8.0, 2.5, 0.1],
            },
            [0.0, 2.5, -2.6],
            layout.wall,
        ));
        let mut slots = [None; 5];
        let mut screens = Vec::with_capacity(layout.screens.len());
        for (k, s) in layout.screens.iter().take(2).enumerate() {
            let (up, down) = (s.half[1], -s.half[1] - 0.05);
            let y = if matches!(s.motion, ScreenMotion::Rises { .. }) {
                down
            } else {
                up
            };
            let id = world.add_body(&BodyDesc::new(
                BodyKind::Kinematic,
                ShapeDesc::Cuboid { half: s.half },
                [s.x, y, SCREEN_Z],
                s.color,
            ));
            slots[3 + k] = Some(id);
            screens.push(Screen {
                id,
                motion: s.motion,
                up,
                down,
            });
        }
        for (k, o) in layout.objects.iter().take(3).enumerate() {
            let mut desc = BodyDesc::new(BodyKind::Dynamic, o.shape, o.position, o.color);
            desc.linvel = o.velocity;
            desc.friction = 0.0;
            desc.density = o.density;
            slots[k] = Some(world.add_body(&desc));
        }
        (world, Self { slots, screens })
    }
}

impl Scene for Occlusion {
    fn spec() -> &'static SceneSpec {
        &SPEC
    }

    fn camera() -> Camera {
        Camera::new(
            [0.0, 1.0, 2.9],
            [0.0, 0.42, 0.0],
            50.0,
            Rgb::new(0.1, 0.1, 0.16),
        )
    }

    fn build(rng: &mut ChaCha8Rng) -> (World, Self) {
        Self::from_layout(&OcclusionLayout::sample(rng))
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
