//! World models, one file each, candle style: a serde config with named presets
//! ([`ModelConfig`]) and `new(&config, VarBuilder)`; the same code trains (VarMap) and evaluates
//! (loaded weights). All of them are listed in [`MODELS`].

mod config;
mod dense;
mod encoder;
mod frozen;
pub mod init;
pub mod jepa_ema;
pub mod jepa_vicreg;
pub mod pixel_ae;
pub mod pixel_video;
mod predictor;
pub mod slot_jepa;
pub mod slot_untrained;
pub mod slots;
mod surprise;
pub mod untrained;
mod vars;

pub use crate::ops::gelu;
pub use config::ModelConfig;
pub use encoder::{PatchEncoder, patchify};
pub use frozen::{FrozenPredictor, Scored};
pub use predictor::Predictor;
pub use surprise::{surprise, surprise_strided};
pub use vars::{ModelVars, load};

use candle_core::Tensor;
use candle_nn::VarBuilder;

use crate::data::Batch;
use crate::error::{AgentError, Result};

/// The loss of one batch: the total that is minimised and its named terms for the log.
pub struct Losses {
    /// What the optimiser minimises.
    pub total: Tensor,
    /// Each term, by name, as scalar tensors (for the training log).
    pub terms: Vec<(&'static str, Tensor)>,
}

/// A world model: encodes frames to a grid of latents and predicts future latents from a context
/// and the actions taken.
pub trait WorldModel {
    /// The model's registry name.
    fn name(&self) -> &'static str;
    /// Its architecture.
    fn config(&self) -> &ModelConfig;
    /// Frames `[B, L, 3, H, W]` in `[0, 1]` to latents `[B, L, N, D]` (N patch tokens of D).
    fn encode(&self, frames: &Tensor) -> Result<Tensor>;
    /// A batch's frames to latents `[B, L, N, D]`, with the batch's instance masks for a model
    /// that reads them ([`ModelSpec::privileged`]): what the state probes read. Every other
    /// model encodes the frames alone.
    fn encode_batch(&self, batch: &Batch) -> Result<Tensor> {
        self.encode(&batch.frames)
    }
    /// For a model with a state carried through the whole movie: the surprise of every frame
    /// `t >= 1` of a batch of one movie (`[1, T, ...]`), each from the start of the movie (no
    /// windows), entry `t - 1` for frame `t`. `None` for a windowed model, which the harness
    /// scores window by window ([`surprise_strided`]).
    fn movie_surprise(&self, _batch: &Batch) -> Result<Option<Vec<f32>>> {
        Ok(None)
    }
    /// Whether the model carries a state through a movie ([`WorldModel::movie_states`] gives
    /// one): the state probes then read it too, not only the frame latents.
    fn has_memory(&self) -> bool {
        false
    }
    /// For a model with a state: what it carries after each frame of a batch of movies
    /// (`[B, T, ...]`), as features `[B, T, F]`, row t from frames 0 to t alone. What the
    /// memory probe reads: where a hidden object is, which no frame latent can say.
    fn movie_states(&self, _batch: &Batch) -> Result<Option<Tensor>> {
        Ok(None)
    }
    /// Frames per training window: context + horizon, or longer for a model with memory that
    /// should see objects leave and come back within one window.
    fn train_window(&self) -> usize {
        self.config().window()
    }
    /// From context latents `[B, C, N, D]` and actions `[B, C + K - 1, A]`, the next `K` latents
    /// `[B, K, N, D]`, each fed back as context for the next (differentiable end to end).
    fn rollout(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor>;
    /// The training loss of a batch of windows of `context + horizon` frames.
    fn loss(&self, batch: &Batch) -> Result<Losses>;
    /// What predictions are scored against (surprise, evaluation): `[B, L, N, Dt]`. The encoded
    /// frames for a JEPA, the layer-normed target encoder's for an EMA JEPA, pixels for the pixel
    /// models.
    fn targets(&self, frames: &Tensor) -> Result<Tensor> {
        self.encode(frames)
    }
    /// [`WorldModel::targets`] of a batch, with its instance masks for a model that reads them.
    fn targets_batch(&self, batch: &Batch) -> Result<Tensor> {
        self.targets(&batch.frames)
    }
    /// A rollout mapped into the space of [`WorldModel::targets`].
    fn predict_targets(&self, context: &Tensor, actions: &Tensor, steps: usize) -> Result<Tensor> {
        self.rollout(context, actions, steps)
    }
    /// For a model whose [`WorldModel::predict_targets`] is its predictor's rollout, that
    /// predictor's weights out of the graph: planners then cost their samples through it
    /// ([`FrozenPredictor::rollout_shared`], the same numbers, several times faster). `None`
    /// for a model that maps its rollout elsewhere (a decoder to pixels).
    fn frozen_predictor(&self) -> Result<Option<FrozenPredictor>> {
        Ok(None)
    }
    /// The copy-last baseline z_{t+k} = z_t in the space of [`WorldModel::targets`], from
    /// context latents `[B, C, N, D]` and the context's targets `[B, C, N, Dt]`: the last target
    /// repeated, or for a model that decodes its latents, the decoded last latent (so that the
    /// decoder's own error does not count against the model).
    fn copy_last(
        &self,
        _context: &Tensor,
        context_targets: &Tensor,
        steps: usize,
    ) -> Result<Tensor> {
        let (b, c, n, d) = context_targets.dims4()?;
        Ok(context_targets
            .narrow(1, c - 1, 1)?
            .broadcast_as((b, steps, n, d))?
            .contiguous()?)
    }
    /// For models with an EMA target encoder: the variable-name prefixes of the target and of
    /// the online encoder it follows. The trainer copies online into target after initialising
    /// and moves target towards online after every step.
    fn ema_prefixes(&self) -> Option<(&'static str, &'static str)> {
        None
    }
}

/// A model's registry entry.
pub struct ModelSpec {
    /// Registry name (CLI, checkpoints, result files).
    pub name: &'static str,
    /// One line saying what it is.
    pub description: &'static str,
    /// Whether it is trained (the `untrained` control is not).
    pub trains: bool,
    /// The input beyond frames and actions that the model is given, if any (the object-slot
    /// model's instance masks, as in PLATO): tables mark its rows with it, and a model with one
    /// does not plan from frames alone.
    pub privileged: Option<&'static str>,
    /// Its revision: bumped when its architecture or objective changes, so that checkpoints of
    /// an earlier version cached in a work folder are trained again, not loaded (0 for models
    /// never revised, which keeps their cache keys).
    pub revision: u32,
    /// Whether it carries a state through a movie (as [`WorldModel::has_memory`] says of the
    /// built model): the harness plans a memory probe for it without loading a checkpoint.
    pub memory: bool,
    /// Builds it with its variables under the builder.
    pub build: fn(&ModelConfig, VarBuilder) -> Result<Box<dyn WorldModel>>,
}

impl std::fmt::Debug for ModelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSpec")
            .field("name", &self.name)
            .finish()
    }
}

fn boxed<M: WorldModel + 'static>(m: Result<M>) -> Result<Box<dyn WorldModel>> {
    Ok(Box::new(m?))
}

/// Every model.
pub static MODELS: &[ModelSpec] = &[
    ModelSpec {
        name: jepa_vicreg::NAME,
        description: "JEPA, collapse prevented by VICReg on an expander",
        trains: true,
        privileged: None,
        revision: 0,
        memory: false,
        build: |c, vb| boxed(jepa_vicreg::JepaVicreg::new(c, vb)),
    },
    ModelSpec {
        name: jepa_ema::NAME,
        description: "JEPA with an EMA target encoder, L1 on layer-normed targets",
        trains: true,
        privileged: None,
        revision: 0,
        memory: false,
        build: |c, vb| boxed(jepa_ema::JepaEma::new(c, vb)),
    },
    ModelSpec {
        name: pixel_ae::NAME,
        description: "generative baseline: latent predictor trained through pixel reconstruction",
        trains: true,
        privileged: None,
        revision: 0,
        memory: false,
        build: |c, vb| boxed(pixel_ae::PixelAe::new(c, vb)),
    },
    ModelSpec {
        name: pixel_video::NAME,
        description: "generative baseline predicting future frames in pixel space",
        trains: true,
        privileged: None,
        revision: 0,
        memory: false,
        build: |c, vb| boxed(pixel_video::PixelVideo::new(c, vb)),
    },
    ModelSpec {
        name: slot_jepa::NAME,
        description: "object-slot JEPA with per-slot memory, given instance masks (privileged, as PLATO)",
        trains: true,
        privileged: Some("instance masks"),
        revision: slot_jepa::REVISION,
        memory: true,
        build: |c, vb| boxed(slot_jepa::SlotJepa::new(c, vb)),
    },
    ModelSpec {
        name: untrained::NAME,
        description: "the JEPA architecture at its random initialisation (the VoE control)",
        trains: false,
        privileged: None,
        revision: 0,
        memory: false,
        build: |c, vb| boxed(untrained::Untrained::new(c, vb)),
    },
    ModelSpec {
        name: slot_untrained::NAME,
        description: "slot-jepa at its random initialisation (the control of the privileged model)",
        trains: false,
        privileged: Some("instance masks"),
        revision: slot_jepa::REVISION,
        memory: true,
        build: |c, vb| boxed(slot_untrained::SlotUntrained::new(c, vb)),
    },
];

/// The model with this name, or an error listing the known ones.
pub fn find(name: &str) -> Result<&'static ModelSpec> {
    MODELS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| AgentError::OutOfRange {
            what: "model",
            value: name.to_owned(),
            expected: format!(
                "one of {}",
                MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
            ),
        })
}
