//! Matched quadruplets for the dynamics properties: gravity and support on `cart_platform`;
//! solidity, inertia and collision on `collision`.
//!
//! Two worlds A and B differ in one cause: where a bridge, a block or a deflector stands (in the
//! moving body's lane in A, just behind it in B, so that both worlds show it), whether a ledge
//! is there, whether the striker is launched; everything else comes from one seed. A and B run
//! in the simulation and are the possible movies. The impossible ones are made in the
//! simulation too, by posing: C is A's world with the moving body replaying B's recorded
//! trajectory, D is B's world replaying A's, every other body as in its own world. So {C, D}
//! shows exactly the trajectories of {A, B}, each once in a world where it is possible and once
//! where it is not, and C and D are A and B bit for bit up to the violation frame (where the two
//! trajectories first part).
//!
//! Where the moving body meets the cause, a screen hides it, as IntPhys hides its splices; the
//! cause shows beside or above the screen, and the outcome after it. Every set is checked to
//! hold this exactly: each pixel of C shows, frame after frame, what that pixel shows in A or in
//! B, and the same pixel of D what it shows in the other. A physics-blind statistic summed over
//! pixels (brightness, coloured pixels, change from the last context frame) therefore totals
//! the same over {C, D} as over {A, B} and ties; only knowing what the cause does tells them
//! apart.
//!
//! | property | A (cause acts) | B (cause does not) | C: A's world, B's motion | D: B's world, A's motion |
//! |---|---|---|---|---|
//! | gravity | a bridge continues the platform: the cart stays up | the bridge is behind the lane: the cart falls off the end | falls through the bridge | stays up in the air |
//! | support | a ledge below the edge catches the falling cart | no ledge: it falls to the floor | falls through the ledge | stops in mid-air |
//! | solidity | a block across the lane: the body comes back | the block is behind the lane: it comes out beyond | passes through the block | comes back from nothing |
//! | inertia | a deflector turns the body away | the deflector is behind the lane: it comes out beyond | passes straight through the deflector | turns away at nothing |
//! | collision | the striker hits the resting target, which comes out | the striker stays put: so does the target | struck, the target stays put | unstruck, it moves off |

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::record::{Recording, identical_stretch, record};
use super::{Kind, Member, Motion, Property, SetRequest, VoeSet};
use crate::camera::Camera;
use crate::color::{random_color, random_grey};
use crate::env::{Environment, Scene, SceneEnv};
use crate::episode::Episode;
use crate::error::{Result, SimError};
use crate::movie_bodies::MovieBodies;
use crate::scene::cart_platform::CartPlatform;
use crate::scene::collision::{Collision, CollisionLayout};
use crate::scene::parts::{PUSHER_RADIUS, uniform};
use crate::world::{BodyDesc, BodyKind, STATE_DIM, ShapeDesc, World};

/// Worlds drawn before giving up on a request (each draw is accepted far more often than not;
/// the suite's tests build 500 seeds of every cell).
const MAX_TRIES: usize = 200;
/// Frames of context before the violation.
const MIN_BEFORE: usize = 8;
/// Frames after the violation the movie must still show.
const MIN_AFTER: usize = 12;
/// How far apart (metres) the two trajectories must end: the difference must show.
const MIN_PARTING: f32 = 0.2;
/// Pusher velocity of the cart sets: straight at the cart, towards the edge.
const PUSH: [f32; 2] = [1.2, 0.0];
/// Half the thickness of the screens, metres.
const SCREEN_HALF_Z: f32 = 0.03;
/// Seconds per frame.
const FRAME_DT: f32 = crate::world::DT * crate::env::SUBSTEPS as f32;

/// Which of the two worlds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// The world with the cause.
    A,
    /// The world without it.
    B,
}

/// Builds a matched quadruplet.
pub(super) fn build(req: &SetRequest) -> Result<VoeSet> {
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    for _ in 0..MAX_TRIES {
        let made = match req.property {
            Property::Gravity | Property::Support => cart(req, &mut rng)?,
            _ => collision(req, &mut rng)?,
        };
        if let Some(set) = made {
            return Ok(set);
        }
    }
    Err(SimError::OutOfRange {
        what: "VoE set",
        value: format!("{} {} seed {}", req.property, req.condition, req.seed),
        expected: format!(
            "a world showing the event within {MAX_TRIES} draws at {} frames (try more frames)",
            req.frames
        ),
    })
}

/// A screen standing on the floor at depth `z`, hiding from `camera` the stretch `x0..x1` of
/// the plane z = `lane` up to height `y` there (the camera sees over it beyond).
fn screen(
    camera: &Camera,
    lane: f32,
    z: f32,
    x0: f32,
    x1: f32,
    y: f32,
    color: crate::color::Rgb,
) -> BodyDesc {
    let eye = camera.eye;
    // Where the line from the eye to a point of the lane crosses the screen's plane.
    let along = (eye[2] - z) / (eye[2] - lane);
    let at = |x: f32| eye[0] + (x - eye[0]) * along;
    let height = eye[1] + (y - eye[1]) * along;
    let (a, b) = (at(x0), at(x1));
    BodyDesc::new(
        BodyKind::Fixed,
        ShapeDesc::Cuboid {
            half: [0.5 * (b - a), 0.5 * height, SCREEN_HALF_Z],
        },
        [0.5 * (a + b), 0.5 * height, z],
        color,
    )
}

/// Gravity (a bridge continuing the platform) and support (a ledge below the edge). The cart
/// is pushed just past the edge; the screen hides the edge and whatever is under the cart
/// there, and shows the cart's upper part while it stays up.
fn cart(req: &SetRequest, rng: &mut ChaCha8Rng) -> Result<Option<VoeSet>> {
    let world_seed = rng.random::<u64>();
    let (world, scene) = CartPlatform::build(&mut ChaCha8Rng::seed_from_u64(world_seed));
    let (edge, top, cart) = (scene.edge(), scene.top(), scene.cart());
    let pusher = scene.pusher().expect("the cart scene has a pusher");
    let half = match world.shape(cart) {
        ShapeDesc::Cuboid { half } => half,
        _ => unreachable!("the cart is a box"),
    };
    let platform_z = match world.shape(scene.platform()) {
        ShapeDesc::Cuboid { half } => half[2],
        _ => unreachable!("the platform is a box"),
    };
    // The cart starts with the pusher against it, its front some frames of pushing short of
    // the edge (fewer for support: the cart still has to fall to the ledge), so that the event
    // comes after some context whatever the movie's length.
    let step = PUSH[0] * FRAME_DT;
    let lead = if req.property == Property::Gravity {
        uniform(rng, 8.0, 16.0)
    } else {
        uniform(rng, 3.0, 9.0)
    };
    let mut cart_pose = world
        .body_state(cart)
        .first_chunk::<7>()
        .copied()
        .expect("a state starts with a pose");
    cart_pose[0] = edge - half[0] - lead * step;
    let mut pusher_pose = world
        .body_state(pusher)
        .first_chunk::<7>()
        .copied()
        .expect("a state starts with a pose");
    pusher_pose[0] = cart_pose[0] - half[0] - PUSHER_RADIUS - 0.01;
    pusher_pose[2] = cart_pose[2];
    let lane = cart_pose[2];
    let build = move || {
        let (mut world, scene) = CartPlatform::build(&mut ChaCha8Rng::seed_from_u64(world_seed));
        world.set_pose(cart, cart_pose);
        world.set_pose(pusher, pusher_pose);
        (world, scene)
    };
    // Push until the cart's centre is past the edge by a little more than its half length:
    // wholly over the bridge or ledge, or wholly off the platform.
    let goal = edge + half[0] + uniform(rng, 0.03, 0.1);
    let push_frames = ((goal - cart_pose[0]) / step).ceil() as usize;
    // The rest height of the cart's bottom: on the bridge, or on the ledge.
    let base = if req.property == Property::Gravity {
        top
    } else {
        top - uniform(rng, 0.45, 0.6)
    };
    const THICK: f32 = 0.05;
    let len = uniform(rng, 0.9, 1.1);
    let plank_half_z = half[2] + uniform(rng, 0.04, 0.08);
    let plank = |z: f32, color| {
        BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [len, THICK, plank_half_z],
            },
            [edge + len, base - THICK, z],
            color,
        )
    };
    // Darker than the floor it is seen against.
    let color = random_grey(rng, 0.12, 0.25);
    // In A under the cart's lane. For gravity, B has the same bridge just behind the lane, where
    // it holds nothing, so that both worlds show a bridge and what tells them apart is where it
    // is (an untrained network's surprise depends on what else is in the picture; with the
    // bridge in one world only it tells the sets apart far more often). A ledge behind the lane
    // would show above the screen beside the cart; support's B has none.
    let in_lane = plank(lane, color);
    let behind = (req.property == Property::Gravity).then(|| {
        plank(
            lane - half[2] - plank_half_z - uniform(rng, 0.05, 0.12),
            color,
        )
    });
    // The screen hides the lane from a little before the edge to past where the cart stops,
    // up to part-way up the cart at rest: what shows above it is the cart staying up.
    let shown = base + 2.0 * half[1] * uniform(rng, 0.35, 0.6);
    let blind = screen(
        &<CartPlatform as Scene>::camera(),
        lane,
        platform_z + uniform(rng, 0.15, 0.3),
        edge - uniform(rng, 0.15, 0.3),
        goal + half[0] + uniform(rng, 0.5, 0.65),
        shown,
        random_color(rng),
    );
    let make = |side: Side| {
        let (mut world, scene) = build();
        world.add_body(&blind);
        match (side, &behind) {
            (Side::A, _) => {
                world.add_body(&in_lane);
            }
            (Side::B, Some(decoy)) => {
                world.add_body(decoy);
            }
            (Side::B, None) => {}
        }
        (world, scene)
    };
    let act = move |t: usize| {
        if t < push_frames {
            PUSH.to_vec()
        } else {
            vec![0.0; 2]
        }
    };
    quadruplet(req, &make, &[0], &act)
}

/// Solidity (a panel across the lane), inertia (a deflector at 45 degrees) and collision (a
/// resting target, and a striker launched at it or not). The screen hides where the moving
/// body meets the cause; the cause stands taller than the screen.
fn collision(req: &SetRequest, rng: &mut ChaCha8Rng) -> Result<Option<VoeSet>> {
    let mut layout = CollisionLayout::sample(&mut ChaCha8Rng::seed_from_u64(rng.random()));
    let two = req.property == Property::Collision;
    layout.bodies.truncate(if two { 2 } else { 1 });
    let r0 = layout.bodies[0].shape.half_width();
    let h0 = layout.bodies[0].shape.half_height();
    let [_, _, lane] = layout.bodies[0].position;
    let speed = layout.bodies[0].linvel[0];
    // The moving body's front meets the cause (or the target) at x = `meet` about frame `at`,
    // after some context, leaving time to see what follows.
    let lo = MIN_BEFORE + 3;
    let hi = req.frames.saturating_sub(MIN_AFTER + 6).max(lo + 1);
    let at = rng.random_range(lo..hi) as f32;
    let meet = uniform(rng, 0.0, 0.6);
    layout.bodies[0].position[0] = meet - r0 - speed * at * FRAME_DT;
    const CAUSE_HALF_Y: f32 = 0.6;
    // Lighter than the dark backdrop its top is seen against.
    let grey = random_grey(rng, 0.6, 0.85);
    let mut b_layout = layout.clone();
    let (swapped, far): (&[usize], f32) = match req.property {
        Property::Solidity => {
            let half_z = r0 + uniform(rng, 0.12, 0.2);
            let panel = BodyDesc::new(
                BodyKind::Fixed,
                ShapeDesc::Cuboid {
                    half: [0.15, CAUSE_HALF_Y, half_z],
                },
                [meet + 0.15, CAUSE_HALF_Y, lane],
                grey,
            );
            // In B the same block stands just behind the lane, where nothing meets it.
            let mut decoy = panel.clone();
            decoy.position[2] -= r0 + half_z + uniform(rng, 0.1, 0.2);
            layout.extra.push(panel);
            b_layout.extra.push(decoy);
            (&[0], meet + 0.3)
        }
        Property::Inertia => {
            let half = [0.1, CAUSE_HALF_Y, uniform(rng, 0.45, 0.55)];
            let mut deflector = BodyDesc::new(
                BodyKind::Fixed,
                ShapeDesc::Cuboid { half },
                [meet + 0.15, CAUSE_HALF_Y, lane],
                grey,
            );
            // Turned so that it sends the body away from the camera (-z).
            deflector.rotation = [0.0, -std::f32::consts::FRAC_PI_4, 0.0];
            // In B the same deflector stands just behind the lane, clear of the body's path.
            let mut decoy = deflector.clone();
            let reach_z = (half[0] + half[2]) * std::f32::consts::FRAC_1_SQRT_2;
            decoy.position[2] -= r0 + reach_z + uniform(rng, 0.1, 0.2);
            layout.extra.push(deflector);
            b_layout.extra.push(decoy);
            (&[0], meet + 0.5)
        }
        _ => {
            // A heavier target at rest: the striker comes back from it.
            let r1 = layout.bodies[1].shape.half_width();
            let density = layout.bodies[0].density * uniform(rng, 1.3, 2.5);
            let target = &mut layout.bodies[1];
            target.position = [meet + r1, target.shape.half_height(), lane];
            target.linvel = [0.0; 3];
            target.angvel = [0.0; 3];
            target.density = density;
            b_layout = layout.clone();
            b_layout.bodies[0].linvel = [0.0; 3];
            b_layout.bodies[0].angvel = [0.0; 3];
            (&[1], meet + 2.0 * r1)
        }
    };
    // The screen hides the lane around the meeting point, a body's height and more: the
    // moving body vanishes behind it and comes out (or not) beside it.
    let blind = screen(
        &<Collision as Scene>::camera(),
        lane,
        lane + uniform(rng, 0.7, 0.9),
        meet - 2.0 * r0 - uniform(rng, 0.05, 0.15),
        far + uniform(rng, 0.05, 0.15),
        2.0 * h0.max(0.42) + uniform(rng, 0.05, 0.15),
        random_color(rng),
    );
    // The cause stands taller than the screen's shadow on the lane.
    if req.property != Property::Collision
        && 2.0 * CAUSE_HALF_Y < blind_top_on_lane(&blind, lane) + 0.1
    {
        return Ok(None);
    }
    layout.extra.insert(0, blind.clone());
    b_layout.extra.insert(0, blind);
    let make = |side: Side| match side {
        Side::A => Collision::from_layout(&layout),
        Side::B => Collision::from_layout(&b_layout),
    };
    quadruplet(req, &make, swapped, &|_| Vec::new())
}

/// The height up to which the screen hides the lane.
fn blind_top_on_lane(blind: &BodyDesc, lane: f32) -> f32 {
    let eye = <Collision as Scene>::camera().eye;
    let top = 2.0 * blind.shape.half_height();
    let z = blind.position[2];
    eye[1] + (top - eye[1]) * (eye[2] - lane) / (eye[2] - z)
}

/// The quadruplet of two worlds, if their movies show the event as designed. `swapped` are the
/// slots of the bodies whose motion C and D exchange; `act` gives the action of each frame.
fn quadruplet<S: Scene>(
    req: &SetRequest,
    make: &dyn Fn(Side) -> (World, S),
    swapped: &[usize],
    act: &dyn Fn(usize) -> Vec<f32>,
) -> Result<Option<VoeSet>> {
    let run = |side: Side| -> Result<Recording> {
        let (world, scene) = make(side);
        let watch = scene.slots()[swapped[0]];
        let mut env = SceneEnv::from_world(req.size, world, scene)?;
        record(&mut env, req.frames, watch, |t, _| act(t))
    };
    let (a, b) = (run(Side::A)?, run(Side::B)?);
    let frames = req.frames;
    let slots = S::spec().slots.len();
    let state = |r: &Recording, t: usize, slot: usize| -> [f32; STATE_DIM] {
        let at = (t * slots + slot) * STATE_DIM;
        r.episode.states[at..at + STATE_DIM]
            .try_into()
            .expect("a state row")
    };
    let parted = |t: usize| {
        swapped.iter().any(|&k| {
            let (x, y) = (state(&a, t, k), state(&b, t, k));
            x.iter().zip(&y).any(|(p, q)| p.to_bits() != q.to_bits())
        })
    };
    let Some(v) = (0..frames).find(|&t| parted(t)) else {
        return Ok(None);
    };
    let last = frames - 1;
    let parting = swapped
        .iter()
        .map(|&k| {
            let (x, y) = (state(&a, last, k), state(&b, last, k));
            (0..3).map(|i| (x[i] - y[i]).powi(2)).sum::<f32>().sqrt()
        })
        .fold(0.0f32, f32::max);
    let frame_len = a.episode.frames.len() / frames;
    fn frame(r: &Recording, t: usize, len: usize) -> &[u8] {
        &r.episode.frames[t * len..(t + 1) * len]
    }
    // The worlds differ in view before the violation (the cause shows), the body shows after it
    // in one of them (the outcome shows), and the trajectories end apart.
    let peak = a
        .visible
        .iter()
        .chain(&b.visible)
        .copied()
        .max()
        .unwrap_or(0);
    let outcome_shows = (v..frames).any(|t| a.visible[t].max(b.visible[t]) * 2 >= peak);
    let cause_shows = (0..v).any(|t| {
        frame(&a, t, frame_len)
            .chunks_exact(3)
            .zip(frame(&b, t, frame_len).chunks_exact(3))
            .filter(|(p, q)| p != q)
            .count()
            >= 4
    });
    if v < MIN_BEFORE
        || v + MIN_AFTER > frames
        || parting.is_nan()
        || parting < MIN_PARTING
        || peak == 0
        || !outcome_shows
        || !cause_shows
    {
        return Ok(None);
    }
    let movie = |world: Side, motion: Side| -> Result<(Episode, MovieBodies)> {
        let (own, other) = match world {
            Side::A => (&a, &b),
            Side::B => (&b, &a),
        };
        let follows = if world == motion { own } else { other };
        posed(req, make(world), swapped, own, follows)
    };
    let (ea, sa) = movie(Side::A, Side::A)?;
    let (eb, sb) = movie(Side::B, Side::B)?;
    let (ec, sc) = movie(Side::A, Side::B)?;
    let (ed, sd) = movie(Side::B, Side::A)?;
    if !pixels_matched(&ea.frames, &eb.frames, &ec.frames, &ed.frames, frames) {
        return Ok(None);
    }
    // The run of frames around the violation on which A and B are the same picture, measured
    // as for the spliced sets: 0 where the worlds differ in view (nearly always), longer for the
    // few collision sets whose resting striker is out of the picture while the launched one is
    // behind the screen.
    let same = |t: usize| {
        ea.frames[t * frame_len..(t + 1) * frame_len]
            == eb.frames[t * frame_len..(t + 1) * frame_len]
    };
    let occlusion_frames = identical_stretch(v, frames, same);
    let member = |possible, motion, episode, bodies| Member {
        possible,
        motion,
        episode,
        bodies,
    };
    Ok(Some(VoeSet {
        request: *req,
        kind: Kind::Quadruplet,
        violation_frame: v,
        occlusion_frames,
        object_share: a.mean_share(),
        members: vec![
            member(true, Motion::A, ea, sa),
            member(true, Motion::B, eb, sb),
            member(false, Motion::B, ec, sc),
            member(false, Motion::A, ed, sd),
        ],
    }))
}

/// Whether every pixel of C shows, in every frame, what it shows in A, and the same pixel of D
/// what it shows in B, or the other way round: {C, D} shows pixel by pixel the movies of
/// {A, B}, so that any statistic summed over pixels totals the same over both.
pub(super) fn pixels_matched(a: &[u8], b: &[u8], c: &[u8], d: &[u8], frames: usize) -> bool {
    let frame_len = a.len() / frames;
    (0..frame_len / 3).all(|p| {
        let same = |x: &[u8], y: &[u8]| {
            (0..frames).all(|t| {
                let at = t * frame_len + p * 3;
                x[at..at + 3] == y[at..at + 3]
            })
        };
        (same(c, a) && same(d, b)) || (same(c, b) && same(d, a))
    })
}

/// Renders a world whose moving bodies are posed frame by frame: the `swapped` slots' bodies as
/// in `follows`, every other moving body as in `own` (the recording of this world). The
/// movie's states, actions and slots come from the same recordings, so a posed movie holds
/// exactly the trajectories it shows.
fn posed<S: Scene>(
    req: &SetRequest,
    (world, scene): (World, S),
    swapped: &[usize],
    own: &Recording,
    follows: &Recording,
) -> Result<(Episode, MovieBodies)> {
    let slots = S::spec().slots.len();
    let swapped_ids: Vec<_> = swapped
        .iter()
        .map(|&k| scene.slots()[k].expect("a swapped slot holds a body"))
        .collect();
    let mut env = SceneEnv::from_world(req.size, world, scene)?;
    let moving: Vec<_> = env
        .world()
        .body_ids()
        .filter(|&id| env.world().kind(id) != BodyKind::Fixed)
        .collect();
    let mut bodies = MovieBodies::of_world(env.world());
    let frame_len = req.size * req.size * 3;
    let mut ep = Episode {
        frames: Vec::with_capacity(req.frames * frame_len),
        actions: own.episode.actions.clone(),
        states: Vec::with_capacity(own.episode.states.len()),
        body_mask: own.episode.body_mask.clone(),
        masks: Vec::with_capacity(own.episode.masks.len()),
    };
    for t in 0..req.frames {
        for &id in &moving {
            let from = if swapped_ids.contains(&id) {
                follows
            } else {
                own
            };
            let pose = from
                .bodies
                .pose(t, id.0 as usize)
                .expect("every body of a simulated movie has a pose in every frame");
            env.world_mut().set_pose(id, pose);
        }
        bodies.record(env.world());
        let obs = env.observe();
        ep.frames.extend_from_slice(&obs.frame.data);
        ep.masks.extend_from_slice(&obs.mask);
        for k in 0..slots {
            let from = if swapped.contains(&k) { follows } else { own };
            let at = (t * slots + k) * STATE_DIM;
            ep.states
                .extend_from_slice(&from.episode.states[at..at + STATE_DIM]);
        }
    }
    Ok((ep, bodies))
}
