//! `block_push`: push a rectangular block to a goal position and heading on the table (the PushT
//! of this world).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Judgement, TaskEpisode, TaskSpec, mean};
use crate::env::{EnvSnapshot, Environment, Scene, SceneEnv};
use crate::error::Result;
use crate::policy::Explorer;
use crate::render::Frame;
use crate::scene::table_clearing::TableClearing;
use crate::seed::EpisodeSeeds;
use crate::world::{BodyId, World};

/// Position tolerance, metres.
const POSITION_TOLERANCE: f32 = 0.05;
/// Heading tolerance, degrees.
const HEADING_TOLERANCE: f32 = 20.0;
/// How far the reference push must move the block for a goal to count, metres.
const MIN_MOVE: f32 = 0.1;
/// Reference runs tried before giving up on a start.
const ATTEMPTS: usize = 50;

struct BlockTask {
    spec: &'static TaskSpec,
    env: SceneEnv<TableClearing>,
    goal: Frame,
    block: BodyId,
    /// Goal position (x, z) and heading (radians) of the block.
    target: [f32; 3],
    /// Goal position (x, z) of the pusher, which the goal image shows too.
    target_pusher: [f32; 2],
    steps: usize,
}

/// The block's position in the table plane and its heading about the vertical axis.
fn pose(world: &World, id: BodyId) -> [f32; 3] {
    let s = world.body_state(id);
    let (qx, qy, qz, qw) = (s[3], s[4], s[5], s[6]);
    let yaw = (2.0 * (qw * qy + qx * qz)).atan2(1.0 - 2.0 * (qy * qy + qx * qx));
    [s[0], s[2], yaw]
}

/// Difference of headings of a rectangle, which looks the same turned by half a turn: in
/// `[0, pi/2]`.
fn heading_error(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(std::f32::consts::PI);
    d.min(std::f32::consts::PI - d)
}

pub(super) fn make(
    spec: &'static TaskSpec,
    seeds: EpisodeSeeds,
    size: usize,
) -> Result<Box<dyn TaskEpisode>> {
    let (world, scene) = TableClearing::build_block(&mut ChaCha8Rng::seed_from_u64(seeds.env));
    let block = scene.objects()[0];
    let pusher = scene.pusher().expect("a pusher");
    let mut env = SceneEnv::from_world(size, world, scene)?;
    let start: EnvSnapshot<TableClearing> = env.snapshot();
    let from = pose(env.world(), block);
    let mut policy = Explorer::new(seeds.policy);
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            env.restore(&start);
        }
        for _ in 0..spec.goal_steps {
            let a = policy.act(&env);
            env.step(&a)?;
        }
        let to = pose(env.world(), block);
        let moved = (to[0] - from[0]).hypot(to[1] - from[1]);
        let on_table = !env.scene().is_off(env.world(), block);
        if (moved >= MIN_MOVE && on_table) || attempt + 1 == ATTEMPTS {
            break;
        }
    }
    let goal = env.observe().frame;
    let target = pose(env.world(), block);
    let p = env.world().position(pusher);
    env.restore(&start);
    Ok(Box::new(BlockTask {
        spec,
        env,
        goal,
        block,
        target,
        target_pusher: [p[0], p[2]],
        steps: 0,
    }))
}

impl BlockTask {
    fn errors(&self, world: &World) -> (f32, f32) {
        let p = pose(world, self.block);
        (
            (p[0] - self.target[0]).hypot(p[1] - self.target[1]),
            heading_error(p[2], self.target[2]),
        )
    }
}

impl TaskEpisode for BlockTask {
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
        let (d, h) = self.errors(self.env.world());
        Judgement {
            success: d < POSITION_TOLERANCE && h.to_degrees() < HEADING_TOLERANCE,
            distance: d,
            cleared: None,
        }
    }
    fn imagine_distances(&mut self, actions: &[f32], samples: usize) -> Vec<f32> {
        let per = (actions.len() / samples.max(1)).max(1);
        let (block, target, goal_pusher) = (self.block, self.target, self.target_pusher);
        actions
            .chunks_exact(per)
            .take(samples)
            .map(|seq| {
                mean(&self.env.imagine(seq, |world, scene| {
                    let p = pose(world, block);
                    let d = (p[0] - target[0]).hypot(p[1] - target[1]);
                    let h = heading_error(p[2], target[2]);
                    let q = world.position(scene.pusher().expect("a pusher"));
                    // 0.15 m per radian of heading; the pusher's goal leads it to the block.
                    d + 0.15 * h + 0.5 * (q[0] - goal_pusher[0]).hypot(q[2] - goal_pusher[1])
                }))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_of_a_rectangle_wrap_at_half_a_turn() {
        use std::f32::consts::PI;
        assert!(heading_error(0.1, PI + 0.1) < 1e-5);
        assert!((heading_error(0.0, PI / 2.0) - PI / 2.0).abs() < 1e-5);
        assert!((heading_error(-0.2, 0.3) - 0.5).abs() < 1e-5);
    }
}
