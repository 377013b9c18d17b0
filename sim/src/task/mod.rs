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
mod spec;
mod table;
mod task_episode;

pub use spec::{Judgement, MIN_TOLERANCE_PIXELS, TaskEpisode, TaskSpec, Tolerance};

use crate::error::{Result, SimError};

/// Position tolerance on the cart platform: the side camera resolves 9 cm across the image and
/// 45 cm towards it with 1.5 pixels at 64x64 wherever a goal puts the cart or the pusher
/// (`tolerances_span_enough_pixels_at_the_task_size`).
const CART_PLATFORM_TOLERANCE: Tolerance = Tolerance {
    across: 0.09,
    depth: 0.45,
};
/// Position tolerance on the table, seen from higher up: 7 cm across, 12.5 cm towards the camera
/// (the same test).
const TABLE_TOLERANCE: Tolerance = Tolerance {
    across: 0.07,
    depth: 0.125,
};

/// Bring the pusher to where the reference policy left it, the cart left where it stands.
pub static REACH: TaskSpec = TaskSpec {
    name: "reach",
    revision: 4,
    size: 64,
    tolerance: CART_PLATFORM_TOLERANCE,
    scene: &crate::scene::cart_platform::SPEC,
    description: "bring the pusher within tolerance (9 cm across the image, 45 cm towards the camera) of its goal position, the cart within tolerance of where it stands",
    goal_steps: 15,
    budget: 30,
    horizon: 5,
    make: cart::make,
};

/// Push the cart where the reference policy pushed it (or off the edge if it fell), the pusher
/// ending where the goal image shows it.
pub static CART_PUSH: TaskSpec = TaskSpec {
    name: "cart_push",
    revision: 4,
    size: 64,
    tolerance: CART_PLATFORM_TOLERANCE,
    scene: &crate::scene::cart_platform::SPEC,
    description: "push the cart within tolerance (9 cm across the image and in height, 45 cm towards the camera) of its goal position, or off the goal's edge when the goal has it fallen, and end with the pusher within tolerance of its goal position",
    goal_steps: 30,
    budget: 60,
    horizon: 25,
    make: cart::make,
};

/// Push a block to where and how the reference policy left it, the pusher ending where the
/// goal image shows it.
pub static BLOCK_PUSH: TaskSpec = TaskSpec {
    name: "block_push",
    revision: 4,
    size: 64,
    tolerance: TABLE_TOLERANCE,
    scene: &crate::scene::table_clearing::SPEC,
    description: "push a rectangular block within tolerance (7 cm across the image, 12.5 cm towards the camera) and 20 degrees of its goal pose and end with the pusher within tolerance of its goal position (the PushT of this world)",
    goal_steps: 30,
    budget: 60,
    horizon: 25,
    make: block::make,
};

/// Push every object off the table.
pub static TABLE_CLEAR: TaskSpec = TaskSpec {
    name: "table_clear",
    revision: 4,
    size: 64,
    tolerance: TABLE_TOLERANCE,
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
