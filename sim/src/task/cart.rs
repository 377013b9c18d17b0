//! `reach` and `cart_push` on the `cart_platform` scene.

use super::{Judgement, TaskEpisode, TaskSpec, mean};
use crate::env::{EnvSnapshot, Environment, Scene, SceneEnv};
use crate::error::Result;
use crate::policy::Explorer;
use crate::render::Frame;
use crate::scene::cart_platform::CartPlatform;
use crate::seed::EpisodeSeeds;
use crate::world::World;

/// Pusher goal tolerance, metres.
const REACH_TOLERANCE: f32 = 0.02;
/// Cart goal tolerance, metres.
const CART_TOLERANCE: f32 = 0.05;
/// How far below the platform's top a cart counts as fallen, metres.
const FALLEN: f32 = 0.1;
/// How far the reference policy must move the body for a goal to count, metres: a goal equal
/// to the start would test nothing.
const MIN_MOVE: f32 = 0.1;
/// Reference runs tried before giving up on a start.
const ATTEMPTS: usize = 50;

struct CartTask {
    spec: &'static TaskSpec,
    env: SceneEnv<CartPlatform>,
    goal: Frame,
    /// Goal position of the pusher (reach) or the cart (cart_push).
    target: [f32; 3],
    /// Whether the goal has the cart fallen off the platform.
    target_fallen: bool,
    /// Goal position of the pusher (cart_push: the pusher in the goal image).
    target_pusher: [f32; 3],
    steps: usize,
}

pub(super) fn make(
    spec: &'static TaskSpec,
    seeds: EpisodeSeeds,
    size: usize,
) -> Result<Box<dyn TaskEpisode>> {
    let mut env = SceneEnv::<CartPlatform>::new(size)?;
    env.reset(seeds.env);
    let start: EnvSnapshot<CartPlatform> = env.snapshot();
    let reach = spec.name == super::REACH.name;
    let (cart, pusher) = (env.scene().cart(), env.scene().pusher().expect("a pusher"));
    let body = if reach { pusher } else { cart };
    let from = env.world().position(body);
    // The policy's generator runs on from one attempt to the next, so each tries other pushes.
    let mut policy = Explorer::new(seeds.policy);
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            env.restore(&start);
        }
        for _ in 0..spec.goal_steps {
            let a = policy.act(&env);
            env.step(&a)?;
        }
        let to = env.world().position(body);
        let moved = (0..3)
            .map(|i| (to[i] - from[i]).powi(2))
            .sum::<f32>()
            .sqrt();
        if moved >= MIN_MOVE || attempt + 1 == ATTEMPTS {
            break;
        }
    }
    let goal = env.observe().frame;
    let target = env.world().position(body);
    let target_pusher = env.world().position(pusher);
    let target_fallen = !reach && fallen(env.world(), env.scene());
    env.restore(&start);
    Ok(Box::new(CartTask {
        spec,
        env,
        goal,
        target,
        target_fallen,
        target_pusher,
        steps: 0,
    }))
}

fn fallen(world: &World, scene: &CartPlatform) -> bool {
    world.position(scene.cart())[1] < scene.top() - FALLEN
}

impl CartTask {
    fn reach(&self) -> bool {
        self.spec.name == super::REACH.name
    }

    fn judge_in(&self, world: &World, scene: &CartPlatform) -> Judgement {
        let distance = judge_distance(self.reach(), self.target, false, world, scene);
        let tolerance = if self.reach() {
            REACH_TOLERANCE
        } else {
            CART_TOLERANCE
        };
        let success =
            distance < tolerance || (!self.reach() && self.target_fallen && fallen(world, scene));
        Judgement {
            success,
            distance,
            cleared: None,
        }
    }
}

impl TaskEpisode for CartTask {
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
        &self.goal
    }
    fn step(&mut self, action: &[f32]) -> Result<Frame> {
        self.steps += 1;
        Ok(self.env.step(action)?.obs.frame)
    }
    fn steps_taken(&self) -> usize {
        self.steps
    }
    fn judge(&self) -> Judgement {
        self.judge_in(self.env.world(), self.env.scene())
    }
    fn imagine_distances(&mut self, actions: &[f32], samples: usize) -> Vec<f32> {
        let per = (actions.len() / samples.max(1)).max(1);
        let (reach, target, target_fallen) = (self.reach(), self.target, self.target_fallen);
        let goal_pusher = self.target_pusher;
        actions
            .chunks_exact(per)
            .take(samples)
            .map(|seq| {
                mean(&self.env.imagine(seq, |world, scene| {
                    let d = judge_distance(reach, target, target_fallen, world, scene);
                    if reach {
                        return d;
                    }
                    // The goal image shows the pusher too: where it ended up is part of the
                    // goal, and it leads the pusher to the cart.
                    let p = world.position(scene.pusher().expect("a pusher"));
                    d + 0.5 * (p[0] - goal_pusher[0]).hypot(p[2] - goal_pusher[2])
                }))
            })
            .collect()
    }
}

/// The distance to the goal: planar for the pusher (it glides on a plane), 3-D for the cart;
/// with `count_fall`, 0 for a fallen cart whose goal has it fallen (the oracle's cost).
fn judge_distance(
    reach: bool,
    target: [f32; 3],
    count_fall: bool,
    world: &World,
    scene: &CartPlatform,
) -> f32 {
    let body = if reach {
        scene.pusher().expect("the scene has a pusher")
    } else {
        scene.cart()
    };
    let p = world.position(body);
    if reach {
        return (p[0] - target[0]).hypot(p[2] - target[2]);
    }
    if count_fall && fallen(world, scene) {
        return 0.0;
    }
    let d = [0, 1, 2].map(|i| p[i] - target[i]);
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}
