//! Debug: the oracle on a task, per episode: `cargo run --example plan_debug -- TASK SAMPLES ITERS HORIZON SEED EPISODES`.
use moravec_agents::planning::{Agent, Cem, CemConfig, Oracle, Planner, run_episode};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let task = moravec_sim::task::find(args.get(1).map_or("reach", |s| s))?;
    let samples: usize = args.get(2).map_or(48, |s| s.parse().unwrap());
    let iterations: usize = args.get(3).map_or(5, |s| s.parse().unwrap());
    let horizon: usize = args.get(4).map_or(5, |s| s.parse().unwrap());
    let seed: u64 = args.get(5).map_or(0, |s| s.parse().unwrap());
    let episodes: u64 = args.get(6).map_or(10, |s| s.parse().unwrap());
    for i in 0..episodes {
        let mut ep = task.episode(seed, i, 16)?;
        let start = ep.judge();
        let mut o = Oracle::new(
            Planner::Cem(Cem::new(CemConfig {
                samples,
                iterations,
                elites: samples / 8,
                ..CemConfig::dino_wm()
            })?),
            horizon,
        );
        let r = run_episode(&mut *ep, Agent::Oracle(&mut o))?;
        println!(
            "{i}: start {:.3} end {:?} {:.3} s/action",
            start.distance, r.judgement, r.seconds_per_action
        );
    }
    Ok(())
}
