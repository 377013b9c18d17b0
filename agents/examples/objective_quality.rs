//! Does a model's distance to the goal image order states as the task's true distance does?
//! Planning can only succeed where it does. Walks planning episodes of a task (seeds as `bench
//! plan` uses them) with the simulator oracle's actions (CEM at a tenth of DINO-WM's budget, so
//! the states approach the goal), every other action random, and at every step compares the
//! true distance to the
//! goal (the task's judge, which planners never see) with the model's L2 distance between the
//! encodings of the frame and of the goal image, and with the plain pixel distance:
//! Then, every fifth step, the planner's question itself: for 64 random action sequences over the
//! task's horizon, does the model's planning cost (L2 to the goal over the predicted steps, as
//! `bench plan` scores them) order them as the simulator's own distances do?
//! `cargo run --release -p moravec-agents --example objective_quality -- CHECKPOINT [TASK] [EPISODES]`.
//! Prints Spearman's rank correlations.

use std::path::PathBuf;

use anyhow::{Context, bail};
use candle_core::{Device, Tensor};
use moravec_agents::planning::{
    Cem, CemConfig, Distance, LatentObjective, Objective, Oracle, Planner, Privileged, View,
    frames_tensor, model_context,
};
use moravec_agents::train::load_checkpoint;
use moravec_sim::render::Frame;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    moravec_agents::allocator::retain_freed_memory();
    let mut args = std::env::args().skip(1);
    let Some(checkpoint) = args.next().map(PathBuf::from) else {
        bail!("usage: objective_quality CHECKPOINT [TASK] [EPISODES]");
    };
    let task = moravec_sim::task::find(&args.next().unwrap_or("cart_push".into()))?;
    let episodes: u64 = match args.next() {
        Some(n) => n
            .parse()
            .with_context(|| format!("EPISODES {n}: expected a count"))?,
        None => 10,
    };
    let device = Device::Cpu;
    let built = load_checkpoint(&checkpoint, &device)
        .with_context(|| format!("cannot load {}", checkpoint.display()))?;
    let model = &*built.model;
    let size = built.config.size;
    // (episode, true distance, model distance, pixel distance) per step.
    let mut rows: Vec<(u64, f32, f32, f32)> = Vec::new();
    // Spearman rho between model and simulator costs of random sequences, per probed state.
    let mut sequence_rhos: Vec<f64> = Vec::new();
    // The same cost on the encodings of the frames the sequences really produce: against the
    // simulator's distances (how well the objective could rank them with a perfect predictor),
    // and against the predicted cost (how well the predictor reproduces it).
    let (mut ceiling_rhos, mut fidelity_rhos): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let c = built.config.context;
    // A model with frameskip k plans whole model steps: the sequences cover the task's horizon
    // rounded up to whole model steps, and are the model's own actions laid end to end.
    let k = built.config.frameskip.max(1);
    let steps = task.horizon.div_ceil(k) * k;
    for i in 0..episodes {
        let mut e = task.episode(0, i, size)?;
        let goal = model.targets(&frames_tensor(&[e.goal()], &device)?)?;
        let goal_pixels = pixels(e.goal());
        let mut rng = ChaCha8Rng::seed_from_u64(i);
        let (a, max) = (e.action_dim(), e.max_action());
        let cem = Cem::new(CemConfig {
            samples: 30,
            iterations: 3,
            elites: 3,
            seed: i,
            ..CemConfig::dino_wm()
        })?;
        let mut oracle = Oracle::new(Planner::Cem(cem), task.horizon);
        let mut frame = e.frame();
        let (mut seen, mut taken): (Vec<Frame>, Vec<Vec<f32>>) = (Vec::new(), Vec::new());
        let goal_frames = frames_tensor(&[e.goal()], &device)?;
        let goal_frame = e.goal().clone();
        for t in 0..=task.budget {
            seen.push(frame.clone());
            if t % 5 == 0 {
                // The controller's context (every k-th frame for a model with frameskip k).
                let view = View {
                    frames: &seen,
                    actions: &taken,
                    goal: &goal_frame,
                    action_dim: a,
                    max_action: max,
                };
                let (at, past) = model_context(&view, c, k);
                let context: Vec<&Frame> = at.iter().map(|&j| &seen[j]).collect();
                let frames = frames_tensor(&context, &device)?;
                let past = Tensor::from_vec(past, (1, c - 1, k * a), &device)?;
                let mut objective = LatentObjective::new(
                    model,
                    &frames,
                    &past,
                    &goal_frames,
                    steps / k,
                    (-max, max),
                    Distance::L2,
                    true,
                )?;
                let samples = 64;
                let sequences: Vec<f32> = (0..samples * steps * a)
                    .map(|_| rng.random_range(-max..=max))
                    .collect();
                let predicted = objective.costs(&sequences, samples)?;
                let simulated = e.imagine_distances(&sequences, samples);
                let seen_cost = encoded_truth(
                    model, task, i, size, &taken, &sequences, samples, k, &goal, &device,
                )?;
                sequence_rhos.push(spearman(&simulated, &predicted));
                ceiling_rhos.push(spearman(&simulated, &seen_cost));
                fidelity_rhos.push(spearman(&seen_cost, &predicted));
            }
            let z = model.targets(&frames_tensor(&[&frame], &device)?)?;
            let latent = (z - &goal)?.sqr()?.mean_all()?.to_scalar::<f32>()?;
            let pix = pixels(&frame)
                .iter()
                .zip(&goal_pixels)
                .map(|(p, g)| (p - g) * (p - g))
                .sum::<f32>()
                / goal_pixels.len() as f32;
            rows.push((i, e.judge().distance, latent, pix));
            let action: Vec<f32> = if t % 2 == 0 {
                oracle.act(&mut *e)?
            } else {
                (0..a).map(|_| rng.random_range(-max..=max)).collect()
            };
            frame = e.step(&action)?;
            taken.push(action);
        }
    }
    let column = |k: usize, rows: &[(u64, f32, f32, f32)]| -> Vec<f32> {
        rows.iter()
            .map(|r| match k {
                1 => r.1,
                2 => r.2,
                _ => r.3,
            })
            .collect()
    };
    let within = |k: usize| {
        let per: Vec<f64> = (0..episodes)
            .map(|i| {
                let ep: Vec<_> = rows.iter().copied().filter(|r| r.0 == i).collect();
                spearman(&column(1, &ep), &column(k, &ep))
            })
            .filter(|r| r.is_finite())
            .collect();
        per.iter().sum::<f64>() / per.len().max(1) as f64
    };
    println!(
        "{} on {} ({} episodes x {} steps, oracle and random actions): Spearman rho with the true distance",
        model.name(),
        task.name,
        episodes,
        task.budget + 1
    );
    for (name, k) in [("model latent L2", 2), ("pixel L2", 3)] {
        println!(
            "  {name:16} all steps {:+.3}   within episodes (mean) {:+.3}",
            spearman(&column(1, &rows), &column(k, &rows)),
            within(k)
        );
    }
    for (what, rhos) in [
        ("planning cost vs the simulator's distances", &sequence_rhos),
        (
            "cost on the true frames' encodings vs the simulator's",
            &ceiling_rhos,
        ),
        (
            "planning cost vs the cost on the true frames' encodings",
            &fidelity_rhos,
        ),
    ] {
        let finite: Vec<f64> = rhos.iter().copied().filter(|r| r.is_finite()).collect();
        let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
        let positive = finite.iter().filter(|&&r| r > 0.0).count();
        println!(
            "  64 random {}-step sequences, {what}: mean rho {mean:+.3} over {} states ({positive} positive)",
            steps,
            finite.len()
        );
    }
    Ok(())
}

/// The planning cost (L2 to the goal over every step, as `bench plan` scores) of the frames each
/// sequence really produces: episode `index` replayed through `taken`, then each sequence run
/// and the frame after each model step (every `k`-th) encoded.
#[allow(clippy::too_many_arguments)]
fn encoded_truth(
    model: &dyn moravec_agents::models::WorldModel,
    task: &'static moravec_sim::task::TaskSpec,
    index: u64,
    size: usize,
    taken: &[Vec<f32>],
    sequences: &[f32],
    samples: usize,
    k: usize,
    goal: &Tensor,
    device: &Device,
) -> anyhow::Result<Vec<f32>> {
    let steps = task.horizon.div_ceil(k) * k;
    let a = sequences.len() / samples / steps;
    let mut costs = Vec::with_capacity(samples);
    for s in 0..samples {
        let mut e = task.episode(0, index, size)?;
        for act in taken {
            e.step(act)?;
        }
        let mut frames = Vec::with_capacity(steps / k);
        for j in 0..steps {
            let at = (s * steps + j) * a;
            let frame = e.step(&sequences[at..at + a])?;
            if (j + 1) % k == 0 {
                frames.push(frames_tensor(&[&frame], device)?);
            }
        }
        let z = model.targets(&Tensor::cat(&frames, 1)?)?;
        costs.push(
            z.broadcast_sub(goal)?
                .sqr()?
                .mean_all()?
                .to_scalar::<f32>()?,
        );
    }
    Ok(costs)
}

fn pixels(frame: &Frame) -> Vec<f32> {
    frame.data.iter().map(|&v| f32::from(v) / 255.0).collect()
}

/// Spearman's rank correlation (average ranks for ties); NaN when either side is constant.
fn spearman(x: &[f32], y: &[f32]) -> f64 {
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

fn ranks(v: &[f32]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0f64; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0;
        for &k in &order[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}
