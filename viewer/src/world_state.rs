//! The world the viewer shows, as a bevy resource ([`SimState`]): `sim`'s live environment,
//! stepped with the pusher action the keyboard set, or, in its place, a recorded [`Movie`]
//! played frame by frame. The systems that step it and mirror its bodies into entities are in
//! [`sim_plugin`](crate::sim_plugin).

use std::sync::Mutex;

use bevy::prelude::*;
use moravec_sim::{BodyId, BodyKind, Environment, Frame, SCENES, SceneSpec};

use crate::movie::Movie;

/// Links an entity to the `sim` body whose pose it mirrors.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLink(pub BodyId);

/// The running simulation and what the controls set.
#[derive(Resource)]
pub struct SimState {
    env: Mutex<Box<dyn Environment>>,
    spec: &'static SceneSpec,
    /// The seed of the current episode.
    pub seed: u64,
    /// Side of the model camera's image.
    pub size: usize,
    /// No stepping while paused (N still steps once).
    pub paused: bool,
    /// Step once while paused.
    pub step_once: bool,
    /// The pusher action for the next step (empty for scenes without pusher).
    pub action: Vec<f32>,
    /// The model camera's latest image.
    pub frame: Frame,
    /// Frames stepped since the last reset.
    pub frames: u64,
    /// The pusher's body, if the scene has one.
    pub pusher: Option<BodyId>,
    /// Bumped whenever the world is rebuilt (reset, seed, scene): body entities are respawned.
    pub generation: u64,
    /// The movie played instead of the live world, if any.
    pub movie: Option<Movie>,
    /// The world was rebuilt this frame: show its initial state before stepping it.
    fresh: bool,
}

impl SimState {
    /// The scene `spec` at episode `seed`, rendering `size` x `size` model images.
    pub fn new(spec: &'static SceneSpec, seed: u64, size: usize) -> moravec_sim::Result<Self> {
        let mut env = spec.make(size)?;
        let obs = env.reset(seed);
        let mut state = Self {
            pusher: None,
            env: Mutex::new(env),
            spec,
            seed,
            size,
            paused: false,
            step_once: false,
            action: vec![0.0; spec.action_dim],
            frame: obs.frame,
            frames: 0,
            generation: 0,
            movie: None,
            fresh: true,
        };
        state.pusher = state.find_pusher();
        Ok(state)
    }

    /// The scene shown.
    pub fn spec(&self) -> &'static SceneSpec {
        self.spec
    }

    /// The environment, for reading the world.
    pub fn env(&mut self) -> &mut dyn Environment {
        self.env
            .get_mut()
            .expect("the environment lock is never poisoned")
            .as_mut()
    }

    /// Starts the current seed's episode again, or the movie from its first frame.
    pub fn reset(&mut self) {
        if let Some(movie) = &mut self.movie {
            movie.t = 0;
            self.frame = movie.frame();
            self.frames = 0;
            self.fresh = true;
            return;
        }
        let seed = self.seed;
        let obs = self.env().reset(seed);
        self.frame = obs.frame;
        self.frames = 0;
        self.action.iter_mut().for_each(|a| *a = 0.0);
        self.pusher = self.find_pusher();
        self.generation += 1;
        self.fresh = true;
    }

    /// Shows another seed, live.
    pub fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
        self.movie = None;
        self.reset();
    }

    /// Plays `movie` in place of the live world, from its first frame.
    pub fn play(&mut self, movie: Movie) {
        self.frame = movie.frame();
        self.movie = Some(movie);
        self.frames = 0;
        self.generation += 1;
        self.fresh = true;
    }

    /// Ends the movie: the live world again, from the seed's initial state.
    pub fn stop_movie(&mut self) {
        self.movie = None;
        self.reset();
    }

    /// What is shown, for the title: the scene and seed, or the movie and its frame.
    pub fn status(&self) -> String {
        match &self.movie {
            None => format!("{} seed {}", self.spec.name, self.seed),
            Some(m) => {
                let mut s = format!("{}: frame {}/{}", m.label, m.t, m.len);
                if let Some(c) = &m.curve {
                    match c.at(m.t) {
                        Some(v) => s += &format!(", {} surprise {v:.4}", c.model),
                        None => s += &format!(", {} surprise: no window yet", c.model),
                    }
                }
                s
            }
        }
    }

    /// Shows the next scene of the registry (after the last, the first).
    pub fn next_scene(&mut self) -> moravec_sim::Result<()> {
        let i = SCENES
            .iter()
            .position(|s| s.name == self.spec.name)
            .unwrap_or(0);
        let spec = SCENES[(i + 1) % SCENES.len()];
        *self.env.get_mut().expect("not poisoned") = spec.make(self.size)?;
        self.spec = spec;
        self.movie = None;
        self.action = vec![0.0; spec.action_dim];
        self.reset();
        Ok(())
    }

    /// One frame of physics with the current action, or the movie's next frame.
    pub fn step(&mut self) -> moravec_sim::Result<()> {
        if let Some(movie) = &mut self.movie {
            movie.advance();
            self.frame = movie.frame();
            self.frames = movie.t as u64;
            return Ok(());
        }
        let action = self.action.clone();
        let step = self.env().step(&action)?;
        self.frame = step.obs.frame;
        self.frames += 1;
        if step.terminated || step.truncated {
            self.reset();
        }
        Ok(())
    }

    /// Whether the world was rebuilt since the last call: the stepping system then leaves its
    /// initial state on screen for one frame before stepping it.
    pub(crate) fn take_fresh(&mut self) -> bool {
        std::mem::take(&mut self.fresh)
    }

    /// The kinematic body at the pusher's planar position.
    fn find_pusher(&mut self) -> Option<BodyId> {
        let env = self.env();
        let [x, z] = env.pusher_xz()?;
        let world = env.world();
        world.body_ids().find(|&id| {
            let p = world.position(id);
            world.kind(id) == BodyKind::Kinematic && p[0] == x && p[2] == z
        })
    }
}
