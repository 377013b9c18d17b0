//! `table_clear` on the `table_clearing` scene.

use super::spec::{Judgement, TaskEpisode, TaskSpec};
use super::task_episode::{Goal, SceneTaskEpisode};
use crate::camera::Raster;
use crate::env::{Environment, Scene, SceneEnv};
use crate::error::Result;
use crate::nuisance::{Nuisance, nuisance_seed};
use crate::scene::table_clearing::TableClearing;
use crate::seed::EpisodeSeeds;
use crate::world::World;

/// An empty table.
struct TableGoal;

pub(super) fn make(
    spec: &'static TaskSpec,
    seeds: EpisodeSeeds,
    raster: Raster,
    nuisance: Nuisance,
) -> Result<Box<dyn TaskEpisode>> {
    let mut env = SceneEnv::<TableClearing>::new(raster)?;
    env.reset(seeds.env);
    super::block::confine_to_view(&mut env, spec)?;
    env.set_nuisance(nuisance, nuisance_seed(seeds.env));
    // The goal is the same table with nothing on it.
    let objects = env.scene().objects().to_vec();
    let goal = env.observe_hiding(&objects);
    Ok(Box::new(SceneTaskEpisode::new(spec, env, goal, TableGoal)))
}

/// How far the objects still on the table are from falling off (each: the shortest way over an
/// edge of the top), plus a tenth of the pusher's distance to the nearest of them so that the
/// oracle's short horizon still sees progress; 0 when the table is clear.
fn remaining(world: &World, scene: &TableClearing) -> (f32, usize) {
    let half = scene.half();
    let pusher = scene.pusher().map(|p| world.position(p));
    let mut total = 0.0;
    let mut nearest = f32::INFINITY;
    let mut left = 0;
    for &o in scene.objects() {
        if scene.is_off(world, o) {
            continue;
        }
        left += 1;
        let p = world.position(o);
        total += (half[0] - p[0].abs()).min(half[1] - p[2].abs()).max(0.0);
        if let Some(q) = pusher {
            nearest = nearest.min((p[0] - q[0]).hypot(p[2] - q[2]));
        }
    }
    if left > 0 && nearest.is_finite() {
        total += 0.1 * nearest;
    }
    (total, left)
}

impl Goal<TableClearing> for TableGoal {
    fn judge(&self, world: &World, scene: &TableClearing) -> Judgement {
        let (distance, left) = remaining(world, scene);
        let n = scene.objects().len();
        // The goal image shows the pusher too, but wherever it stands the table is clear.
        Judgement {
            success: left == 0,
            object_success: left == 0,
            distance,
            cleared: Some((n - left) as f32 / n.max(1) as f32),
        }
    }

    fn cost(&self, world: &World, scene: &TableClearing) -> f32 {
        remaining(world, scene).0
    }
}
