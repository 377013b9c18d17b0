//! `reach` and `cart_push` on the `cart_platform` scene.

use super::episode::{Episode, Goal, MIN_MOVE, reference_goal};
use super::{Judgement, TaskEpisode, TaskSpec};
use crate::env::{EnvSnapshot, Environment, Scene, SceneEnv};
use crate::error::Result;
use crate::policy::Explorer;
use crate::scene::cart_platform::CartPlatform;
use crate::seed::EpisodeSeeds;
use crate::world::World;

/// Pusher goal tolerance, metres.
const REACH_TOLERANCE: f32 = 0.02;
/// Cart goal tolerance, metres.
const CART_TOLERANCE: f32 = 0.05;
/// How far below the platform's top a cart counts as fallen, metres.
const FALLEN: f32 = 0.1;

/// Where the reference policy left the cart platform.
struct CartGoal {
    /// `reach` (the pusher) or `cart_push` (the cart).
    reach: bool,
    /// Goal position of the pusher (reach) or the cart (cart_push).
    target: [f32; 3],
    /// Whether the goal has the cart fallen off the platform.
    target_fallen: bool,
    /// Goal position of the pusher (cart_push: the pusher in the goal image).
    target_pusher: [f32; 3],
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
    let mut policy = Explorer::new(seeds.policy);
    reference_goal(
        &mut env,
        &start,
        &mut policy,
        spec.goal_steps,
        |world, _| {
            let to = world.position(body);
            (0..3)
                .map(|i| (to[i] - from[i]).powi(2))
                .sum::<f32>()
                .sqrt()
                >= MIN_MOVE
        },
    )?;
    let goal = env.observe().frame;
    let target = env.world().position(body);
    let target_pusher = env.world().position(pusher);
    let target_fallen = !reach && fallen(env.world(), env.scene());
    env.restore(&start);
    let goal_state = CartGoal {
        reach,
        target,
        target_fallen,
        target_pusher,
    };
    Ok(Box::new(Episode::new(spec, env, goal, goal_state)))
}

fn fallen(world: &World, scene: &CartPlatform) -> bool {
    world.position(scene.cart())[1] < scene.top() - FALLEN
}

impl Goal<CartPlatform> for CartGoal {
    fn judge(&self, world: &World, scene: &CartPlatform) -> Judgement {
        let distance = judge_distance(self.reach, self.target, false, world, scene);
        let tolerance = if self.reach {
            REACH_TOLERANCE
        } else {
            CART_TOLERANCE
        };
        let success =
            distance < tolerance || (!self.reach && self.target_fallen && fallen(world, scene));
        Judgement {
            success,
            distance,
            cleared: None,
        }
    }

    fn cost(&self, world: &World, scene: &CartPlatform) -> f32 {
        let d = judge_distance(self.reach, self.target, self.target_fallen, world, scene);
        if self.reach {
            return d;
        }
        // The goal image shows the pusher too: where it ended up is part of the goal, and it
        // leads the pusher to the cart.
        let p = world.position(scene.pusher().expect("a pusher"));
        d + 0.5 * (p[0] - self.target_pusher[0]).hypot(p[2] - self.target_pusher[2])
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
