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
    /// The platform edge the goal has the cart fallen off, if it has.
    target_fallen: Option<Edge>,
    /// Goal position of the pusher (cart_push: the pusher in the goal image).
    target_pusher: [f32; 3],
}

pub(super) fn make(
    spec: &'static TaskSpec,
    seeds: EpisodeSeeds,
    size: usize,
) -> Result<Box<dyn TaskEpisode>> {
    Ok(Box::new(episode(spec, seeds, size)?))
}

/// The episode, at its start, with its goal.
fn episode(
    spec: &'static TaskSpec,
    seeds: EpisodeSeeds,
    size: usize,
) -> Result<Episode<CartPlatform, CartGoal>> {
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
    let target_fallen = if reach {
        None
    } else {
        fallen(env.world(), env.scene())
    };
    env.restore(&start);
    let goal_state = CartGoal {
        reach,
        target,
        target_fallen,
        target_pusher,
    };
    Ok(Episode::new(spec, env, goal, goal_state))
}

/// A side of the platform's top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edge {
    /// +x, the edge the cart starts facing.
    Right,
    /// -x.
    Left,
    /// +z, towards the camera.
    Front,
    /// -z.
    Back,
}

/// The edge the cart has fallen off (the side of the platform's footprint it lies furthest
/// beyond), or `None` while it is on the platform.
fn fallen(world: &World, scene: &CartPlatform) -> Option<Edge> {
    let p = world.position(scene.cart());
    if p[1] >= scene.top() - FALLEN {
        return None;
    }
    let (lo, hi) = world.aabb(scene.platform());
    let beyond = [
        (p[0] - hi[0], Edge::Right),
        (lo[0] - p[0], Edge::Left),
        (p[2] - hi[2], Edge::Front),
        (lo[2] - p[2], Edge::Back),
    ];
    beyond
        .into_iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, edge)| edge)
}

/// Whether the cart has fallen off the goal's edge.
fn fallen_off(edge: Option<Edge>, world: &World, scene: &CartPlatform) -> bool {
    edge.is_some() && fallen(world, scene) == edge
}

impl Goal<CartPlatform> for CartGoal {
    fn judge(&self, world: &World, scene: &CartPlatform) -> Judgement {
        // A cart fallen off the goal's edge has achieved it wherever it lies: distance 0.
        let distance = judge_distance(self.reach, self.target, self.target_fallen, world, scene);
        let tolerance = if self.reach {
            REACH_TOLERANCE
        } else {
            CART_TOLERANCE
        };
        let success =
            distance < tolerance || (!self.reach && fallen_off(self.target_fallen, world, scene));
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
/// 0 for a cart fallen off `count_fall`, the goal's edge (the oracle's cost).
fn judge_distance(
    reach: bool,
    target: [f32; 3],
    count_fall: Option<Edge>,
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
    if fallen_off(count_fall, world, scene) {
        return 0.0;
    }
    let d = [0, 1, 2].map(|i| p[i] - target[i]);
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{EpisodeKey, Split};
    use crate::task::CART_PUSH;

    fn cart_push(index: u64) -> Episode<CartPlatform, CartGoal> {
        let seeds = EpisodeKey {
            seed: 1,
            scene: "plan/cart_push",
            split: Split::Test,
            index,
        }
        .seeds();
        episode(&CART_PUSH, seeds, 16).unwrap()
    }

    /// A goal photographed while the cart tips over the edge is a state nobody can hold (the
    /// oracle failed 13 of 30 such episodes before goals were left to settle).
    #[test]
    fn goals_are_carts_at_rest_on_the_platform_or_fallen() {
        let mut fell = 0;
        for index in 0..20 {
            let e = cart_push(index);
            let (lo, hi) = e.env.world().aabb(e.env.scene().platform());
            let [x, y, z] = e.goal.target;
            match e.goal.target_fallen {
                Some(_) => {
                    assert!(y < e.env.scene().top() - FALLEN, "{index}: {y}");
                    fell += 1;
                }
                None => assert!(
                    (lo[0]..=hi[0]).contains(&x)
                        && (lo[2]..=hi[2]).contains(&z)
                        && y > e.env.scene().top(),
                    "{index}: a goal cart at {:?} off a platform {lo:?}..{hi:?}",
                    e.goal.target
                ),
            }
        }
        eprintln!("{fell} of 20 goals have the cart fallen");
        assert!((1..20).contains(&fell), "{fell} of 20 goals fallen");
    }

    /// Off the goal's edge is success, off another edge is not.
    #[test]
    fn only_the_goals_edge_counts_as_fallen_off() {
        let mut e = (0..20)
            .map(cart_push)
            .find(|e| e.goal.target_fallen == Some(Edge::Right))
            .expect("a goal off the right edge");
        assert!(!e.judge().success);
        let snapshot = e.env.snapshot();
        for (velocity, success) in [([3.0, 0.0, 0.0], true), ([0.0, 0.0, -3.0], false)] {
            e.env.restore(&snapshot);
            let cart = e.env.scene().cart();
            for _ in 0..40 {
                e.env.world_mut().set_linvel(cart, velocity);
                e.env.step(&[0.0, 0.0]).unwrap();
                if fallen(e.env.world(), e.env.scene()).is_some() {
                    break;
                }
            }
            for _ in 0..30 {
                e.env.step(&[0.0, 0.0]).unwrap();
            }
            let fell = fallen(e.env.world(), e.env.scene());
            assert!(fell.is_some(), "{velocity:?}: the cart fell");
            let judgement = e.judge();
            assert_eq!(judgement.success, success, "{velocity:?}: {fell:?}");
            assert_eq!(judgement.distance == 0.0, success);
        }
    }
}
