//! The image oracle: the simulator as a perfect video predictor, scored against the goal image
//! the way the world models are (pixel distance over the predicted steps), never against the
//! true state.
//!
//! It separates the two ways a model can fail to plan. The state oracle ([`super::Oracle`])
//! shows the task is solvable; this one shows how far the image goal itself leads: where it
//! fails too, no predictor can succeed with that goal and that camera, however good (a depth
//! of a few centimetres is a fraction of a pixel in a 32 x 32 side view).

use candle_core::{Device, Tensor};
use moravec_sim::render::Frame;
use moravec_sim::task::TaskEpisode;

use super::latent::score;
use super::{Distance, Objective, Planner, Privileged, Receding};
use crate::error::Result;
use crate::models::WorldModel;

/// The same planner as the models use, with the simulator's rendered futures as the prediction,
/// scored in pixels or in a model's target space (that model with a perfect predictor).
pub struct ImageOracle<'a> {
    /// The planner.
    pub planner: Planner,
    /// Steps planned ahead.
    pub horizon: usize,
    scoring: Scoring<'a>,
    receding: Receding,
}

/// How frames are compared with the goal image.
struct Scoring<'a> {
    distance: Distance,
    all_steps: bool,
    space: Option<&'a dyn WorldModel>,
    device: Device,
}

impl<'a> ImageOracle<'a> {
    /// An image oracle planning `horizon` steps ahead, scoring frames in pixels, or in the
    /// target space of `space` (its encodings of the frames against its encoding of the goal).
    pub fn new(
        planner: Planner,
        horizon: usize,
        distance: Distance,
        all_steps: bool,
        space: Option<&'a dyn WorldModel>,
        device: Device,
    ) -> Self {
        Self {
            planner,
            horizon,
            scoring: Scoring {
                distance,
                all_steps,
                space,
                device,
            },
            receding: Receding::default(),
        }
    }

    /// The same oracle executing `receding`'s number of actions per plan.
    pub fn with_receding(self, receding: Receding) -> Self {
        Self { receding, ..self }
    }
}

impl Scoring<'_> {
    /// Frames in the scoring space: pixels in `[0, 1]` as a grid of one-pixel tokens
    /// `[S, L, H * W, 3]`, or the model's targets `[S, L, N, Dt]`.
    fn embed(&self, videos: &[&[Frame]]) -> Result<Tensor> {
        let (s, l) = (videos.len(), videos[0].len());
        let (h, w) = (videos[0][0].height, videos[0][0].width);
        let data: Vec<u8> = videos
            .iter()
            .flat_map(|v| v.iter().flat_map(|f| f.data.iter().copied()))
            .collect();
        let pixels = (Tensor::from_vec(data, (s, l, h, w, 3), &self.device)?
            .to_dtype(candle_core::DType::F32)?
            / 255.0)?;
        match self.space {
            Some(model) => Ok(model.targets(&pixels.permute((0, 1, 4, 2, 3))?)?.detach()),
            None => Ok(pixels.reshape((s, l, h * w, 3))?),
        }
    }
}

/// The distance of imagined frames to the goal image.
struct FramesObjective<'o, 'a> {
    scoring: &'o Scoring<'a>,
    task: &'o mut dyn TaskEpisode,
    horizon: usize,
    goal: Tensor,
}

impl Objective for FramesObjective<'_, '_> {
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
        let futures = self.task.imagine_frames(actions, samples);
        let videos: Vec<&[Frame]> = futures.iter().map(Vec::as_slice).collect();
        let s = self.scoring;
        let predicted = s.embed(&videos)?;
        Ok(score(&predicted, &self.goal, s.distance, s.all_steps)?.to_vec1()?)
    }
}

impl Privileged for ImageOracle<'_> {
    fn act(&mut self, task: &mut dyn TaskEpisode) -> Result<Vec<f32>> {
        let a = task.action_dim();
        let Self {
            planner,
            horizon,
            scoring,
            receding,
        } = self;
        receding.next(a, |warm| {
            let goal = scoring.embed(&[std::slice::from_ref(task.goal())])?;
            let mut objective = FramesObjective {
                scoring,
                task,
                horizon: *horizon,
                goal,
            };
            planner.plan_sampled(&mut objective, warm)
        })
    }
}
