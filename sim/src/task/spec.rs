//! What a planning task is: its registry entry ([`TaskSpec`]), one episode of it
//! ([`TaskEpisode`]: frames and the goal image out, actions in) and the verdict on the true state
//! ([`Judgement`]), which only the harness reads. The task families (`cart.rs`, `block.rs`,
//! `table.rs`) implement these; `mod.rs` lists the tasks.

use crate::camera::Raster;
use crate::error::Result;
use crate::nuisance::Nuisance;
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
    /// 3: the pusher starts and stays in the picture; 4: success on every body the goal image
    /// shows, tolerances the camera resolves).
    pub revision: u32,
    /// Side of the images its goals are given and judged at, pixels: the size its tolerance is
    /// resolved at. A run at another size still plans (at its own size); the summary says so.
    pub size: usize,
    /// How near its goal position every judged body must end: at least
    /// [`MIN_TOLERANCE_PIXELS`] of the image at [`TaskSpec::size`] along each axis of the
    /// ground plane (tested), so that the goal image can tell a success from a miss.
    pub tolerance: Tolerance,
    /// Steps of the reference policy that made the goal.
    pub goal_steps: usize,
    /// Steps a planner may take.
    pub budget: usize,
    /// Steps a planner looks ahead by default: long enough to see the effect of an action (a
    /// pushed cart slides on for most of a second).
    pub horizon: usize,
    /// Makes an episode from its seeds (one function per task family).
    pub(super) make: MakeEpisode,
}

/// How a task family makes an episode from its seeds, at a raster and a nuisance level.
pub(super) type MakeEpisode =
    fn(&'static TaskSpec, EpisodeSeeds, Raster, Nuisance) -> Result<Box<dyn TaskEpisode>>;

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
        self.episode_at(seed, index, raster, Nuisance::NONE)
    }

    /// [`TaskSpec::episode`] with the `nuisance` level drawn over its frames and its goal image
    /// ([`crate::nuisance`]): the same episode, states and verdicts as at level 0.
    pub fn episode_at(
        &'static self,
        seed: u64,
        index: u64,
        raster: impl Into<Raster>,
        nuisance: Nuisance,
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
        (self.make)(self, seeds, raster, nuisance)
    }
}

/// Fewest pixels a task's tolerance spans at its size: below that the goal image cannot show
/// whether a body is inside it.
pub const MIN_TOLERANCE_PIXELS: f32 = 1.5;

/// A task's position tolerance: an ellipse in the ground plane, metres. A camera that looks at
/// the scene from the side resolves a move across the image (x) several times better than one
/// towards it (z), so each axis gets the tolerance the camera resolves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Half-axis along x (across the image; also the height tolerance where one is judged).
    pub across: f32,
    /// Half-axis along z (towards the camera).
    pub depth: f32,
}

impl Tolerance {
    /// Whether a ground-plane offset `(dx, dz)` from the goal lies inside.
    pub fn holds(&self, dx: f32, dz: f32) -> bool {
        (dx / self.across).powi(2) + (dz / self.depth).powi(2) < 1.0
    }

    /// Whether a goal `(dx, dz)` away from the start is far enough to test something: the
    /// start lies outside one and a half times the tolerance.
    pub fn far(&self, dx: f32, dz: f32) -> bool {
        !self.holds(dx / 1.5, dz / 1.5)
    }
}

/// The verdict on the true state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judgement {
    /// Whether the task is achieved: every body the goal image shows that the task moves (the
    /// pusher and the pushed objects) is within tolerance of where the goal image shows it (as
    /// DINO-WM judges PushT on the agent and the T together).
    pub success: bool,
    /// Whether the pushed object(s) alone are (the verdict before the pusher counted).
    pub object_success: bool,
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

/// The fewest pixels a move by `spec`'s tolerance from any of `goals` shifts its image by,
/// through `camera` at the task's size: along x by `across` (either way), and along z by
/// `depth`.
#[cfg(test)]
pub(crate) fn fewest_tolerance_pixels(
    camera: &crate::camera::Camera,
    spec: &TaskSpec,
    goals: impl IntoIterator<Item = [f32; 3]>,
) -> [f32; 2] {
    let camera = camera
        .clone()
        .with_size(spec.size, spec.size)
        .expect("a size");
    let (a, d) = (spec.tolerance.across, spec.tolerance.depth);
    let mut fewest = [f32::INFINITY; 2];
    for at in goals {
        let here = camera.project(at).expect("in front of the camera");
        let shift = |dx: f32, dz: f32| {
            let there = camera
                .project([at[0] + dx, at[1], at[2] + dz])
                .expect("in front of the camera");
            (there[0] - here[0]).hypot(there[1] - here[1])
        };
        fewest[0] = fewest[0].min(shift(a, 0.0)).min(shift(-a, 0.0));
        fewest[1] = fewest[1].min(shift(0.0, d)).min(shift(0.0, -d));
    }
    fewest
}
