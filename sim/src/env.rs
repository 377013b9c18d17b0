//! Scenes as environments in the Gymnasium sense: `reset(seed)`, `step(action)`, declared spaces.
//!
//! Each scene implements the small [`Scene`] trait (build a randomised world, drive its kinematic
//! bodies, judge the outcome); [`SceneEnv`] adds what every scene shares: action checking, the
//! fixed number of physics substeps per frame, rendering, and truncation.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::camera::{Camera, Raster};
use crate::error::{Result, SimError};
use crate::nuisance::{Nuisance, NuisanceStream};
pub use crate::observation::Observation;
use crate::render::{Frame, Renderer};
use crate::space::{BoxSpace, ObservationSpace};
use crate::world::{BodyId, World};

/// A scene's entry in the registry: what it is and how to make it.
#[derive(Debug)]
pub struct SceneSpec {
    /// The name used on the command line and in datasets.
    pub name: &'static str,
    /// One line saying what the scene tests.
    pub description: &'static str,
    /// Length of the action vector (0 for scenes without agent).
    pub action_dim: usize,
    /// Actions are clamped to `[-max_action, max_action]` in every dimension (m/s for pushers).
    pub max_action: f32,
    /// The body slots of the state vector, in order.
    pub slots: &'static [&'static str],
    /// Frames after which an episode is truncated.
    pub max_steps: u64,
    /// Bodies stay within this many metres of the origin on every axis.
    pub extent: f32,
    /// Bodies move slower than this (m/s, rad/s).
    pub max_speed: f32,
    /// Makes the environment rendering images as the raster says.
    pub make: fn(Raster) -> Result<Box<dyn Environment>>,
}

impl SceneSpec {
    /// Makes the environment rendering `size` x `size` images (16 to 512; a bare side casts one
    /// ray per pixel, a [`Raster`] may ask for more).
    pub fn make(&self, raster: impl Into<Raster>) -> Result<Box<dyn Environment>> {
        (self.make)(raster.into())
    }
}

/// The registry's maker of scene `S`'s environment (a [`SceneSpec::make`]).
pub fn make_env<S: Scene>(raster: Raster) -> Result<Box<dyn Environment>> {
    Ok(Box::new(SceneEnv::<S>::new(raster)?))
}

/// Physics steps per frame: frames are 1/30 s apart, physics runs at 60 Hz.
pub const SUBSTEPS: u32 = 2;

/// The result of one [`Environment::step`].
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The observation after the step.
    pub obs: Observation,
    /// The reward earned by this step.
    pub reward: f32,
    /// The task is over (goal reached or failed) as judged by the scene.
    pub terminated: bool,
    /// The step budget ([`SceneSpec::max_steps`]) is spent.
    pub truncated: bool,
}

/// What a scene judges after each step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Reward for this step.
    pub reward: f32,
    /// Whether the task is over.
    pub terminated: bool,
}

/// An environment: one scene with its world, camera and step counter.
pub trait Environment: Send {
    /// The scene's entry in the registry.
    fn spec(&self) -> &'static SceneSpec;
    /// The actions `step` accepts.
    fn action_space(&self) -> &BoxSpace;
    /// What `reset` and `step` return.
    fn observation_space(&self) -> &ObservationSpace;
    /// Starts a new episode whose layout, sizes, colours and masses follow from `seed`.
    fn reset(&mut self, seed: u64) -> Observation;
    /// Applies the action (clamped into the action space) for one frame and steps the physics.
    /// An action of the wrong length or with a non-finite entry is an error.
    fn step(&mut self, action: &[f32]) -> Result<Step>;
    /// The physics world, read-only.
    fn world(&self) -> &World;
    /// The camera the observations are rendered with.
    fn camera(&self) -> &Camera;
    /// The planar position of the agent's pusher, if the scene has one.
    fn pusher_xz(&self) -> Option<[f32; 2]>;
    /// A planar point worth pushing towards (the cart, the nearest object still on the table):
    /// the exploration policy leans towards it so that episodes contain contacts and falls.
    fn exploration_target(&self) -> Option<[f32; 2]>;
}

/// One scene's own logic; [`SceneEnv`] turns it into an [`Environment`].
pub trait Scene: Sized + Send + 'static {
    /// The scene's registry entry.
    fn spec() -> &'static SceneSpec;
    /// The scene's fixed camera at the default size.
    fn camera() -> Camera;
    /// Builds a new randomised world.
    fn build(rng: &mut ChaCha8Rng) -> (World, Self);
    /// The body in each slot of [`SceneSpec::slots`], in order.
    fn slots(&self) -> &[Option<BodyId>];
    /// Sets the velocities of kinematic bodies for the coming frame; `frame` counts from 0.
    fn drive(&mut self, world: &mut World, action: &[f32], frame: u64);
    /// Judges the world after a frame's physics.
    fn outcome(&mut self, world: &World) -> Outcome;
    /// The agent's pusher, if any.
    fn pusher(&self) -> Option<BodyId> {
        None
    }
    /// See [`Environment::exploration_target`].
    fn exploration_target(&self, _world: &World) -> Option<[f32; 2]> {
        None
    }
}

/// A [`Scene`] with everything environments share.
pub struct SceneEnv<S: Scene> {
    world: World,
    scene: S,
    renderer: Renderer,
    action_space: BoxSpace,
    observation_space: ObservationSpace,
    frame: u64,
    /// The nuisance drawn over every observation ([`crate::nuisance`]), if any.
    nuisance: Option<NuisanceStream>,
}

impl<S: Scene> SceneEnv<S> {
    /// The environment rendering `size` x `size` images (a bare side: one ray per pixel), reset
    /// with seed 0.
    pub fn new(raster: impl Into<Raster>) -> Result<Self> {
        let spec = S::spec();
        let raster: Raster = raster.into();
        let size = raster.size;
        let camera = S::camera().with_raster(raster)?;
        let (world, scene) = S::build(&mut ChaCha8Rng::seed_from_u64(0));
        Ok(Self {
            world,
            scene,
            renderer: Renderer::new(camera),
            action_space: BoxSpace::symmetric(spec.action_dim, spec.max_action),
            observation_space: ObservationSpace::new(
                size,
                size,
                spec.slots,
                spec.extent,
                spec.max_speed,
            ),
            frame: 0,
            nuisance: None,
        })
    }

    /// Draws the nuisance `level` of `seed` over every observation from now on (frame `t` of
    /// the episode gets the nuisance of frame `t`); level 0 draws nothing. The physics never
    /// sees it.
    pub fn set_nuisance(&mut self, level: Nuisance, seed: u64) {
        let (w, h) = (self.observation_space.width, self.observation_space.height);
        self.nuisance = (!level.is_none()).then(|| level.stream(seed, w, h));
    }

    /// The observation's picture with the given bodies left out (a goal without its objects),
    /// with the nuisance of the current frame.
    pub fn observe_hiding(&mut self, hidden: &[BodyId]) -> Frame {
        let (mut frame, labels) = self.renderer.render_labelled_hiding(&self.world, hidden);
        if let Some(n) = &mut self.nuisance {
            let mask = crate::mask::slot_mask(&labels, self.scene.slots(), &self.world);
            n.apply_at(self.frame, &mut frame.data, &mask);
        }
        frame
    }

    /// The environment over an already built world and scene (the VoE suite builds worlds from
    /// edited layouts).
    pub fn from_world(raster: impl Into<Raster>, world: World, scene: S) -> Result<Self> {
        let mut env = Self::new(raster)?;
        env.world = world;
        env.scene = scene;
        Ok(env)
    }

    /// The world, for changes between steps (the VoE suite's violations).
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    /// The scene's own state.
    pub fn scene(&self) -> &S {
        &self.scene
    }

    /// The scene's own state, for changes before an episode starts (a planning task narrows
    /// the pusher's region).
    pub fn scene_mut(&mut self) -> &mut S {
        &mut self.scene
    }

    /// The current frame with the given bodies left out of the picture.
    pub fn render_hiding(&mut self, hidden: &[BodyId]) -> Frame {
        self.renderer.render_hiding(&self.world, hidden)
    }

    /// Everything that makes the episode's state: the world, the scene's own state, the frame
    /// counter. [`SceneEnv::restore`] returns to it exactly.
    pub fn snapshot(&self) -> EnvSnapshot<S>
    where
        S: Clone,
    {
        EnvSnapshot {
            world: self.world.snapshot(),
            scene: self.scene.clone(),
            frame: self.frame,
        }
    }

    /// Returns to a snapshot of this episode.
    pub fn restore(&mut self, snapshot: &EnvSnapshot<S>)
    where
        S: Clone,
    {
        self.world.restore(&snapshot.world);
        self.scene = snapshot.scene.clone();
        self.frame = snapshot.frame;
    }

    /// The simulator as a model: runs `actions` (rows of the action length) from the current
    /// state without rendering, lets `inspect` look at the world after every step, and puts
    /// everything back exactly as it was.
    pub fn imagine<T>(
        &mut self,
        actions: &[f32],
        mut inspect: impl FnMut(&World, &S) -> T,
    ) -> Vec<T>
    where
        S: Clone,
    {
        self.imagine_with(actions, |world, scene, _| inspect(world, scene))
    }

    /// [`SceneEnv::imagine`] returning the camera's frame after every step: what a perfect
    /// video predictor would show for the actions (the nuisance of those frames included).
    pub fn imagine_frames(&mut self, actions: &[f32]) -> Vec<Frame>
    where
        S: Clone,
    {
        let Some(mut nuisance) = self.nuisance.clone() else {
            return self.imagine_with(actions, |world, _, renderer| renderer.render(world));
        };
        let mut t = self.frame;
        self.imagine_with(actions, |world, scene, renderer| {
            let (mut frame, labels) = renderer.render_labelled(world);
            let mask = crate::mask::slot_mask(&labels, scene.slots(), world);
            t += 1;
            nuisance.apply_at(t, &mut frame.data, &mask);
            frame
        })
    }

    fn imagine_with<T>(
        &mut self,
        actions: &[f32],
        mut inspect: impl FnMut(&World, &S, &mut Renderer) -> T,
    ) -> Vec<T>
    where
        S: Clone,
    {
        let saved = self.snapshot();
        let dim = S::spec().action_dim.max(1);
        let mut out = Vec::with_capacity(actions.len() / dim);
        for (i, a) in actions.chunks_exact(dim).enumerate() {
            let a = self.action_space.clamp(a);
            self.scene.drive(&mut self.world, &a, self.frame + i as u64);
            for _ in 0..SUBSTEPS {
                self.world.step();
            }
            out.push(inspect(&self.world, &self.scene, &mut self.renderer));
        }
        self.restore(&saved);
        out
    }

    /// The observation of the world as it is now.
    pub fn observe(&mut self) -> Observation {
        let states = self
            .scene
            .slots()
            .iter()
            .map(|slot| slot.map(|id| self.world.body_state(id)))
            .collect();
        let (mut frame, labels) = self.renderer.render_labelled(&self.world);
        let mask = crate::mask::slot_mask(&labels, self.scene.slots(), &self.world);
        if let Some(n) = &mut self.nuisance {
            n.apply_at(self.frame, &mut frame.data, &mask);
        }
        Observation {
            frame,
            mask,
            states,
        }
    }
}

impl<S: Scene> Environment for SceneEnv<S> {
    fn spec(&self) -> &'static SceneSpec {
        S::spec()
    }

    fn action_space(&self) -> &BoxSpace {
        &self.action_space
    }

    fn observation_space(&self) -> &ObservationSpace {
        &self.observation_space
    }

    fn reset(&mut self, seed: u64) -> Observation {
        let (world, scene) = S::build(&mut ChaCha8Rng::seed_from_u64(seed));
        self.world = world;
        self.scene = scene;
        self.frame = 0;
        self.observe()
    }

    fn step(&mut self, action: &[f32]) -> Result<Step> {
        let spec = S::spec();
        if action.len() != spec.action_dim {
            return Err(SimError::InvalidAction {
                scene: spec.name,
                reason: format!("expected {} numbers, got {}", spec.action_dim, action.len()),
            });
        }
        if let Some(bad) = action.iter().find(|v| !v.is_finite()) {
            return Err(SimError::InvalidAction {
                scene: spec.name,
                reason: format!("non-finite entry {bad}"),
            });
        }
        let action = self.action_space.clamp(action);
        self.scene.drive(&mut self.world, &action, self.frame);
        for _ in 0..SUBSTEPS {
            self.world.step();
        }
        self.frame += 1;
        let outcome = self.scene.outcome(&self.world);
        Ok(Step {
            obs: self.observe(),
            reward: outcome.reward,
            terminated: outcome.terminated,
            truncated: self.frame >= spec.max_steps,
        })
    }

    fn world(&self) -> &World {
        &self.world
    }

    fn camera(&self) -> &Camera {
        self.renderer.camera()
    }

    fn pusher_xz(&self) -> Option<[f32; 2]> {
        self.scene.pusher().map(|id| {
            let p = self.world.position(id);
            [p[0], p[2]]
        })
    }

    fn exploration_target(&self) -> Option<[f32; 2]> {
        self.scene.exploration_target(&self.world)
    }
}

/// A whole episode state of a [`SceneEnv`] (see [`SceneEnv::snapshot`]).
#[derive(Clone)]
pub struct EnvSnapshot<S> {
    world: crate::world::Snapshot,
    scene: S,
    frame: u64,
}

/// Drives a kinematic pusher with a planar velocity `[vx, vz]`, holding it inside
/// `[lo, hi]` (x and z, metres): a component that would carry it out is zeroed.
pub fn drive_pusher(world: &mut World, pusher: BodyId, action: &[f32], lo: [f32; 2], hi: [f32; 2]) {
    let p = world.position(pusher);
    let frame_dt = crate::world::DT * SUBSTEPS as f32;
    let mut v = [action[0], action[1]];
    for (k, axis) in [0usize, 2].into_iter().enumerate() {
        let next = p[axis] + v[k] * frame_dt;
        if next < lo[k] || next > hi[k] {
            v[k] = 0.0;
        }
    }
    world.set_linvel(pusher, [v[0], 0.0, v[1]]);
}
