//! Episodes: a scene run for a fixed number of frames under the exploration policy.

use crate::camera::Raster;
use crate::env::Environment;
use crate::error::{Result, SimError};
use crate::movie_bodies::MovieBodies;
use crate::policy::Explorer;
use crate::scene::SceneSpec;
use crate::seed::EpisodeKey;
use crate::world::STATE_DIM;

/// Largest number of frames an episode may have.
pub const MAX_FRAMES: usize = 100_000;

/// One recorded episode, flat and row-major, ready to become tensors.
///
/// - `frames`: `[T, H, W, 3]` u8, frame `t` observed at time `t * 1/30 s`;
/// - `actions`: `[T, A]` f32, action `t` applied between frames `t` and `t + 1` (the last row is
///   zero: no step follows the last frame);
/// - `states`: `[T, B, 13]` f32 per body slot (position, quaternion xyzw, linear and angular
///   velocity), NaN in slots that are empty in this episode;
/// - `body_mask`: `[B]` u8, 1 where the slot holds a body;
/// - `masks`: `[T, H, W]` u8, the slot whose body each pixel shows
///   ([`crate::mask::NO_SLOT`] for the background and fixed bodies).
///
/// Episodes run for their full length even after the scene reports `terminated`: datasets have
/// one shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    /// Frames, `[T, H, W, 3]`.
    pub frames: Vec<u8>,
    /// Actions, `[T, A]`.
    pub actions: Vec<f32>,
    /// Body states, `[T, B, 13]`.
    pub states: Vec<f32>,
    /// Which slots hold a body, `[B]`.
    pub body_mask: Vec<u8>,
    /// Instance masks, `[T, H, W]`.
    pub masks: Vec<u8>,
}

/// Runs one episode of `frames` frames at `size` x `size` pixels (a bare side: one ray per
/// pixel).
pub fn generate_episode(
    spec: &'static SceneSpec,
    key: &EpisodeKey<'_>,
    frames: usize,
    raster: impl Into<Raster>,
) -> Result<Episode> {
    let mut env = spec.make(raster)?;
    run_episode(env.as_mut(), key, frames)
}

/// Runs one episode in an existing environment (reset first), so that workers can reuse theirs.
pub fn run_episode(
    env: &mut dyn Environment,
    key: &EpisodeKey<'_>,
    frames: usize,
) -> Result<Episode> {
    run(env, key, frames, None)
}

/// Runs one episode and records its [`MovieBodies`] too (every body's pose per frame), for a 3D
/// replay: the episode is bit for bit the one [`run_episode`] gives.
pub fn run_episode_with_bodies(
    env: &mut dyn Environment,
    key: &EpisodeKey<'_>,
    frames: usize,
) -> Result<(Episode, MovieBodies)> {
    let mut bodies = MovieBodies::default();
    let episode = run(env, key, frames, Some(&mut bodies))?;
    Ok((episode, bodies))
}

fn run(
    env: &mut dyn Environment,
    key: &EpisodeKey<'_>,
    frames: usize,
    mut bodies: Option<&mut MovieBodies>,
) -> Result<Episode> {
    check_frames(frames)?;
    let spec = env.spec();
    let seeds = key.seeds();
    let mut policy = Explorer::new(seeds.policy);
    let (a_dim, slots) = (spec.action_dim, spec.slots.len());
    let space = env.observation_space();
    let frame_len = space.width * space.height * 3;
    let mut ep = Episode {
        frames: Vec::with_capacity(frames * frame_len),
        actions: Vec::with_capacity(frames * a_dim),
        states: Vec::with_capacity(frames * slots * STATE_DIM),
        body_mask: Vec::new(),
        masks: Vec::with_capacity(frames * space.width * space.height),
    };
    let mut obs = env.reset(seeds.env);
    if let Some(bodies) = bodies.as_deref_mut() {
        *bodies = MovieBodies::of_world(env.world());
    }
    ep.body_mask = obs.states.iter().map(|s| u8::from(s.is_some())).collect();
    for t in 0..frames {
        if let Some(bodies) = bodies.as_deref_mut() {
            bodies.record(env.world());
        }
        ep.frames.extend_from_slice(&obs.frame.data);
        ep.masks.extend_from_slice(&obs.mask);
        for state in &obs.states {
            ep.states
                .extend_from_slice(&state.unwrap_or([f32::NAN; STATE_DIM]));
        }
        if t + 1 < frames {
            let action = policy.act(env);
            ep.actions.extend_from_slice(&action);
            obs = env.step(&action)?.obs;
        } else {
            ep.actions.extend(std::iter::repeat_n(0.0, a_dim));
        }
    }
    Ok(ep)
}

/// Checks a frame count: at least 1, at most [`MAX_FRAMES`].
pub fn check_frames(frames: usize) -> Result<()> {
    if (1..=MAX_FRAMES).contains(&frames) {
        Ok(())
    } else {
        Err(SimError::OutOfRange {
            what: "frames",
            value: frames.to_string(),
            expected: format!("1 to {MAX_FRAMES}"),
        })
    }
}
