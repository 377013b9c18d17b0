//! Planning in a world model's own space: the cost of an action sequence is the distance between
//! the model's predicted targets and the goal image's (latents for JEPAs, pixels for pixel
//! models). The objective holds only what the model saw (its context latents, the actions
//! already taken and the goal's encoding), never a simulator state.

use candle_core::{D, Tensor};
use serde::{Deserialize, Serialize};

use super::{Differentiable, Objective};
use crate::error::{AgentError, Result};
use crate::models::{FrozenPredictor, Scored, WorldModel};
use crate::ops::kernels::vectorised;

/// How far a prediction is from the goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// Mean absolute difference.
    L1,
    /// Mean squared difference.
    L2,
    /// Mean squared difference over a spatial pyramid: the grid of tokens (or pixels), then its
    /// averages over windows of 2, 4, ... cells (zero-padded, each window overlapping its
    /// neighbours by half) up to the whole grid, each level's mean added. Why: with one object
    /// far from where the goal image has it, the difference at full resolution is the same
    /// wherever the object is (two places differ, whatever their distance), a flat cost a
    /// sampling planner cannot descend; the averaged windows still change as it nears the goal.
    L2Pyramid,
}

/// The cost of action sequences through a world model.
pub struct LatentObjective<'a> {
    model: &'a dyn WorldModel,
    /// Context latents `[1, C, N, D]`.
    context: Tensor,
    /// Actions taken between the context frames, `[1, C - 1, A]`.
    past: Tensor,
    /// The goal in target space, `[1, 1, N, Dt]`.
    goal: Tensor,
    horizon: usize,
    bounds: (f32, f32),
    distance: Distance,
    /// Score every predicted step (true) or only the last (false).
    all_steps: bool,
    /// The predictor out of the graph with the context's and the past actions' numbers, where
    /// the model has one and runs on the CPU: [`Objective::costs`] then goes through it.
    frozen: Option<Frozen>,
}

/// What [`FrozenPredictor::rollout_shared`] needs besides the planned actions.
struct Frozen {
    predictor: FrozenPredictor,
    /// `[C, N, D]`.
    context: Vec<f32>,
    /// `[C - 1, A]`.
    past: Vec<f32>,
    /// The goal's targets `[N, Dt]`.
    goal: Vec<f32>,
    /// The last rollout's predictions where candle's sum is not reproduced here, its memory
    /// kept for the next.
    predicted: Vec<f32>,
}

impl<'a> LatentObjective<'a> {
    /// From the last C observed frames `[1, C, 3, H, W]`, the C - 1 actions between them
    /// `[1, C - 1, A]` and the goal image `[1, 1, 3, H, W]`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &'a dyn WorldModel,
        frames: &Tensor,
        past_actions: &Tensor,
        goal: &Tensor,
        horizon: usize,
        bounds: (f32, f32),
        distance: Distance,
        all_steps: bool,
    ) -> Result<Self> {
        let c = model.config().context;
        let a = model.config().action_dim;
        let (_, l, _, _, _) = frames.dims5()?;
        let (_, p, pa) = past_actions.dims3()?;
        if l != c || p + 1 != c || pa != a || horizon == 0 {
            return Err(AgentError::OutOfRange {
                what: "planning context",
                value: format!("{l} frames, {p} actions of {pa}, horizon {horizon}"),
                expected: format!(
                    "{c} frames, {} actions of {a} (the model's context) and a horizon >= 1",
                    c - 1
                ),
            });
        }
        let context = model.encode(frames)?.detach();
        let goal = model.targets(goal)?.detach();
        let frozen = match model.frozen_predictor()? {
            Some(predictor) if context.device().is_cpu() => Some(Frozen {
                predictor,
                context: context.flatten_all()?.to_vec1()?,
                past: past_actions.flatten_all()?.to_vec1()?,
                goal: goal.flatten_all()?.to_vec1()?,
                predicted: Vec::new(),
            }),
            _ => None,
        };
        Ok(Self {
            model,
            context,
            past: past_actions.clone(),
            goal,
            horizon,
            bounds,
            distance,
            all_steps,
            frozen,
        })
    }
}

impl Objective for LatentObjective<'_> {
    fn horizon(&self) -> usize {
        self.horizon
    }
    fn action_dim(&self) -> usize {
        self.model.config().action_dim
    }
    fn bounds(&self) -> (f32, f32) {
        self.bounds
    }
    fn costs(&mut self, actions: &[f32], samples: usize) -> Result<Vec<f32>> {
        let a = self.action_dim();
        let h = self.horizon;
        if actions.len() != samples * h * a {
            return Err(AgentError::OutOfRange {
                what: "planned actions",
                value: actions.len().to_string(),
                expected: format!("{samples} samples x {h} steps x {a} = {}", samples * h * a),
            });
        }
        if let Some(frozen) = &mut self.frozen {
            // The past actions before each sample's plan, then the rollout outside the graph:
            // the same predictions as `cost_tensor`'s, to the bit.
            let mut all = Vec::with_capacity(samples * (frozen.past.len() + h * a));
            for i in 0..samples {
                all.extend_from_slice(&frozen.past);
                all.extend_from_slice(&actions[i * h * a..][..h * a]);
            }
            // The pyramid's levels are scored through candle, from the predictions.
            let squared = match self.distance {
                Distance::L1 => Some(false),
                Distance::L2 => Some(true),
                Distance::L2Pyramid => None,
            };
            if let (Some(squared), true) = (squared, candle_sums_in_lanes()) {
                // Each sample's cost as its predictions come out of the rollout, to the bit
                // `score`'s: candle's mean is the sum times the reciprocal of the count, as f32,
                // plus 0.
                let scored = if self.all_steps { h } else { 1 };
                let scale = (1.0 / (scored * frozen.goal.len()) as f64) as f32;
                let goal = &frozen.goal;
                return frozen.predictor.rollout_costs(
                    &frozen.context,
                    &all,
                    samples,
                    h,
                    scored,
                    |scored| distance_sum(scored, goal, squared) * scale + 0.0,
                );
            }
            frozen.predictor.rollout_shared_into(
                &frozen.context,
                &all,
                samples,
                h,
                &mut frozen.predicted,
            )?;
            let (_, _, n, d) = self.context.dims4()?;
            let predicted =
                Tensor::from_slice(&frozen.predicted, (samples, h, n, d), self.context.device())?;
            return Ok(score(&predicted, &self.goal, self.distance, self.all_steps)?.to_vec1()?);
        }
        let t = Tensor::from_slice(actions, (samples, h, a), self.context.device())?;
        Ok(self.cost_tensor(&t)?.to_vec1()?)
    }
}

impl Differentiable for LatentObjective<'_> {
    fn cost_tensor(&self, actions: &Tensor) -> Result<Tensor> {
        let (s, h, a) = actions.dims3()?;
        let c = self.context.dim(1)?;
        let past = self.past.broadcast_as((s, c - 1, a))?.contiguous()?;
        let all = Tensor::cat(&[&past, actions], 1)?;
        // One context for all samples: the predictor computes its part once.
        let predicted = self.model.predict_targets(&self.context, &all, h)?;
        score(&predicted, &self.goal, self.distance, self.all_steps)
    }
}

/// The cost `[S]` of predicted targets `[S, H, N, Dt]` against the goal's `[1, 1, N, Dt]`: the
/// mean distance over every step, or over the last.
pub(super) fn score(
    predicted: &Tensor,
    goal: &Tensor,
    distance: Distance,
    all_steps: bool,
) -> Result<Tensor> {
    let h = predicted.dim(1)?;
    let scored = if all_steps {
        predicted.clone()
    } else {
        predicted.narrow(1, h - 1, 1)?
    };
    let diff = scored.broadcast_sub(goal)?;
    let per = match distance {
        Distance::L1 => diff.abs()?,
        Distance::L2 => diff.sqr()?,
        Distance::L2Pyramid => return pyramid(&diff),
    };
    Ok(per.flatten_from(1)?.mean(D::Minus1)?)
}

/// [`Distance::L2Pyramid`] of differences `[S, H, N, D]` whose N cells form a square grid:
/// `[S]`, the mean over steps of the sum over levels of each level's mean squared (averaged)
/// difference.
fn pyramid(diff: &Tensor) -> Result<Tensor> {
    let (s, h, n, d) = diff.dims4()?;
    let side = (n as f64).sqrt().round() as usize;
    if side * side != n {
        return Err(AgentError::OutOfRange {
            what: "pyramid distance",
            value: format!("{n} cells"),
            expected: "a square grid of cells (tokens or pixels)".into(),
        });
    }
    // [S H, D, side, side]: channels first, as the pooling wants.
    let full = diff
        .reshape((s * h, side, side, d))?
        .permute((0, 3, 1, 2))?
        .contiguous()?;
    let mut cost = full.sqr()?.flatten_from(1)?.mean(1)?;
    // Windows of 2^(l+1) cells every 2^l, up to the whole grid: overlapping by half, so an
    // object near the goal's place shares a window with it at a fine level even where a grid
    // of disjoint cells would put a border between them.
    let mut stride = 1;
    while 2 * stride <= side {
        // Zeros around, so every cell lies in four windows: unpadded, a cell at the border
        // lies in fewer, and an object there would cost less than one inside.
        let padded = full
            .pad_with_zeros(2, stride, stride)?
            .pad_with_zeros(3, stride, stride)?;
        let pooled = padded.avg_pool2d_with_stride(2 * stride, stride)?;
        cost = (cost + pooled.sqr()?.flatten_from(1)?.mean(1)?)?;
        stride *= 2;
    }
    Ok(cost.reshape((s, h))?.mean(1)?)
}

/// The summed distance (squared differences, or absolute ones) of one sample's scored steps
/// (`[steps, N, D]`) to the goal `[N, D]`, as candle sums it in [`score`] for
/// [`Distance::L2`] and [`Distance::L1`] (to the bit; only where [`candle_sums_in_lanes`]),
/// without the three tensors the size of every prediction that `score` builds (7% of
/// planning's time at the CEM defaults). With rows of a multiple of 32 numbers (every preset's)
/// each distance goes straight into candle's lanes, as the rollout left it: no copy.
#[inline]
fn distance_sum(scored: Scored<'_>, goal: &[f32], squared: bool) -> f32 {
    let mut sum = 0.0;
    // In the vector unit, each distance a function of its own (a branch on `squared` inside
    // the loop kept it scalar): each lane's additions in candle's order.
    vectorised(
        #[inline(always)]
        || {
            sum = if squared {
                distance_sum_of(scored, goal, |x| x * x)
            } else {
                distance_sum_of(scored, goal, f32::abs)
            }
        },
    );
    sum
}

/// [`distance_sum`] with each difference's distance `f`.
#[inline(always)]
fn distance_sum_of(scored: Scored<'_>, goal: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let d = scored.dim();
    let goal_rows = goal.chunks_exact(d).cycle();
    if !d.is_multiple_of(LANE_BLOCK) {
        let per: Vec<f32> = scored
            .rows()
            .zip(goal_rows)
            .flat_map(|(p, g)| p.iter().zip(g).map(|(&p, &g)| f(p - g)))
            .collect();
        return candle_sum(&per);
    }
    // Each row's blocks of 32 are blocks of the whole, in order; no tail.
    let mut lanes = [0f32; LANE_BLOCK];
    for (p, g) in scored.rows().zip(goal_rows) {
        let (p, g) = (p.as_chunks::<LANE_BLOCK>().0, g.as_chunks::<LANE_BLOCK>().0);
        for (p, g) in p.iter().zip(g) {
            for ((a, &p), &g) in lanes.iter_mut().zip(p).zip(g) {
                *a += f(p - g);
            }
        }
    }
    fold_lanes(&lanes, &[])
}

/// Whether candle sums a row of f32 in the vector lanes [`candle_sum`] reproduces (its AVX2
/// kernel, chosen at run time on x86-64).
fn candle_sums_in_lanes() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The numbers candle's AVX2 sum takes at a time: four accumulators of eight lanes.
const LANE_BLOCK: usize = 32;

/// candle's sum of a row of f32 on x86-64 with AVX2 (`cpu::avx::vec_sum`): four accumulators of
/// eight lanes over blocks of 32, added pairwise, the eight lanes folded by halves, then the
/// tail in order. `planning::latent`'s tests check it against candle to the bit.
#[inline(always)]
fn candle_sum(row: &[f32]) -> f32 {
    let (blocks, tail) = row.as_chunks::<LANE_BLOCK>();
    let mut lanes = [0f32; LANE_BLOCK];
    for block in blocks {
        for (a, &x) in lanes.iter_mut().zip(block) {
            *a += x;
        }
    }
    fold_lanes(&lanes, tail)
}

/// The end of [`candle_sum`]: accumulator `j`'s lane `l` at `lanes[8 j + l]`, folded, then the
/// `tail` added in order.
#[inline(always)]
fn fold_lanes(lanes: &[f32; LANE_BLOCK], tail: &[f32]) -> f32 {
    let acc = |j: usize, l: usize| lanes[8 * j + l];
    let x: [f32; 8] = std::array::from_fn(|l| (acc(0, l) + acc(1, l)) + (acc(2, l) + acc(3, l)));
    let t: [f32; 4] = std::array::from_fn(|l| x[l] + x[l + 4]);
    let mut sum = (t[0] + t[1]) + (t[2] + t[3]);
    for v in tail {
        sum += v;
    }
    sum
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::{VarBuilder, VarMap};

    use super::*;
    use crate::models::{ModelConfig, find, init::init};
    use crate::planning::{Cem, CemConfig, GradientConfig, GradientDescent};

    #[test]
    fn plans_through_a_model_with_gradients_reaching_the_actions() {
        let config = ModelConfig::preset("tiny", 16, 2).unwrap();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let model = (find("jepa-vicreg").unwrap().build)(&config, vb).unwrap();
        init(&varmap, 1).unwrap();
        let dev = Device::Cpu;
        let c = config.context;
        let frames = Tensor::rand(0f32, 1f32, (1, c, 3, 16, 16), &dev).unwrap();
        let past = Tensor::zeros((1, c - 1, 2), DType::F32, &dev).unwrap();
        let goal = Tensor::rand(0f32, 1f32, (1, 1, 3, 16, 16), &dev).unwrap();
        let mut objective = LatentObjective::new(
            &*model,
            &frames,
            &past,
            &goal,
            3,
            (-1.0, 1.0),
            Distance::L2,
            false,
        )
        .unwrap();
        let costs = objective.costs(&[0.0; 2 * 3 * 2], 2).unwrap();
        assert_eq!(costs.len(), 2);
        assert_eq!(
            costs[0].to_bits(),
            costs[1].to_bits(),
            "same actions, same cost"
        );
        let start = costs[0];
        let mut gd = GradientDescent::new(GradientConfig {
            steps: 20,
            starts: 2,
            ..GradientConfig::default()
        })
        .unwrap();
        let plan = gd.plan(&mut objective, None, &dev).unwrap();
        assert!(plan.cost < start, "{} should improve on {start}", plan.cost);
        assert_eq!(plan.actions.len(), 6);
        let mut cem = Cem::new(CemConfig {
            samples: 16,
            iterations: 2,
            elites: 4,
            ..CemConfig::dino_wm()
        })
        .unwrap();
        let plan = cem.plan(&mut objective, None).unwrap();
        assert!(plan.cost <= start);
        assert!(
            LatentObjective::new(
                &*model,
                &frames,
                &past,
                &goal,
                0,
                (-1.0, 1.0),
                Distance::L1,
                true
            )
            .is_err()
        );
    }

    /// The row sum the frozen costs use is candle's own, to the bit, for rows with and
    /// without a tail past the blocks of 32.
    #[test]
    fn the_row_sum_is_candles_to_the_bit() {
        if !candle_sums_in_lanes() {
            return;
        }
        for len in (0..130).chain([1024, 5120, 3072 + 17]) {
            let v: Vec<f32> = (0..len)
                .map(|i| ((i * 7919 % 1000) as f32 * 0.013 - 6.0) * (1.0 + (i % 3) as f32))
                .collect();
            let t = Tensor::from_vec(v.clone(), (1, len), &Device::Cpu).unwrap();
            let theirs: f32 = t.sum(D::Minus1).unwrap().to_vec1::<f32>().unwrap()[0];
            assert_eq!(candle_sum(&v).to_bits(), theirs.to_bits(), "length {len}");
        }
    }

    /// One cell of a 4x4 grid (of two channels) off by v = 2: v^2 over 32 numbers at full
    /// resolution, then (v / 4)^2 in the four of the padded grid's 5 x 5 windows of 2 that hold
    /// it (over 50), and (v / 16)^2 in four of its 3 x 3 windows of 4 (over 18).
    /// The fused sum over a sample's scored steps, read in place, against candle's sum of the
    /// same distances: rows of a multiple of 32 (straight into the lanes) and of other widths
    /// (gathered first), squared and absolute.
    #[test]
    fn the_distance_sum_is_candles_to_the_bit_for_any_row_width() {
        if !candle_sums_in_lanes() {
            return;
        }
        let dev = Device::Cpu;
        let (samples, n, steps, first) = (3, 5, 4, 1);
        for d in [8, 32, 40, 64] {
            let block: Vec<f32> = (0..samples * n * steps * d)
                .map(|i| (i * 7919 % 1000) as f32 * 0.013 - 6.0)
                .collect();
            let goal: Vec<f32> = (0..n * d)
                .map(|i| (i * 31 % 97) as f32 * 0.05 - 2.0)
                .collect();
            let goal_t = Tensor::from_vec(goal.clone(), (1, n, d), &dev).unwrap();
            for sample in 0..samples {
                let scored = Scored::new(&block, sample, n, d, steps, first);
                let rows: Vec<f32> = scored.rows().flatten().copied().collect();
                let diff = Tensor::from_vec(rows, (steps - first, n, d), &dev)
                    .unwrap()
                    .broadcast_sub(&goal_t)
                    .unwrap();
                for squared in [false, true] {
                    let per = if squared { diff.sqr() } else { diff.abs() }.unwrap();
                    let theirs: f32 = per
                        .reshape((1, (steps - first) * n * d))
                        .unwrap()
                        .sum(D::Minus1)
                        .unwrap()
                        .to_vec1::<f32>()
                        .unwrap()[0];
                    let ours = distance_sum(scored, &goal, squared);
                    assert_eq!(
                        ours.to_bits(),
                        theirs.to_bits(),
                        "width {d}, sample {sample}, squared {squared}: {ours} against {theirs}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_pyramid_adds_each_levels_mean() {
        let dev = Device::Cpu;
        let mut goal = vec![0f32; 16 * 2];
        goal[5 * 2 + 1] = 2.0;
        let goal = Tensor::from_vec(goal, (1, 1, 16, 2), &dev).unwrap();
        let predicted = Tensor::zeros((3, 2, 16, 2), DType::F32, &dev).unwrap();
        let cost: Vec<f32> = score(&predicted, &goal, Distance::L2Pyramid, false)
            .unwrap()
            .to_vec1()
            .unwrap();
        let expected = 4.0 / 32.0 + 4.0 * 0.25 / 50.0 + 4.0 * (1.0 / 64.0) / 18.0;
        assert_eq!(cost.len(), 3);
        for c in cost {
            assert!((c - expected).abs() < 1e-7, "{c} against {expected}");
        }
        let odd = Tensor::zeros((1, 1, 12, 2), DType::F32, &dev).unwrap();
        let err = score(&odd, &odd, Distance::L2Pyramid, true).unwrap_err();
        assert!(err.to_string().contains("12 cells"), "{err}");
    }

    /// Why the pyramid: an object far from the goal's place costs the same at full resolution
    /// wherever it is, and over the pyramid less as it comes nearer.
    #[test]
    fn the_pyramid_falls_as_an_object_nears_its_goal_where_l2_is_flat() {
        let dev = Device::Cpu;
        let blob = |row: usize, col: usize| {
            let mut v = vec![0f32; 64];
            v[row * 8 + col] = 1.0;
            v
        };
        let goal = Tensor::from_vec(blob(0, 0), (1, 1, 64, 1), &dev).unwrap();
        let far = [blob(7, 7), blob(5, 4), blob(3, 3), blob(2, 1), blob(1, 1)].concat();
        let predicted = Tensor::from_vec(far, (5, 1, 64, 1), &dev).unwrap();
        let cost = |distance| -> Vec<f32> {
            score(&predicted, &goal, distance, true)
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        let l2 = cost(Distance::L2);
        assert!(l2.iter().all(|&c| c == l2[0]), "{l2:?}");
        // Never dearer for coming nearer, cheaper in the end; the far corner no cheaper than
        // a cell inside (no pull towards the border).
        let pyramid = cost(Distance::L2Pyramid);
        assert!(
            pyramid.windows(2).all(|w| w[1] <= w[0]) && pyramid[4] < pyramid[2],
            "the nearer, the cheaper: {pyramid:?}"
        );
        assert!(pyramid[2] < pyramid[0], "{pyramid:?}");
    }

    #[test]
    fn sampled_costs_through_the_frozen_predictor_are_the_graph_costs_to_the_bit() {
        // 32x32 images: grids of 16 tokens, as every preset's (see `models::frozen`).
        let config = ModelConfig::preset("tiny", 32, 2).unwrap();
        let dev = Device::Cpu;
        for name in ["jepa-vicreg", "jepa-ema", "pixel-video"] {
            let varmap = VarMap::new();
            let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
            let model = (find(name).unwrap().build)(&config, vb).unwrap();
            init(&varmap, 3).unwrap();
            assert!(model.frozen_predictor().unwrap().is_some(), "{name}");
            let c = config.context;
            let frames = Tensor::rand(0f32, 1f32, (1, c, 3, 32, 32), &dev).unwrap();
            let past = Tensor::rand(-1f32, 1f32, (1, c - 1, 2), &dev).unwrap();
            let goal = Tensor::rand(0f32, 1f32, (1, 1, 3, 32, 32), &dev).unwrap();
            for (distance, all_steps) in [
                (Distance::L2, false),
                (Distance::L1, true),
                (Distance::L2, true),
                (Distance::L1, false),
                (Distance::L2Pyramid, true),
            ] {
                let (samples, horizon) = (21, 4);
                let mut objective = LatentObjective::new(
                    &*model,
                    &frames,
                    &past,
                    &goal,
                    horizon,
                    (-1.0, 1.0),
                    distance,
                    all_steps,
                )
                .unwrap();
                let actions = Tensor::rand(-1f32, 1f32, (samples, horizon, 2), &dev).unwrap();
                let flat: Vec<f32> = actions.flatten_all().unwrap().to_vec1().unwrap();
                let fast = objective.costs(&flat, samples).unwrap();
                let graph: Vec<f32> = objective.cost_tensor(&actions).unwrap().to_vec1().unwrap();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fast), bits(&graph), "{name} {distance:?} {all_steps}");
                assert!(objective.costs(&flat[1..], samples).is_err());
            }
        }
    }
}
