//! Planning on the tasks: the simulator oracle solves them (so the tasks and their success tests
//! are sound), random actions do not.

use moravec_agents::planning::{
    Agent, Cem, CemConfig, Oracle, Planner, RandomController, run_episode,
};
use moravec_sim::task::{CART_PUSH, REACH, TaskSpec};

/// Successes of the oracle (CEM with `samples` x `iterations` at the task's horizon) or of
/// random actions over `episodes` episodes.
fn success_rate(task: &'static TaskSpec, episodes: u64, oracle: Option<(usize, usize)>) -> f64 {
    let mut wins = 0;
    for i in 0..episodes {
        let mut episode = task.episode(0, i, 16).unwrap();
        let result = match oracle {
            Some((samples, iterations)) => {
                let cem = Cem::new(CemConfig {
                    samples,
                    iterations,
                    elites: samples / 8,
                    ..CemConfig::dino_wm()
                })
                .unwrap();
                let mut o = Oracle::new(Planner::Cem(cem), task.horizon);
                run_episode(&mut *episode, Agent::Oracle(&mut o)).unwrap()
            }
            None => {
                let mut r = RandomController::new(i);
                run_episode(&mut *episode, Agent::Observer(&mut r)).unwrap()
            }
        };
        assert_eq!(result.frames.len(), task.budget + 1);
        wins += usize::from(result.judgement.success);
    }
    wins as f64 / episodes as f64
}

#[test]
fn the_oracle_solves_reach_and_cart_push_and_random_does_not() {
    let n = 10;
    // Smaller CEM budgets than DINO-WM's 300 x 30 keep the test short.
    for (task, budget) in [(&REACH, (100, 10)), (&CART_PUSH, (64, 6))] {
        let oracle = success_rate(task, n, Some(budget));
        let random = success_rate(task, n, None);
        eprintln!("{}: oracle {oracle}, random {random}", task.name);
        assert!(oracle >= 0.9, "{}: oracle {oracle}", task.name);
        assert!(random <= 0.3, "{}: random {random}", task.name);
    }
}
