//! What every episode of a planning task shares: a scene environment, the goal image and a step
//! count ([`SceneTaskEpisode`], the one implementation of [`TaskEpisode`]). A task adds only its
//! [`Goal`]: the verdict on the true state and the oracle's cost. (Not to be confused with
//! [`crate::episode`], a recorded dataset episode.)

use super::spec::{Judgement, TaskEpisode, TaskSpec};
use crate::env::{EnvSnapshot, Environment, Scene, SceneEnv};
use crate::error::Result;
use crate::policy::Explorer;
use crate::render::Frame;
use crate::world::{BodyKind, World};

/// Reference runs tried before settling for the last one.
const ATTEMPTS: usize = 50;
/// Most frames a reference run's end is left to come to rest (three seconds).
const SETTLE_STEPS: usize = 90;
/// Below this speed (m/s) and spin (rad/s) every dynamic body counts as at rest.
const REST_SPEED: f32 = 0.01;
const REST_SPIN: f32 = 0.05;

/// Runs the reference policy for `steps` from `start`, then holds the pusher still until every
/// body is at rest (at most [`SETTLE_STEPS`]), until `accept` likes where it ended (at most
/// [`ATTEMPTS`] times; the policy's generator runs on, so each attempt pushes differently).
/// The environment is left at the accepted end state.
///
/// Why settle: the policy's last push leaves things moving, and a goal photographed mid-slide
/// or mid-fall (a cart tipping over the edge, still above the platform's top) is a state nobody
/// can hold, so even the simulator oracle fails it. At rest, every goal is a state a planner
/// can bring about and keep.
pub(super) fn reference_goal<S: Scene + Clone>(
    env: &mut SceneEnv<S>,
    start: &EnvSnapshot<S>,
    policy: &mut Explorer,
    steps: usize,
    accept: impl Fn(&World, &S) -> bool,
) -> Result<()> {
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            env.restore(start);
        }
        for _ in 0..steps {
            let a = policy.act(env);
            env.step(&a)?;
        }
        settle(env)?;
        if accept(env.world(), env.scene()) {
            break;
        }
    }
    Ok(())
}

/// Steps with the pusher held still until every dynamic body is at rest, at most
/// [`SETTLE_STEPS`] times.
fn settle<S: Scene + Clone>(env: &mut SceneEnv<S>) -> Result<()> {
    let still = vec![0.0; S::spec().action_dim];
    for _ in 0..SETTLE_STEPS {
        if at_rest(env.world()) {
            break;
        }
        env.step(&still)?;
    }
    Ok(())
}

/// Whether every dynamic body is slower than [`REST_SPEED`] and spins slower than
/// [`REST_SPIN`].
pub(super) fn at_rest(world: &World) -> bool {
    let norm = |v: [f32; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    world
        .body_ids()
        .filter(|&id| world.kind(id) == BodyKind::Dynamic)
        .all(|id| norm(world.linvel(id)) < REST_SPEED && norm(world.angvel(id)) < REST_SPIN)
}

/// A task's judge over its scene.
pub(super) trait Goal<S>: Send {
    /// The verdict on the true state.
    fn judge(&self, world: &World, scene: &S) -> Judgement;
    /// The oracle's cost of a state (averaged over the steps of a plan).
    fn cost(&self, world: &World, scene: &S) -> f32;
}

/// An episode of a planning task over a scene `S` with goal `G`.
pub(super) struct SceneTaskEpisode<S: Scene + Clone, G: Goal<S>> {
    pub spec: &'static TaskSpec,
    pub env: SceneEnv<S>,
    pub goal_frame: Frame,
    pub goal: G,
    pub steps: usize,
}

impl<S: Scene + Clone, G: Goal<S>> SceneTaskEpisode<S, G> {
    /// An episode at the environment's current state.
    pub fn new(spec: &'static TaskSpec, env: SceneEnv<S>, goal_frame: Frame, goal: G) -> Self {
        Self {
            spec,
            env,
            goal_frame,
            goal,
            steps: 0,
        }
    }
}

impl<S: Scene + Clone, G: Goal<S>> TaskEpisode for SceneTaskEpisode<S, G> {
    fn spec(&self) -> &'static TaskSpec {
        self.spec
    }
    fn action_dim(&self) -> usize {
        self.spec.scene.action_dim
    }
    fn max_action(&self) -> f32 {
        self.spec.scene.max_action
    }
    fn frame(&mut self) -> Frame {
        self.env.observe().frame
    }
    fn goal(&self) -> &Frame {
        &self.goal_frame
    }
    fn step(&mut self, action: &[f32]) -> Result<Frame> {
        self.steps += 1;
        Ok(self.env.step(action)?.obs.frame)
    }
    fn steps_taken(&self) -> usize {
        self.steps
    }
    fn judge(&self) -> Judgement {
        self.goal.judge(self.env.world(), self.env.scene())
    }
    fn imagine_distances(&mut self, actions: &[f32], samples: usize) -> Vec<f32> {
        let per = (actions.len() / samples.max(1)).max(1);
        let goal = &self.goal;
        let env = &mut self.env;
        actions
            .chunks_exact(per)
            .take(samples)
            .map(|seq| mean(&env.imagine(seq, |world, scene| goal.cost(world, scene))))
            .collect()
    }
    fn imagine_frames(&mut self, actions: &[f32], samples: usize) -> Vec<Vec<Frame>> {
        let per = (actions.len() / samples.max(1)).max(1);
        actions
            .chunks_exact(per)
            .take(samples)
            .map(|seq| self.env.imagine_frames(seq))
            .collect()
    }
}

/// The mean of per-step distances (infinite for an empty sequence).
fn mean(xs: &[f32]) -> f32 {
    if xs.is_empty() {
        return f32::INFINITY;
    }
    xs.iter().sum::<f32>() / xs.len() as f32
}
