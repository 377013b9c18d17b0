//! The diagnostic pairs (condition `pair`, outside the headline): gravity and support on `cart_platform`; solidity, inertia and collision on
//! `collision`.
//!
//! The possible movie runs first and tells when the event happens (the cart leaves the edge, a
//! body reaches the wall). The impossible movie replays the same world bit for bit and, just
//! before that frame, changes the simulation itself: gravity off for the cart, contacts between
//! two bodies ignored, a velocity changed with nothing touching, a struck body made immovable.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::record::{Recording, record};
use super::{Kind, Member, Property, SetRequest, VoeSet};
use crate::env::{Environment, Scene, SceneEnv};
use crate::error::{Result, SimError};
use crate::scene::cart_platform::CartPlatform;
use crate::scene::collision::{Collision, CollisionLayout};
use crate::world::World;

/// Worlds drawn before giving up on a request.
const MAX_TRIES: usize = 200;
/// Frames of context before the violation.
const MIN_BEFORE: usize = 8;
/// Frames after the violation the movie must still show.
const MIN_AFTER: usize = 12;
/// Pusher velocity of the cart sets: straight at the cart and over the edge.
const PUSH: [f32; 2] = [1.2, 0.0];

/// A change made to the world before the step from frame `frame`.
type Violation = Box<dyn Fn(&mut World)>;

/// Builds a pair.
pub(super) fn build(req: &SetRequest) -> Result<VoeSet> {
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    for _ in 0..MAX_TRIES {
        let world_seed = rng.random::<u64>();
        let made = match req.property {
            Property::Gravity | Property::Support => cart_pair(req, world_seed, &mut rng)?,
            _ => collision_pair(req, world_seed, &mut rng)?,
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

/// The pair from two recordings, with the violation frame read off where their states part.
fn finish(req: &SetRequest, possible: Recording, impossible: Recording) -> Option<VoeSet> {
    let per = possible.episode.states.len() / req.frames;
    let differs = |t: usize| {
        let (a, b) = (
            &possible.episode.states[t * per..(t + 1) * per],
            &impossible.episode.states[t * per..(t + 1) * per],
        );
        a.iter().zip(b).any(|(x, y)| x.to_bits() != y.to_bits())
    };
    let v = (0..req.frames).find(|&t| differs(t))?;
    let frame_len = possible.episode.frames.len() / req.frames;
    let last = req.frames - 1;
    let last_differs = possible.episode.frames[last * frame_len..]
        != impossible.episode.frames[last * frame_len..];
    if v < MIN_BEFORE || v + MIN_AFTER > req.frames || !last_differs {
        return None;
    }
    Some(VoeSet {
        request: *req,
        kind: Kind::Pair,
        violation_frame: v,
        occlusion_frames: 0,
        object_share: possible.mean_share(),
        members: vec![
            Member {
                possible: true,
                motion: super::Motion::Own,
                episode: possible.episode,
                bodies: possible.bodies,
            },
            Member {
                possible: false,
                motion: super::Motion::Own,
                episode: impossible.episode,
                bodies: impossible.bodies,
            },
        ],
    })
}

fn cart_env(req: &SetRequest, seed: u64) -> Result<SceneEnv<CartPlatform>> {
    let (world, scene) = CartPlatform::build(&mut ChaCha8Rng::seed_from_u64(seed));
    SceneEnv::from_world(req.size, world, scene)
}

/// Gravity: the cart floats on once past the edge. Support: the cart sinks through the platform
/// while it stands on it.
fn cart_pair(req: &SetRequest, seed: u64, rng: &mut ChaCha8Rng) -> Result<Option<VoeSet>> {
    let mut env = cart_env(req, seed)?;
    let (cart, platform, floor) = {
        let s = env.scene();
        (s.cart(), s.platform(), s.floor())
    };
    let (edge, half_x) = (env.scene().edge(), env.world().shape(cart).half_width());
    // Per frame: free of every contact past the edge; standing wholly on the platform.
    let mut free = Vec::new();
    let mut standing = Vec::new();
    let possible = record(&mut env, req.frames, Some(cart), |_, w| {
        let x = w.position(cart)[0];
        let touching = w.in_contact(cart, platform) || w.in_contact(cart, floor);
        free.push(x > edge && !touching);
        standing.push(w.in_contact(cart, platform) && x + half_x < edge - 0.05);
        PUSH.to_vec()
    })?;
    let hook = match req.property {
        Property::Gravity => free.iter().position(|&f| f),
        _ => {
            let ok: Vec<usize> = (MIN_BEFORE..standing.len())
                .filter(|&t| standing[t])
                .collect();
            if ok.is_empty() {
                None
            } else {
                Some(ok[rng.random_range(0..ok.len())])
            }
        }
    };
    let Some(hook) = hook else {
        return Ok(None);
    };
    let violation: Violation = match req.property {
        Property::Gravity => Box::new(move |w: &mut World| {
            w.set_gravity_scale(cart, 0.0);
            let v = w.linvel(cart);
            w.set_linvel(cart, [v[0], 0.0, v[2]]);
            w.set_angvel(cart, [0.0; 3]);
        }),
        _ => Box::new(move |w: &mut World| w.ignore_contacts(cart, platform)),
    };
    let mut env = cart_env(req, seed)?;
    let impossible = record(&mut env, req.frames, Some(cart), |t, w| {
        if t == hook {
            violation(w);
        }
        PUSH.to_vec()
    })?;
    Ok(finish(req, possible, impossible))
}

fn collision_env(req: &SetRequest, layout: &CollisionLayout) -> Result<SceneEnv<Collision>> {
    let (world, scene) = Collision::from_layout(layout);
    SceneEnv::from_world(req.size, world, scene)
}

/// Solidity: body0 passes through the wall (even sets) or through body1 (odd sets). Inertia:
/// body0 stops, turns back or speeds up on its own. Collision: body1, struck by body0, carries
/// on as if nothing hit it.
fn collision_pair(req: &SetRequest, seed: u64, rng: &mut ChaCha8Rng) -> Result<Option<VoeSet>> {
    let mut layout = CollisionLayout::sample(&mut ChaCha8Rng::seed_from_u64(seed));
    let against_wall = match req.property {
        Property::Solidity => req.index.is_multiple_of(2),
        Property::Inertia => true,
        _ => false,
    };
    layout.bodies.truncate(if against_wall { 1 } else { 2 });
    if let [first, second] = &mut layout.bodies[..] {
        // Far enough apart that the hit comes after some frames of context.
        second.position[0] = first.position[0] + rng.random_range(1.4..1.9);
    }
    let mut env = collision_env(req, &layout)?;
    let (b0, b1, wall) = {
        let s = env.scene();
        (s.body(0).expect("body0"), s.body(1), s.wall())
    };
    let target = if against_wall {
        wall
    } else {
        b1.expect("two bodies kept")
    };
    let mut contact = Vec::new();
    let possible = record(&mut env, req.frames, Some(b0), |_, w| {
        contact.push(w.in_contact(b0, target));
        Vec::new()
    })?;
    let first_contact = contact.iter().position(|&c| c);
    let (hook, violation): (usize, Violation) = match req.property {
        Property::Inertia => {
            // Somewhere in free flight, at least 6 frames before any contact.
            let end = first_contact
                .unwrap_or(req.frames)
                .saturating_sub(6)
                .min(req.frames - MIN_AFTER);
            if end <= MIN_BEFORE {
                return Ok(None);
            }
            let hook = rng.random_range(MIN_BEFORE..end);
            let factor = [-1.0f32, 0.15, 1.8][rng.random_range(0..3usize)];
            (
                hook,
                Box::new(move |w: &mut World| {
                    let v = w.linvel(b0);
                    let a = w.angvel(b0);
                    w.set_linvel(b0, v.map(|c| c * factor));
                    w.set_angvel(b0, a.map(|c| c * factor));
                }),
            )
        }
        _ => {
            let Some(c) = first_contact else {
                return Ok(None);
            };
            if c < MIN_BEFORE + 2 {
                return Ok(None);
            }
            let violation: Violation = if req.property == Property::Collision {
                Box::new(move |w: &mut World| w.make_kinematic(target))
            } else {
                Box::new(move |w: &mut World| w.ignore_contacts(b0, target))
            };
            (c - 2, violation)
        }
    };
    let mut env = collision_env(req, &layout)?;
    let impossible = record(&mut env, req.frames, Some(b0), |t, w| {
        if t == hook {
            violation(w);
        }
        Vec::new()
    })?;
    Ok(finish(req, possible, impossible))
}
