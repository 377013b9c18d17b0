//! `block_push`: push a rectangular block to a goal position and heading on the table (the PushT
//! of this world).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::spec::Tolerance;
use super::spec::{Judgement, TaskEpisode, TaskSpec};
use super::task_episode::{Goal, SceneTaskEpisode, reference_goal};
use crate::camera::Raster;
use crate::env::{EnvSnapshot, Environment, Scene, SceneEnv};
use crate::error::{Result, SimError};
use crate::nuisance::{Nuisance, nuisance_seed};
use crate::policy::Explorer;
use crate::scene::table_clearing::TableClearing;
use crate::seed::EpisodeSeeds;
use crate::world::{BodyId, World};

/// Heading tolerance, degrees.
const HEADING_TOLERANCE: f32 = 20.0;

/// Where the reference policy left the block (and the pusher, which the goal image shows).
struct BlockGoal {
    block: BodyId,
    /// How near its goal position the block and the pusher must end (the task's).
    tolerance: Tolerance,
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
    nuisance: Nuisance,
) -> Result<Box<dyn TaskEpisode>> {
    Ok(Box::new(episode(spec, seeds, raster, nuisance)?))
}

/// The episode, at its start, with its goal.
fn episode(
    spec: &'static TaskSpec,
    seeds: EpisodeSeeds,
    raster: Raster,
    nuisance: Nuisance,
) -> Result<SceneTaskEpisode<TableClearing, BlockGoal>> {
    let (world, scene) = TableClearing::build_block(&mut ChaCha8Rng::seed_from_u64(seeds.env));
    let block = scene.objects()[0];
    let pusher = scene.pusher().expect("a pusher");
    let mut env = SceneEnv::from_world(raster, world, scene)?;
    confine_to_view(&mut env, spec)?;
    env.set_nuisance(nuisance, nuisance_seed(seeds.env));
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
            spec.tolerance.far(to[0] - from[0], to[1] - from[1]) && !scene.is_off(world, block)
        },
    )?;
    let goal = env.observe().frame;
    let target = pose(env.world(), block);
    let p = env.world().position(pusher);
    env.restore(&start);
    let goal_state = BlockGoal {
        block,
        tolerance: spec.tolerance,
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

    /// Whether the block is within the position and heading tolerances.
    fn block_within(&self, world: &World) -> bool {
        let p = pose(world, self.block);
        self.tolerance
            .holds(p[0] - self.target[0], p[1] - self.target[1])
            && heading_error(p[2], self.target[2]).to_degrees() < HEADING_TOLERANCE
    }
}

impl Goal<TableClearing> for BlockGoal {
    fn judge(&self, world: &World, scene: &TableClearing) -> Judgement {
        let object_success = self.block_within(world);
        let q = world.position(scene.pusher().expect("a pusher"));
        let pusher = self
            .tolerance
            .holds(q[0] - self.target_pusher[0], q[2] - self.target_pusher[1]);
        Judgement {
            success: object_success && pusher,
            object_success,
            distance: self.errors(world).0,
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
            let mut env = block_push(index).env;
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

    fn block_push(index: u64) -> SceneTaskEpisode<TableClearing, BlockGoal> {
        let seeds = EpisodeKey {
            seed: 0,
            scene: "plan/block_push",
            split: Split::Test,
            index,
        }
        .seeds();
        episode(&BLOCK_PUSH, seeds, 16.into(), Nuisance::NONE).unwrap()
    }

    /// Puts `body` at (x, z) turned by `yaw` about the vertical (or as it is), at its own
    /// height, without stepping.
    fn place(world: &mut World, body: BodyId, x: f32, z: f32, yaw: Option<f32>) {
        let s = world.body_state(body);
        let q = yaw.map_or([s[3], s[4], s[5], s[6]], |y| {
            [0.0, (y / 2.0).sin(), 0.0, (y / 2.0).cos()]
        });
        world.set_pose(body, [x, s[1], z, q[0], q[1], q[2], q[3]]);
    }

    /// The block and the pusher, each placed just inside and just outside the tolerance (and
    /// the block's heading just inside and outside its own) while the other sits on its goal.
    #[test]
    fn verdicts_judge_the_pusher_and_the_block_each_within_tolerance() {
        let mut e = block_push(0);
        let t = BLOCK_PUSH.tolerance;
        let [bx, bz, yaw] = e.goal.target;
        let [px, pz] = e.goal.target_pusher;
        let (block, pusher) = (e.goal.block, e.env.scene().pusher().unwrap());
        let h = HEADING_TOLERANCE.to_radians();
        for (block_off, turn, pusher_off, success, object_success) in [
            ([0.9, 0.0], 0.0, [0.0, 0.0], true, true),
            ([1.1, 0.0], 0.0, [0.0, 0.0], false, false),
            ([0.0, -1.1], 0.0, [0.0, 0.0], false, false),
            ([0.0, 0.0], 0.9, [0.0, 0.0], true, true),
            ([0.0, 0.0], -1.1, [0.0, 0.0], false, false),
            ([0.0, 0.0], 0.0, [0.0, 0.9], true, true),
            ([0.0, 0.0], 0.0, [-1.1, 0.0], false, true),
            ([0.0, 0.0], 0.0, [0.0, 1.1], false, true),
        ] {
            let w = e.env.world_mut();
            let (dx, dz) = (block_off[0] * t.across, block_off[1] * t.depth);
            place(w, block, bx + dx, bz + dz, Some(yaw + turn * h));
            let (dx, dz) = (pusher_off[0] * t.across, pusher_off[1] * t.depth);
            place(w, pusher, px + dx, pz + dz, None);
            let j = e.judge();
            let case = format!("block {block_off:?} turned {turn}, pusher {pusher_off:?}");
            assert_eq!(j.success, success, "{case}");
            assert_eq!(j.object_success, object_success, "{case}");
        }
    }

    /// The tolerance spans at least 1.5 pixels of the image at the task's size around every
    /// goal position of the block and the pusher, in every direction of the table's plane.
    #[test]
    fn tolerances_span_enough_pixels_at_the_task_size() {
        use crate::task::MIN_TOLERANCE_PIXELS;
        use crate::task::spec::fewest_tolerance_pixels;
        let goals = (0..20).map(block_push).flat_map(|e| {
            let y = e.env.scene().top();
            let [bx, bz, _] = e.goal.target;
            let [px, pz] = e.goal.target_pusher;
            [[bx, y, bz], [px, y, pz]]
        });
        let fewest = fewest_tolerance_pixels(&TableClearing::camera(), &BLOCK_PUSH, goals);
        eprintln!("fewest pixels across, towards the camera: {fewest:?}");
        assert!(
            fewest.iter().all(|&p| p >= MIN_TOLERANCE_PIXELS),
            "{fewest:?} pixels"
        );
    }

    #[test]
    fn headings_of_a_rectangle_wrap_at_half_a_turn() {
        use std::f32::consts::PI;
        assert!(heading_error(0.1, PI + 0.1) < 1e-5);
        assert!((heading_error(0.0, PI / 2.0) - PI / 2.0).abs() < 1e-5);
        assert!((heading_error(-0.2, 0.3) - 0.5).abs() < 1e-5);
    }
}
