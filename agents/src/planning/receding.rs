//! The receding horizon shared by every planning controller: how many of a plan's actions are
//! executed before the next plan, the actions still queued, and the warm start of the next plan.
//!
//! Replanning after every action is the most closed-loop choice and the most expensive one;
//! DINO-WM's MPC executes a whole 5-step plan (`n_taken_actions: 5`) before planning again, which
//! divides the thinking per action by five. Both are a setting of this one type, so the oracles
//! and the models are always compared under the same schedule.

use std::collections::VecDeque;

use super::Plan;
use crate::error::{AgentError, Result};

/// Plans every `every` actions and hands out the queued ones in between.
#[derive(Clone, Debug)]
pub struct Receding {
    every: usize,
    queue: VecDeque<Vec<f32>>,
    warm: Option<Vec<f32>>,
}

impl Default for Receding {
    /// Replanning after every action.
    fn default() -> Self {
        Self {
            every: 1,
            queue: VecDeque::new(),
            warm: None,
        }
    }
}

impl Receding {
    /// Executes `every` actions of each plan (at most the plan's length) before replanning.
    pub fn new(every: usize) -> Result<Self> {
        if every == 0 {
            return Err(AgentError::OutOfRange {
                what: "actions executed per plan",
                value: every.to_string(),
                expected: "at least 1".into(),
            });
        }
        Ok(Self {
            every,
            ..Self::default()
        })
    }

    /// Actions executed per plan.
    pub fn every(&self) -> usize {
        self.every
    }

    /// The next action: a queued one, or the first of a new plan made by `plan` from the warm
    /// start (the rest of the previous plan, its last action repeated to fill the horizon).
    pub fn next(
        &mut self,
        action_dim: usize,
        plan: impl FnOnce(Option<&[f32]>) -> Result<Plan>,
    ) -> Result<Vec<f32>> {
        if self.queue.is_empty() {
            let plan = plan(self.warm.as_deref())?;
            let steps = plan.actions.len() / action_dim.max(1);
            let k = self.every.min(steps).max(1);
            self.queue
                .extend(plan.actions.chunks(action_dim).take(k).map(<[f32]>::to_vec));
            self.warm = Some(plan.shifted_by(k, action_dim));
        }
        self.queue
            .pop_front()
            .ok_or_else(|| AgentError::OutOfRange {
                what: "plan",
                value: "no actions".into(),
                expected: "at least one action".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(actions: &[f32]) -> Plan {
        Plan {
            actions: actions.to_vec(),
            cost: 0.0,
        }
    }

    #[test]
    fn plans_once_per_every_actions_and_hands_them_out_in_order() {
        let mut r = Receding::new(3).unwrap();
        let mut calls = Vec::new();
        let mut taken = Vec::new();
        for i in 0..7 {
            let a = r
                .next(2, |warm| {
                    calls.push((i, warm.map(<[f32]>::to_vec)));
                    let base = 10.0 * calls.len() as f32;
                    Ok(plan(&[
                        base,
                        0.,
                        base + 1.,
                        1.,
                        base + 2.,
                        2.,
                        base + 3.,
                        3.,
                    ]))
                })
                .unwrap();
            taken.push(a);
        }
        // Plans at actions 0, 3 and 6; each hands out its first three actions.
        assert_eq!(calls.iter().map(|c| c.0).collect::<Vec<_>>(), [0, 3, 6]);
        assert_eq!(calls[0].1, None);
        // The warm start is the plan without its first three actions, the last one repeated.
        assert_eq!(
            calls[1].1.as_deref(),
            Some(&[13., 3., 13., 3., 13., 3., 13., 3.][..])
        );
        assert_eq!(
            taken[..4],
            [vec![10., 0.], vec![11., 1.], vec![12., 2.], vec![20., 0.]]
        );
        assert_eq!(taken[6], vec![30., 0.]);
    }

    #[test]
    fn every_longer_than_the_plan_executes_the_whole_plan() {
        let mut r = Receding::new(5).unwrap();
        let mut plans = 0;
        for _ in 0..4 {
            r.next(1, |_| {
                plans += 1;
                Ok(plan(&[1., 2.]))
            })
            .unwrap();
        }
        assert_eq!(plans, 2);
    }

    #[test]
    fn every_action_replanning_is_the_default_and_zero_is_refused() {
        assert_eq!(Receding::default().every(), 1);
        assert!(Receding::new(0).is_err());
    }
}
