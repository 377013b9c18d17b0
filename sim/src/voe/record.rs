//! Running a scene for a movie while watching one body: how many of its pixels are in view, and
//! whether it lies wholly inside the picture.

use crate::camera::Camera;
use crate::env::{Environment, Scene, SceneEnv};
use crate::episode::Episode;
use crate::error::Result;
use crate::movie_bodies::MovieBodies;
use crate::world::{BodyId, STATE_DIM, World};

/// A recorded movie and what was seen of the watched body in each frame.
pub(crate) struct Recording {
    /// The movie.
    pub episode: Episode,
    /// Pixels of the watched body in view, per frame (0 when hidden or off screen).
    pub visible: Vec<u32>,
    /// Whether the watched body's bounding box lies wholly inside the picture, per frame.
    pub in_frame: Vec<bool>,
    /// Pixels per frame.
    pub pixels: u32,
    /// Every body's pose per frame, for 3D replay.
    pub bodies: MovieBodies,
}

impl Recording {
    /// Frames where the body is inside the picture but none of it shows: hidden by a screen.
    pub fn hidden(&self, t: usize) -> bool {
        self.in_frame[t] && self.visible[t] == 0
    }

    /// Frames where the body shows (nearly) whole.
    pub fn fully_visible(&self, t: usize) -> bool {
        let max = self.visible.iter().copied().max().unwrap_or(0);
        self.in_frame[t] && max > 0 && self.visible[t] * 10 >= max * 9
    }

    /// Mean share of the image the body covers over the frames it shows.
    pub fn mean_share(&self) -> f32 {
        let shown: Vec<u32> = self.visible.iter().copied().filter(|&v| v > 0).collect();
        if shown.is_empty() {
            return 0.0;
        }
        shown.iter().map(|&v| v as f64).sum::<f64>() as f32
            / (shown.len() as f32 * self.pixels as f32)
    }

    /// The maximal runs of hidden frames, as `start..end`.
    pub fn hidden_runs(&self) -> Vec<std::ops::Range<usize>> {
        let mut runs = Vec::new();
        let mut start = None;
        for t in 0..=self.visible.len() {
            let h = t < self.visible.len() && self.hidden(t);
            match (h, start) {
                (true, None) => start = Some(t),
                (false, Some(s)) => {
                    runs.push(s..t);
                    start = None;
                }
                _ => {}
            }
        }
        runs
    }
}

/// Runs `env` for `frames` frames from its current state. Before each step from frame `t`,
/// `act(t, world)` may change the world (a violation) and returns the action to take.
pub(crate) fn record<S: Scene>(
    env: &mut SceneEnv<S>,
    frames: usize,
    watch: Option<BodyId>,
    mut act: impl FnMut(usize, &mut World) -> Vec<f32>,
) -> Result<Recording> {
    let spec = S::spec();
    let camera = env.camera().clone();
    let pixels = (camera.width * camera.height) as u32;
    let mut ep = Episode {
        frames: Vec::with_capacity(frames * pixels as usize * 3),
        actions: Vec::with_capacity(frames * spec.action_dim),
        states: Vec::with_capacity(frames * spec.slots.len() * STATE_DIM),
        body_mask: Vec::new(),
        masks: Vec::with_capacity(frames * pixels as usize),
    };
    let mut visible = Vec::with_capacity(frames);
    let mut in_frame = Vec::with_capacity(frames);
    let mut bodies = MovieBodies::of_world(env.world());
    let mut obs = env.observe();
    ep.body_mask = obs.states.iter().map(|s| u8::from(s.is_some())).collect();
    for t in 0..frames {
        ep.frames.extend_from_slice(&obs.frame.data);
        ep.masks.extend_from_slice(&obs.mask);
        for state in &obs.states {
            ep.states
                .extend_from_slice(&state.unwrap_or([f32::NAN; STATE_DIM]));
        }
        bodies.record(env.world());
        match watch {
            Some(id) => {
                let without = env.render_hiding(&[id]);
                let shown = obs
                    .frame
                    .data
                    .chunks(3)
                    .zip(without.data.chunks(3))
                    .filter(|(a, b)| a != b)
                    .count();
                visible.push(shown as u32);
                in_frame.push(inside(&camera, env.world(), id));
            }
            None => {
                visible.push(0);
                in_frame.push(false);
            }
        }
        if t + 1 < frames {
            let action = act(t, env.world_mut());
            ep.actions.extend_from_slice(&action);
            obs = env.step(&action)?.obs;
        } else {
            ep.actions.extend(std::iter::repeat_n(0.0, spec.action_dim));
        }
    }
    Ok(Recording {
        episode: ep,
        visible,
        in_frame,
        pixels,
        bodies,
    })
}

/// Whether every corner of the body's bounding box projects inside the picture.
fn inside(camera: &Camera, world: &World, id: BodyId) -> bool {
    let (lo, hi) = world.aabb(id);
    (0..8).all(|c| {
        let p = [
            if c & 1 == 0 { lo[0] } else { hi[0] },
            if c & 2 == 0 { lo[1] } else { hi[1] },
            if c & 4 == 0 { lo[2] } else { hi[2] },
        ];
        camera.project(p).is_some_and(|[x, y]| {
            x >= 0.0 && y >= 0.0 && x < camera.width as f32 && y < camera.height as f32
        })
    })
}

/// The movie `first[..t] + second[t..]`: frames, masks, actions and states spliced at frame `t`;
/// a slot is marked present if it is present in either.
pub(crate) fn splice(first: &Episode, second: &Episode, t: usize, frames: usize) -> Episode {
    let cut = |a: &[u8], b: &[u8]| -> Vec<u8> {
        let per = a.len() / frames;
        [&a[..t * per], &b[t * per..]].concat()
    };
    let cut_f = |a: &[f32], b: &[f32]| -> Vec<f32> {
        let per = a.len() / frames;
        [&a[..t * per], &b[t * per..]].concat()
    };
    Episode {
        frames: cut(&first.frames, &second.frames),
        actions: cut_f(&first.actions, &second.actions),
        states: cut_f(&first.states, &second.states),
        body_mask: first
            .body_mask
            .iter()
            .zip(&second.body_mask)
            .map(|(a, b)| a | b)
            .collect(),
        masks: cut(&first.masks, &second.masks),
    }
}

/// The length of the longest run of frames holding `t` on which A and B are the same picture
/// (0 when they differ at `t`):
/// what a model must bridge to tell the spliced movies from the possible ones. A window of
/// W frames sees past it only if the run is at most W - 2 frames long; longer, every window of
/// C and D is a window of A or B. Measured on the frames, not on the object's visibility (a
/// changed shape can show at the screen's edge while the original is still wholly hidden).
pub(super) fn identical_stretch(t: usize, frames: usize, same: impl Fn(usize) -> bool) -> usize {
    if !same(t) {
        return 0;
    }
    let (mut start, mut end) = (t, t + 1);
    while start > 0 && same(start - 1) {
        start -= 1;
    }
    while end < frames && same(end) {
        end += 1;
    }
    end - start
}
