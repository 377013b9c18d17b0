//! `block_push`: push a rectangular block to a goal position and heading on the table (the PushT
//! of this world).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::spec::{Judgement, TaskEpisode, TaskSpec};
use super::task_episode::{Goal, MIN_MOVE, SceneTaskEpisode, reference_goal};
use crate::camera::Raster;
use crate::env::{EnvSnapshot, Environment, Scene, SceneEnv};
use crate::error::{Result, SimError};
use crate::policy::Explorer;
use crate::scene::table_clearing::TableClearing;
use crate::seed::EpisodeSeeds;
use crate::world::{BodyId, World};

/// Position tolerance, metres.
const POSITION_TOLERANCE: f32 = 0.05;
/// Heading tolerance, degrees.
const HEADING_TOLERANCE: f32 = 20.0;

/// Where the reference policy left the block (and the pusher, which the goal image shows).
struct BlockGoal {
    block: BodyId,
    /// Goal position (x, z) and heading (radians) of the block.
    target: [f32; 3],
    /// Goal position (x, z) of the pusher.
    target_pusher: [f32; 2],
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
    raster: Raster,
) -> Result<Box<dyn TaskEpisode>> {
    Ok(Box::new(episode(spec, seeds, raster)?))
}

/// The episode, at its start, with its goal.
fn episode(
    spec: &'static TaskSpec,
    seeds: EpisodeSeeds,
    raster: Raster,
) -> Result<SceneTaskEpisode<TableClearing, BlockGoal>> {
    let (world, scene) = TableClearing::build_block(&mut ChaCha8Rng::seed_from_u64(seeds.env));
    let block = scene.objects()[0];
    let pusher = scene.pusher().expect("a pusher");
    let mut env = SceneEnv::from_world(raster, world, scene)?;
    confine_to_view(&mut env, spec)?;
    let start: EnvSnapshot<TableClearing> = env.snapshot();
    let from = pose(env.world(), block);
    let mut policy = Explorer::new(seeds.policy);
    reference_goal(
        &mut env,
        &start,
        &mut policy,
        spec.goal_steps,
        |world, scene| {
            let to = pose(world, block);
            (to[0] - from[0]).hypot(to[1] - from[1]) >= MIN_MOVE && !scene.is_off(world, block)
        },
    )?;
    let goal = env.observe().frame;
    let target = pose(env.world(), block);
    let p = env.world().position(pusher);
    env.restore(&start);
    let goal_state = BlockGoal {
        block,
        target,
        target_pusher: [p[0], p[2]],
    };
    Ok(SceneTaskEpisode::new(spec, env, goal, goal_state))
}

/// Confines the pusher to the part of the table the camera sees (as on the cart platform: a
/// pusher out of the picture is a mismatch a planner can hide). It starts at the table's front,
/// well inside the picture; a start outside would be a broken camera or table.
pub(super) fn confine_to_view(env: &mut SceneEnv<TableClearing>, spec: &TaskSpec) -> Result<()> {
    let confined = env.scene_mut().confine_pusher_to_view();
    let p = env
        .world()
        .position(env.scene().pusher().expect("a pusher"));
    let (lo, hi) = env.scene().pusher_region();
    if confined && (lo[0]..=hi[0]).contains(&p[0]) && (lo[1]..=hi[1]).contains(&p[2]) {
        return Ok(());
    }
    Err(SimError::OutOfRange {
        what: "planning start",
        value: format!("{}: pusher at ({:.2}, {:.2})", spec.name, p[0], p[2]),
        expected: format!("inside the part of the table the camera sees, {lo:?} to {hi:?}"),
    })
}

impl BlockGoal {
    /// Position and heading errors.
    fn errors(&self, world: &World) -> (f32, f32) {
        let p = pose(world, self.block);
        (
            (p[0] - self.target[0]).hypot(p[1] - self.target[1]),
            heading_error(p[2], self.target[2]),
        )
    }
}

impl Goal<TableClearing> for BlockGoal {
    fn judge(&self, world: &World, _scene: &TableClearing) -> Judgement {
        let (d, h) = self.errors(world);
        Judgement {
            success: d < POSITION_TOLERANCE && h.to_degrees() < HEADING_TOLERANCE,
            distance: d,
            cleared: None,
        }
    }

    fn cost(&self, world: &World, scene: &TableClearing) -> f32 {
        let (d, h) = self.errors(world);
        let q = world.position(scene.pusher().expect("a pusher"));
        // 0.15 m per radian of heading; the pusher's goal leads it to the block.
        d + 0.15 * h + 0.5 * (q[0] - self.target_pusher[0]).hypot(q[2] - self.target_pusher[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{EpisodeKey, Split};
    use crate::task::BLOCK_PUSH;

    /// The camera sees the pusher whole wherever a planner drives it on the table.
    #[test]
    fn the_pusher_stays_in_the_picture() {
        let camera = TableClearing::camera();
        for index in 0..12 {
            let seeds = EpisodeKey {
                seed: 0,
                scene: "plan/block_push",
                split: Split::Test,
                index,
            }
            .seeds();
            let mut env = episode(&BLOCK_PUSH, seeds, 16.into()).unwrap().env;
            let top = env.scene().top();
            let pusher = env.scene().pusher().unwrap();
            let start = env.snapshot();
            for action in [[-1.5, 1.5], [1.5, 1.5], [-1.5, -1.5], [1.5, -1.5]] {
                env.restore(&start);
                for _ in 0..BLOCK_PUSH.budget {
                    env.step(&action).unwrap();
                }
                let p = env.world().position(pusher);
                for (dx, dz) in [(-0.1, -0.1), (-0.1, 0.1), (0.1, -0.1), (0.1, 0.1)] {
                    for y in [top, top + 0.3] {
                        assert!(
                            camera.sees([p[0] + dx, y, p[2] + dz]),
                            "{index}: {action:?} drove the pusher out of the picture to {p:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn headings_of_a_rectangle_wrap_at_half_a_turn() {
        use std::f32::consts::PI;
        assert!(heading_error(0.1, PI + 0.1) < 1e-5);
        assert!((heading_error(0.0, PI / 2.0) - PI / 2.0).abs() < 1e-5);
        assert!((heading_error(-0.2, 0.3) - 0.5).abs() < 1e-5);
    }
}
