//! Model-predictive control on a planning task: plan, take the first action (or the first few,
//! see [`Receding`]), observe, replan.
//!
//! What a controller sees is a [`View`]: the frames so far, the actions taken, the goal image.
//! No true state is in it; only the [`Oracle`], the baseline that uses the simulator itself as
//! its model, is handed the task episode, through its own trait ([`Privileged`]).

use std::collections::VecDeque;
use std::time::Instant;

use candle_core::{Device, Tensor};
use moravec_sim::render::Frame;
use moravec_sim::task::{Judgement, TaskEpisode};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{
    Cem, Differentiable, Distance, GradientDescent, LatentObjective, Mppi, Objective, Plan,
    Receding, Refined,
};
use crate::error::{AgentError, Result};
use crate::models::WorldModel;

/// What a controller may look at.
pub struct View<'a> {
    /// Every frame so far, the current one last.
    pub frames: &'a [Frame],
    /// Every action taken so far (one fewer than the frames).
    pub actions: &'a [Vec<f32>],
    /// The goal image.
    pub goal: &'a Frame,
    /// Entries per action.
    pub action_dim: usize,
    /// Every entry lies in `[-max_action, max_action]`.
    pub max_action: f32,
}

/// A controller that sees only images and its own actions.
pub trait Controller {
    /// The next action.
    fn act(&mut self, view: &View) -> Result<Vec<f32>>;
}

/// A controller allowed to use the task episode itself (the simulator oracle).
pub trait Privileged {
    /// The next action.
    fn act(&mut self, task: &mut dyn TaskEpisode) -> Result<Vec<f32>>;
}

/// Who acts.
pub enum Agent<'a> {
    /// A controller that sees images only.
    Observer(&'a mut dyn Controller),
    /// The oracle.
    Oracle(&'a mut dyn Privileged),
}

/// How a planning episode went.
#[derive(Clone, Debug)]
pub struct EpisodeResult {
    /// The verdict at the end of the budget.
    pub judgement: Judgement,
    /// Whether the goal held after some step of the budget (DINO-WM's sticky success), the
    /// end included.
    pub ever_reached: bool,
    /// Steps taken.
    pub steps: usize,
    /// Mean seconds spent choosing an action.
    pub seconds_per_action: f64,
    /// Every frame, the start first.
    pub frames: Vec<Frame>,
}

/// Runs one episode for the task's whole budget and judges it at the end (and after every
/// step, for [`EpisodeResult::ever_reached`]).
pub fn run_episode(task: &mut dyn TaskEpisode, mut agent: Agent) -> Result<EpisodeResult> {
    let budget = task.spec().budget;
    let mut frames = vec![task.frame()];
    let mut actions: Vec<Vec<f32>> = Vec::with_capacity(budget);
    let goal = task.goal().clone();
    let mut thinking = 0.0;
    let mut ever_reached = false;
    for _ in 0..budget {
        let t = Instant::now();
        let action = match &mut agent {
            Agent::Observer(c) => c.act(&View {
                frames: &frames,
                actions: &actions,
                goal: &goal,
                action_dim: task.action_dim(),
                max_action: task.max_action(),
            })?,
            Agent::Oracle(o) => o.act(task)?,
        };
        thinking += t.elapsed().as_secs_f64();
        frames.push(task.step(&action)?);
        actions.push(action);
        ever_reached |= task.judge().success;
    }
    Ok(EpisodeResult {
        judgement: task.judge(),
        ever_reached,
        steps: budget,
        seconds_per_action: thinking / budget.max(1) as f64,
        frames,
    })
}

/// Which optimiser plans.
pub enum Planner {
    /// The cross-entropy method.
    Cem(Cem),
    /// MPPI.
    Mppi(Mppi),
    /// Gradient descent through the model (not for the oracle: the simulator has no gradient).
    Gradient(GradientDescent),
    /// CEM, then gradient descent from its plan (models only, as for `Gradient`).
    Refined(Refined),
}

impl Planner {
    /// Plans with a sampling planner, or fails for gradient descent.
    pub(super) fn plan_sampled(
        &mut self,
        objective: &mut dyn Objective,
        warm: Option<&[f32]>,
    ) -> Result<Plan> {
        match self {
            Planner::Cem(p) => p.plan(objective, warm),
            Planner::Mppi(p) => p.plan(objective, warm),
            Planner::Gradient(_) | Planner::Refined(_) => Err(AgentError::OutOfRange {
                what: "planner",
                value: "a gradient planner".into(),
                expected: "cem or mppi for an objective without gradients".into(),
            }),
        }
    }

    fn plan(
        &mut self,
        objective: &mut dyn Differentiable,
        warm: Option<&[f32]>,
        device: &Device,
    ) -> Result<Plan> {
        match self {
            Planner::Gradient(p) => p.plan(objective, warm, device),
            Planner::Refined(p) => p.plan(objective, warm, device),
            other => other.plan_sampled(objective, warm),
        }
    }
}

/// Uniformly random actions.
pub struct RandomController {
    rng: ChaCha8Rng,
}

impl RandomController {
    /// A random controller drawing from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl Controller for RandomController {
    fn act(&mut self, view: &View) -> Result<Vec<f32>> {
        let m = view.max_action;
        Ok((0..view.action_dim)
            .map(|_| self.rng.random_range(-m..=m))
            .collect())
    }
}

/// The simulator as the model: the same planner, costing action sequences by running them in
/// the task's own simulator from the current state.
pub struct Oracle {
    /// The planner.
    pub planner: Planner,
    /// Steps planned ahead.
    pub horizon: usize,
    receding: Receding,
}

impl Oracle {
    /// An oracle planning `horizon` steps ahead, replanning after every action.
    pub fn new(planner: Planner, horizon: usize) -> Self {
        Self {
            planner,
            horizon,
            receding: Receding::default(),
        }
    }

    /// The same oracle executing `receding`'s number of actions per plan.
    pub fn with_receding(self, receding: Receding) -> Self {
        Self { receding, ..self }
    }
}

struct SimObjective<'a> {
    task: &'a mut dyn TaskEpisode,
    horizon: usize,
}

impl Objective for SimObjective<'_> {
    fn horizon(&self) -> usize {
        self.horizon
    }
    fn action_dim(&self) -> usize {
        self.task.action_dim()
    }
    fn bounds(&self) -> (f32, f32) {
        let m = self.task.max_action();
        (-m, m)
    }
    fn costs(&mut self, actions: &[f32], samples: usize) -> Result<Vec<f32>> {
        Ok(self.task.imagine_distances(actions, samples))
    }
}

impl Privileged for Oracle {
    fn act(&mut self, task: &mut dyn TaskEpisode) -> Result<Vec<f32>> {
        let a = task.action_dim();
        let (planner, horizon) = (&mut self.planner, self.horizon);
        self.receding.next(a, |warm| {
            planner.plan_sampled(&mut SimObjective { task, horizon }, warm)
        })
    }
}

/// Planning in a world model's space: the latent objective from the last C frames, the actions
/// between them and the goal image.
pub struct ModelController<'a> {
    model: &'a dyn WorldModel,
    /// The planner.
    pub planner: Planner,
    /// Steps planned ahead.
    pub horizon: usize,
    /// Distance to the goal.
    pub distance: Distance,
    /// Score every predicted step, not only the last.
    pub all_steps: bool,
    device: Device,
    /// The receding horizon, in model steps.
    receding: Receding,
    /// Simulator actions of the model step being executed (a model with frameskip k plans k
    /// of them at once).
    pending: VecDeque<Vec<f32>>,
}

impl<'a> ModelController<'a> {
    /// A controller planning through `model`.
    pub fn new(
        model: &'a dyn WorldModel,
        planner: Planner,
        horizon: usize,
        distance: Distance,
        all_steps: bool,
        device: Device,
    ) -> Self {
        Self {
            model,
            planner,
            horizon,
            distance,
            all_steps,
            device,
            receding: Receding::default(),
            pending: VecDeque::new(),
        }
    }

    /// The same controller executing `receding`'s number of actions per plan (replanning after
    /// every action by default). A model with frameskip k executes whole model steps: `every`
    /// simulator actions round up to a multiple of k.
    pub fn with_receding(self, receding: Receding) -> Self {
        let k = self.model.config().frameskip.max(1);
        let receding = Receding::new(receding.every().div_ceil(k)).unwrap_or(receding);
        Self { receding, ..self }
    }
}

/// What a model with `c` context frames and frameskip `k` sees of a view: the indices of its
/// context frames and the `(c - 1) k` actions between them, row-major. Context frame i is
/// k (c - 1 - i) frames before the current one, and between two context frames lie the k
/// actions taken from the first; before the start the first frame stands for the frames not
/// yet seen, and the actions before it are zero.
pub fn model_context(view: &View, c: usize, k: usize) -> (Vec<usize>, Vec<f32>) {
    let a = view.action_dim;
    let n = view.frames.len() as isize;
    let at = |i: usize| n - 1 - (k * (c - 1 - i)) as isize;
    let frames = (0..c).map(|i| at(i).max(0) as usize).collect();
    let mut past = Vec::with_capacity(c.saturating_sub(1) * k * a);
    for i in 0..c.saturating_sub(1) {
        for m in 0..k {
            let taken = usize::try_from(at(i) + m as isize)
                .ok()
                .and_then(|j| view.actions.get(j));
            match taken {
                Some(act) => past.extend_from_slice(act),
                None => past.extend(std::iter::repeat_n(0.0, a)),
            }
        }
    }
    (frames, past)
}

/// Frames `[1, L, 3, H, W]` in `[0, 1]`: the video a model sees of them.
pub fn frames_tensor(frames: &[&Frame], device: &Device) -> Result<Tensor> {
    let (h, w) = (frames[0].height, frames[0].width);
    let data: Vec<u8> = frames.iter().flat_map(|f| f.data.iter().copied()).collect();
    let t = Tensor::from_vec(data, (1, frames.len(), h, w, 3), device)?
        .permute((0, 1, 4, 2, 3))?
        .to_dtype(candle_core::DType::F32)?;
    Ok((t / 255.0)?)
}

impl Controller for ModelController<'_> {
    fn act(&mut self, view: &View) -> Result<Vec<f32>> {
        let config = self.model.config();
        let (c, k) = (config.context, config.frameskip.max(1));
        let a = view.action_dim;
        if config.action_dim != k * a {
            return Err(AgentError::OutOfRange {
                what: "model action length",
                value: config.action_dim.to_string(),
                expected: format!("the task's {a} times the model's frameskip {k}"),
            });
        }
        if let Some(action) = self.pending.pop_front() {
            return Ok(action);
        }
        let Self {
            model,
            planner,
            horizon,
            distance,
            all_steps,
            device,
            receding,
            pending,
        } = self;
        let step = receding.next(k * a, |warm| {
            let (at, past) = model_context(view, c, k);
            let context: Vec<&Frame> = at.iter().map(|&i| &view.frames[i]).collect();
            let frames = frames_tensor(&context, device)?;
            let past = Tensor::from_vec(past, (1, c - 1, k * a), &*device)?;
            let goal = frames_tensor(&[view.goal], device)?;
            // The horizon counts simulator steps; the model looks as far in its own steps.
            let mut objective = LatentObjective::new(
                *model,
                &frames,
                &past,
                &goal,
                horizon.div_ceil(k),
                (-view.max_action, view.max_action),
                *distance,
                *all_steps,
            )?;
            planner.plan(&mut objective, warm, device)
        })?;
        pending.extend(step.chunks(a.max(1)).map(<[f32]>::to_vec));
        pending.pop_front().ok_or_else(|| AgentError::OutOfRange {
            what: "plan",
            value: "no actions".into(),
            expected: "at least one action".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(frames: &'a [Frame], actions: &'a [Vec<f32>], goal: &'a Frame) -> View<'a> {
        View {
            frames,
            actions,
            goal,
            action_dim: 1,
            max_action: 1.0,
        }
    }

    #[test]
    fn the_context_strides_by_the_frameskip_and_pads_before_the_start() {
        let blank = Frame {
            width: 1,
            height: 1,
            data: vec![0; 3],
        };
        let frames = vec![blank.clone(); 10];
        // Action t is t + 1, taken between frames t and t + 1.
        let actions: Vec<Vec<f32>> = (0..9).map(|t| vec![t as f32 + 1.0]).collect();
        let v = view(&frames, &actions, &blank);
        // Every frame: the last four frames and the three actions between them.
        assert_eq!(
            model_context(&v, 4, 1),
            (vec![6, 7, 8, 9], vec![7., 8., 9.])
        );
        // Every third: frames 0, 3, 6, 9 and the actions 1-3, 4-6, 7-9 between them.
        assert_eq!(
            model_context(&v, 4, 3),
            (vec![0, 3, 6, 9], vec![1., 2., 3., 4., 5., 6., 7., 8., 9.])
        );
        // Five context frames of every third reach before the start: frame -3 is frame 0, and
        // the actions from it are zero up to the start.
        assert_eq!(
            model_context(&v, 5, 3),
            (
                vec![0, 0, 3, 6, 9],
                vec![0., 0., 0., 1., 2., 3., 4., 5., 6., 7., 8., 9.]
            )
        );
        // Every second, from frame 9: frames 3, 5, 7, 9 and their actions; at the very start
        // the one frame stands for all, with zero actions.
        assert_eq!(
            model_context(&v, 4, 2),
            (vec![3, 5, 7, 9], vec![4., 5., 6., 7., 8., 9.])
        );
        let first = view(&frames[..1], &[], &blank);
        assert_eq!(model_context(&first, 3, 2), (vec![0, 0, 0], vec![0.0; 4]));
    }
}
