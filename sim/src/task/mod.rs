//! Planning tasks: a start state, a goal given as an image, a step budget, and a success test on
//! the simulator's true state.
//!
//! The separation between what a planner may see and what only the judge may see is in the
//! types: a [`TaskEpisode`] hands out camera frames and the goal image; the true state stays
//! inside and is read only by [`TaskEpisode::judge`] (the harness's verdict) and
//! [`TaskEpisode::imagine_distances`] (the simulator-as-model oracle, which is the baseline that
//! is allowed to cheat). Goals are the state a reference policy (the exploration policy) reached
//! from the same start, so every goal is reachable; episode seeds come from the test split,
//! disjoint from the training seeds.

mod block;
mod cart;
mod table;
mod task_episode;

use crate::camera::Raster;
use crate::error::{Result, SimError};
use crate::render::Frame;
use crate::scene::SceneSpec;
use crate::seed::{EpisodeKey, EpisodeSeeds, Split};

/// A task's registry entry.
pub struct TaskSpec {
    /// Name (CLI, result files).
    pub name: &'static str,
    /// The scene it plays in.
    pub scene: &'static SceneSpec,
    /// What success means.
    pub description: &'static str,
    /// Changes whenever the task's episodes, goals or success test change, so that results
    /// cached for the old task are not taken for the new one (2: goals left to come to rest;
    /// 3: the pusher starts and stays in the picture).
    pub revision: u32,
    /// Steps of the reference policy that made the goal.
    pub goal_steps: usize,
    /// Steps a planner may take.
    pub budget: usize,
    /// Steps a planner looks ahead by default: long enough to see the effect of an action (a
    /// pushed cart slides on for most of a second).
    pub horizon: usize,
    make: fn(&'static TaskSpec, EpisodeSeeds, Raster) -> Result<Box<dyn TaskEpisode>>,
}

impl std::fmt::Debug for TaskSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl TaskSpec {
    /// Episode `index` of this task for a global `seed`, rendering `size` x `size` frames (a
    /// bare side: one ray per pixel).
    pub fn episode(
        &'static self,
        seed: u64,
        index: u64,
        raster: impl Into<Raster>,
    ) -> Result<Box<dyn TaskEpisode>> {
        let raster: Raster = raster.into();
        let raster = Raster::new(raster.size, raster.samples)?;
        let tag = format!("plan/{}", self.name);
        let seeds = EpisodeKey {
            seed,
            scene: &tag,
            split: Split::Test,
            index,
        }
        .seeds();
        (self.make)(self, seeds, raster)
    }
}

/// Bring the pusher to where the reference policy left it (within 2 cm).
pub static REACH: TaskSpec = TaskSpec {
    name: "reach",
    revision: 3,
    scene: &crate::scene::cart_platform::SPEC,
    description: "bring the pusher within 2 cm of its goal position",
    goal_steps: 15,
    budget: 30,
    horizon: 5,
    make: cart::make,
};

/// Push the cart where the reference policy pushed it (within 5 cm, or off the edge if it fell).
pub static CART_PUSH: TaskSpec = TaskSpec {
    name: "cart_push",
    revision: 3,
    scene: &crate::scene::cart_platform::SPEC,
    description: "push the cart within 5 cm of its goal position, or off the edge when the goal has it fallen",
    goal_steps: 30,
    budget: 60,
    horizon: 25,
    make: cart::make,
};

/// Push a block to where and how the reference policy left it (5 cm, 20 degrees).
pub static BLOCK_PUSH: TaskSpec = TaskSpec {
    name: "block_push",
    revision: 3,
    scene: &crate::scene::table_clearing::SPEC,
    description: "push a rectangular block within 5 cm and 20 degrees of its goal pose (the PushT of this world)",
    goal_steps: 30,
    budget: 60,
    horizon: 25,
    make: block::make,
};

/// Push every object off the table.
pub static TABLE_CLEAR: TaskSpec = TaskSpec {
    name: "table_clear",
    revision: 2,
    scene: &crate::scene::table_clearing::SPEC,
    description: "push every object off the table within the budget (the goal image is the empty table)",
    goal_steps: 0,
    budget: 150,
    horizon: 15,
    make: table::make,
};

/// Every task.
pub static TASKS: &[&TaskSpec] = &[&REACH, &CART_PUSH, &BLOCK_PUSH, &TABLE_CLEAR];

/// The task with this name, or an error listing them.
pub fn find(name: &str) -> Result<&'static TaskSpec> {
    TASKS
        .iter()
        .copied()
        .find(|t| t.name == name)
        .ok_or_else(|| SimError::OutOfRange {
            what: "task",
            value: name.to_owned(),
            expected: format!(
                "one of {}",
                TASKS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
            ),
        })
}

/// The mean of per-step distances (infinite for an empty sequence).
fn mean(xs: &[f32]) -> f32 {
    if xs.is_empty() {
        return f32::INFINITY;
    }
    xs.iter().sum::<f32>() / xs.len() as f32
}

/// The verdict on the true state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judgement {
    /// Whether the task is achieved.
    pub success: bool,
    /// The task's distance to its goal, metres (0 when achieved by a rule without distance).
    pub distance: f32,
    /// For table clearing, the share of objects off the table.
    pub cleared: Option<f32>,
}

/// One planning episode.
pub trait TaskEpisode: Send {
    /// Its task.
    fn spec(&self) -> &'static TaskSpec;
    /// Entries per action.
    fn action_dim(&self) -> usize;
    /// Every action entry lies in `[-max_action, max_action]`.
    fn max_action(&self) -> f32;
    /// The camera image now.
    fn frame(&mut self) -> Frame;
    /// The goal image.
    fn goal(&self) -> &Frame;
    /// Takes one action (clamped to the action space) and returns the next image.
    fn step(&mut self, action: &[f32]) -> Result<Frame>;
    /// Steps taken so far.
    fn steps_taken(&self) -> usize;
    /// The verdict on the true state now (for the harness; planners never get it).
    fn judge(&self) -> Judgement;
    /// The simulator as a model (the oracle): for each of `samples` action sequences
    /// `[samples, horizon, A]`, the task's distance averaged over the steps of running it from
    /// now (so the first action matters, not only where the sequence ends); the episode is left
    /// exactly as it was.
    fn imagine_distances(&mut self, actions: &[f32], samples: usize) -> Vec<f32>;
    /// The simulator as a perfect video predictor: for each of `samples` action sequences
    /// `[samples, horizon, A]`, the frame after every step of running it from now; the episode
    /// is left exactly as it was. (No true state in it, but the future itself: for the baseline
    /// that shows what planning towards the goal image could reach with a perfect predictor.)
    fn imagine_frames(&mut self, actions: &[f32], samples: usize) -> Vec<Vec<Frame>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episodes_are_reproducible_and_goals_differ_from_starts() {
        for task in TASKS {
            let mut a = task.episode(0, 1, 32).unwrap();
            let mut b = task.episode(0, 1, 32).unwrap();
            assert_eq!(a.frame(), b.frame(), "{}", task.name);
            assert_eq!(a.goal(), b.goal(), "{}", task.name);
            assert_ne!(
                &a.frame(),
                a.goal(),
                "{}: the goal is not the start",
                task.name
            );
            assert!(!a.judge().success || task.name == "reach", "{}", task.name);
            let other = task.episode(0, 2, 32).unwrap();
            assert_ne!(a.goal(), other.goal(), "{}", task.name);
        }
        assert!(find("fly").unwrap_err().to_string().contains("reach"));
    }

    #[test]
    fn imagining_leaves_the_episode_untouched() {
        for task in TASKS {
            let mut e = task.episode(3, 0, 32).unwrap();
            let before = (e.frame(), e.judge());
            let a = e.action_dim();
            let actions: Vec<f32> = (0..2 * 5 * a)
                .map(|i| if i % 2 == 0 { 1.0 } else { -0.5 })
                .collect();
            let d1 = e.imagine_distances(&actions, 2);
            let d2 = e.imagine_distances(&actions, 2);
            assert_eq!(d1.len(), 2);
            assert_eq!(d1[0].to_bits(), d2[0].to_bits());
            let seen = e.imagine_frames(&actions, 2);
            assert_eq!((e.frame(), e.judge()), before, "{}", task.name);
            assert_eq!(e.steps_taken(), 0);
            // The imagined frames are the ones stepping for real shows.
            assert_eq!(seen.len(), 2);
            assert_eq!(seen[1].len(), 5);
            for (k, frame) in seen[1].iter().enumerate() {
                let at = (5 + k) * a;
                assert_eq!(
                    &e.step(&actions[at..at + a]).unwrap(),
                    frame,
                    "{} step {k}",
                    task.name
                );
            }
        }
    }
}
