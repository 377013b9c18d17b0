//! The probe stages: for every trained model (each seed, and each kept checkpoint of the
//! learning curve) and for raw pixels, a ridge probe per scene from frozen frame features to the
//! tracked bodies' positions and velocities ([`crate::probe`]), fitted on frames of the training
//! episodes and scored on held-out test episodes. One cached `probe.csv` per stage.
//!
//! A row's features are those of frame t and frame t - 1 side by side, so that velocity is
//! within a linear readout's reach. A model with a memory (`slot-jepa`) is probed a second time,
//! on what it carries after frames 0 to t (row `<model> memory`): an object behind a screen
//! has no frame latent, and only a memory can say where it is. Tracked bodies are the scene's
//! slots that hold a body in every episode and move; rows are the frames at which every
//! tracked body is inside the image (hidden behind a screen counts as inside: that is for a
//! model's memory to bridge).

use std::path::{Path, PathBuf};

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::models::WorldModel;
use moravec_agents::train::load_checkpoint;
use moravec_sim::dataset::{read_meta, read_shard};
use serde::Serialize;

use crate::config::RunConfig;
use crate::device::device_key;
use crate::error::{HarnessError, Result};
use crate::files::{open_csv, write_csv};
use crate::probe::{Design, Group, probe};
use crate::progress::with_progress;
use crate::stages::cache::{CachedStage, StageKind};
use crate::stages::data::Datasets;
use crate::stages::runner::Runner;
use crate::stages::train::Trained;

/// What the floor on raw pixels is called in the results.
pub const PIXELS: &str = "pixels";

/// Side of the pooled image the pixel floor reads.
pub const PIXEL_SIDE: usize = 16;

/// Columns of a stage's `probe.csv`: those of the results' `probe.csv` after `run, model,
/// seed`.
pub const STAGE_HEADER: &[&str] = moravec_sim::results::PROBE_HEADER.split_at(3).1;

/// One probe result.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeRow {
    /// Scene.
    pub scene: String,
    /// `position` or `velocity`.
    pub variable: String,
    /// R² on the held-out episodes.
    pub r2: f64,
    /// The chosen regularisation (relative to the kernel's mean diagonal).
    pub lambda: f64,
    /// The tracked bodies, `;`-joined.
    pub bodies: String,
    /// Frames fitted on.
    pub fit_rows: usize,
    /// Frames scored on.
    pub test_rows: usize,
}

/// A probed model (or the pixel floor).
#[derive(Clone, Debug)]
pub struct Probed {
    /// Model name, or [`PIXELS`].
    pub name: String,
    /// Training seed (None for pixels).
    pub seed: Option<u64>,
    /// Training step of the checkpoint (None for pixels).
    pub step: Option<u64>,
    /// Its rows.
    pub rows: Vec<ProbeRow>,
}

/// A probe stage's cache key.
#[derive(Serialize)]
struct ProbeKey<'a> {
    features: &'a str,
    trained: Option<&'a str>,
    step: Option<u64>,
    fit: &'a [String],
    test: &'a [String],
    samples: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
    /// The probed variables (2: `image_position` joined `position` and `velocity`).
    variables: &'a [&'a str],
}

/// The variables every probe reads, in `probe.csv`'s order: the world position (metres), the
/// linear velocity (metres per second), and the position in the image (pixels: where the
/// camera shows the body's centre). A side camera shows depth far less than the other two
/// axes, so a probe of the world position is capped by what no image shows well; the image
/// position is what the frames show.
pub const VARIABLES: [&str; 3] = ["position", "velocity", "image_position"];

/// One scene's probe rows, loaded once for every probe.
struct SceneRows {
    scene: String,
    bodies: Vec<String>,
    /// The rows' frame pairs (t - 1, t) as two-frame clips.
    fit: Clips,
    test: Clips,
    /// The rows as (episode, t) of their datasets, for a memory's features (whole episodes
    /// are read again then, not held).
    fit_movies: Movies,
    test_movies: Movies,
    fit_design: Design,
    test_design: Design,
}

/// Rows as frames of a dataset's episodes.
struct Movies {
    dir: PathBuf,
    picks: Vec<(usize, usize)>,
}

/// The probe data of the run: every scene's fitting and test rows, read on first use.
pub struct ProbeData<'a> {
    config: &'a RunConfig,
    fit: &'a Datasets,
    test: &'a Datasets,
    scenes: Option<Vec<SceneRows>>,
}

impl<'a> ProbeData<'a> {
    /// The probes of `config` fitted on `fit`'s datasets and scored on `test`'s.
    pub fn new(config: &'a RunConfig, fit: &'a Datasets, test: &'a Datasets) -> Self {
        Self {
            config,
            fit,
            test,
            scenes: None,
        }
    }

    fn scenes(&mut self) -> Result<&[SceneRows]> {
        if self.scenes.is_none() {
            let mut out = Vec::new();
            for (i, scene) in self.config.data.scenes.iter().enumerate() {
                out.push(scene_rows(
                    scene,
                    &self.fit.dirs[i],
                    &self.test.dirs[i],
                    self.config.probe.samples,
                )?);
            }
            self.scenes = Some(out);
        }
        Ok(self.scenes.as_deref().expect("just read"))
    }
}

/// What a probe reads its features from.
pub enum Features<'m> {
    /// Raw pixels, average-pooled to [`PIXEL_SIDE`].
    Pixels,
    /// A model's frame latents (its encoder).
    Model(&'m dyn WorldModel),
    /// What a model with a memory carries after frames 0 to t
    /// ([`WorldModel::movie_states`]).
    Memory(&'m dyn WorldModel),
}

/// The name of a model's memory probe in the results.
pub fn memory_name(model: &str) -> String {
    format!("{model} memory")
}

/// Probes (or reuses the probes of) the pixel floor and every trained model, each seed. In a
/// run making one shard of the probes, only the probes dealt to it are made, and returned.
pub fn run(
    runner: &mut Runner,
    work: &Path,
    data: &mut ProbeData,
    trained: &[Trained],
    models: &mut crate::stages::train::Models,
    device: &Device,
) -> Result<Vec<Probed>> {
    let mut out = Vec::new();
    out.extend(stage(runner, work, data, None, false, device, |_| {
        Ok(Features::Pixels)
    })?);
    for t in trained {
        out.extend(stage(
            runner,
            work,
            data,
            Some((t, t.config.steps)),
            false,
            device,
            |_| Ok(Features::Model(models.get(&t.label)?)),
        )?);
        // The registry says whether it has a memory: a cached probe loads no checkpoint.
        if moravec_agents::models::find(&t.name).is_ok_and(|m| m.memory) {
            out.extend(stage(
                runner,
                work,
                data,
                Some((t, t.config.steps)),
                true,
                device,
                |_| Ok(Features::Memory(models.get(&t.label)?)),
            )?);
        }
    }
    Ok(out)
}

/// Probes (or reuses the probe of) `t` as it was after `step` steps: a learning-curve point
/// (None in a run making a shard of the probes that this one is not dealt to).
pub fn run_at(
    runner: &mut Runner,
    work: &Path,
    data: &mut ProbeData,
    t: &Trained,
    step: u64,
    device: &Device,
) -> Result<Option<Probed>> {
    let path = t.checkpoint_at(step);
    let mut vars = None;
    stage(runner, work, data, Some((t, step)), false, device, |_| {
        let v = vars.insert(load_checkpoint(&path, device)?);
        Ok(Features::Model(&*v.model))
    })
}

/// One probe stage: `features` is asked for only if the stage is not done; `memory` says
/// whether they are a model's memory (its stage and rows are then named apart).
fn stage<'m>(
    runner: &mut Runner,
    work: &Path,
    data: &mut ProbeData,
    trained: Option<(&Trained, u64)>,
    memory: bool,
    device: &Device,
    features: impl FnOnce(()) -> Result<Features<'m>>,
) -> Result<Option<Probed>> {
    let (name, stage) = probe_stage(
        work,
        data.config,
        data.fit,
        data.test,
        trained,
        memory,
        device,
    );
    let label = stage.label.clone();
    let file = stage.dir.join("probe.csv");
    // Probes are shared out whole among the shards of a cut run.
    let done = runner.stage_whole(&stage, |_| {
        let features = features(())?;
        let scenes = data.scenes()?;
        let (rows, _) = with_progress(scenes.len() as u64, format!("probe {label}"), |bar| {
            let mut rows = Vec::new();
            for s in scenes {
                rows.extend(probe_scene(s, &features, device)?);
                bar.inc(1);
            }
            Ok::<_, HarnessError>(rows)
        })?;
        let records: Vec<Vec<String>> = rows.iter().map(stage_record).collect();
        write_csv(&file, STAGE_HEADER, &records)?;
        Ok(Vec::new())
    })?;
    if done.is_none() {
        return Ok(None);
    }
    Ok(Some(Probed {
        name,
        seed: trained.map(|(t, _)| t.seed),
        step: trained.map(|(_, s)| s),
        rows: read_stage_rows(&file)?,
    }))
}

/// A probe's stage and the name its rows carry: of raw pixels (`trained` None), of trained
/// model `t` after `step` steps, or of its memory; fitted on `fit`'s datasets and scored on
/// `test`'s. What [`run`] and [`run_at`] make and `bench run --plan-only` lists.
pub(crate) fn probe_stage(
    work: &Path,
    config: &RunConfig,
    fit: &Datasets,
    test: &Datasets,
    trained: Option<(&Trained, u64)>,
    memory: bool,
    device: &Device,
) -> (String, CachedStage) {
    let (name, label) = match trained {
        None => (PIXELS.to_owned(), PIXELS.to_owned()),
        Some((t, step)) if step >= t.config.steps => (t.name.clone(), t.label.clone()),
        Some((t, step)) => (t.name.clone(), format!("{}@step{step}", t.label)),
    };
    let (name, label) = if memory {
        (memory_name(&name), format!("{label}-memory"))
    } else {
        (name, label)
    };
    let key = ProbeKey {
        features: &name,
        trained: trained.map(|(t, _)| t.stage.hash.as_str()),
        step: trained.map(|(_, s)| s),
        fit: &fit.hashes,
        test: &test.hashes,
        samples: config.probe.samples,
        device: trained.and(device_key(device)),
        variables: &VARIABLES,
    };
    let stage = CachedStage::new(work, StageKind::Probe, &label, &key);
    (name, stage)
}

fn stage_record(r: &ProbeRow) -> Vec<String> {
    vec![
        r.scene.clone(),
        r.variable.clone(),
        crate::files::num(r.r2),
        crate::files::num(r.lambda),
        r.bodies.clone(),
        r.fit_rows.to_string(),
        r.test_rows.to_string(),
    ]
}

/// A stage's `probe.csv`.
fn read_stage_rows(path: &Path) -> Result<Vec<ProbeRow>> {
    let bad = |m: String| HarnessError::Schema {
        path: path.to_owned(),
        message: m,
    };
    let (mut reader, _) = open_csv(path, Some(STAGE_HEADER))?;
    let mut out = Vec::new();
    for rec in reader.deserialize::<(String, String, f64, f64, String, usize, usize)>() {
        let (scene, variable, r2, lambda, bodies, fit_rows, test_rows) =
            rec.map_err(|e| bad(e.to_string()))?;
        out.push(ProbeRow {
            scene,
            variable,
            r2,
            lambda,
            bodies,
            fit_rows,
            test_rows,
        });
    }
    Ok(out)
}

/// A dataset read whole: frames, instance masks, states and which slots hold a body.
struct Episodes {
    frames: Vec<u8>,
    masks: Vec<u8>,
    states: Vec<f32>,
    body_mask: Vec<u8>,
    episodes: usize,
    length: usize,
    size: usize,
    slots: Vec<String>,
    camera: moravec_sim::camera::Camera,
}

fn read_episodes(dir: &Path) -> Result<Episodes> {
    let meta = read_meta(dir)?;
    let mut e = Episodes {
        frames: Vec::new(),
        masks: Vec::new(),
        states: Vec::new(),
        body_mask: Vec::new(),
        episodes: 0,
        length: meta.frames,
        size: meta.size,
        slots: meta.slots.clone(),
        camera: meta.camera.clone(),
    };
    for info in &meta.shards {
        let shard = read_shard(dir, &meta, info)?;
        e.frames.extend_from_slice(&shard.frames);
        e.masks.extend_from_slice(&shard.masks);
        e.states.extend_from_slice(&shard.states);
        e.body_mask.extend_from_slice(&shard.body_mask);
        e.episodes += shard.episodes;
    }
    Ok(e)
}

/// `n` (episode, t) picks spread evenly over every frame t >= 1 of `e`.
fn picks(e: &Episodes, n: usize) -> Vec<(usize, usize)> {
    let all: Vec<(usize, usize)> = (0..e.episodes)
        .flat_map(|ep| (1..e.length).map(move |t| (ep, t)))
        .collect();
    spread(&all, n)
}

/// `n` of `candidates` spread evenly over them (all of them if there are fewer).
fn spread(candidates: &[(usize, usize)], n: usize) -> Vec<(usize, usize)> {
    let total = candidates.len();
    let n = n.min(total);
    (0..n).map(|i| candidates[i * total / n]).collect()
}

/// `n` (episode, t) picks spread evenly over the frames t >= 1 at which every body of `bodies`
/// is inside the camera's image at t - 1 and at t: a position outside the image cannot be read
/// from it, by a model or by anything else.
fn visible_picks(e: &Episodes, bodies: &[usize], n: usize) -> Vec<(usize, usize)> {
    let seen = |ep: usize, t: usize| {
        bodies.iter().all(|&b| {
            let p = state(e, ep, t, b);
            e.camera.sees([p[0], p[1], p[2]])
        })
    };
    let all: Vec<(usize, usize)> = (0..e.episodes)
        .flat_map(|ep| (1..e.length).map(move |t| (ep, t)))
        .filter(|&(ep, t)| seen(ep, t - 1) && seen(ep, t))
        .collect();
    spread(&all, n)
}

/// Fewest rows a probe is fitted or scored on.
pub const MIN_ROWS: usize = 16;

/// Slot `b`'s state at (episode, t).
fn state(e: &Episodes, ep: usize, t: usize, b: usize) -> &[f32] {
    let slots = e.slots.len();
    let at = ((ep * e.length + t) * slots + b) * moravec_sim::world::STATE_DIM;
    &e.states[at..at + moravec_sim::world::STATE_DIM]
}

/// The tracked bodies of a scene: slots holding a body in every fitting and test episode whose
/// position is not the same in every fitting row; an error naming the scene if there is none.
fn tracked(
    scene: &str,
    fit: &Episodes,
    test: &Episodes,
    fit_picks: &[(usize, usize)],
) -> Result<Vec<usize>> {
    let slots = fit.slots.len();
    let present =
        |e: &Episodes, b: usize| (0..e.episodes).all(|ep| e.body_mask[ep * slots + b] == 1);
    let moves = |b: usize| {
        fit_picks.first().is_some_and(|&(e0, t0)| {
            let first = &state(fit, e0, t0, b)[..3];
            fit_picks
                .iter()
                .any(|&(ep, t)| &state(fit, ep, t, b)[..3] != first)
        })
    };
    let tracked: Vec<usize> = (0..slots)
        .filter(|&b| present(fit, b) && present(test, b) && moves(b))
        .collect();
    if tracked.is_empty() {
        return Err(HarnessError::Invalid {
            what: "probe scene".into(),
            value: scene.into(),
            expected: "a scene with a tracked body (a slot that holds a moving body in every \
                       episode)"
                .into(),
        });
    }
    Ok(tracked)
}

/// The rows of one scene: tracked bodies, frame pairs and targets.
fn scene_rows(scene: &str, fit_dir: &Path, test_dir: &Path, samples: usize) -> Result<SceneRows> {
    let fit = read_episodes(fit_dir)?;
    let test = read_episodes(test_dir)?;
    let tracked = tracked(scene, &fit, &test, &picks(&fit, samples))?;
    let (fit_picks, test_picks) = (
        visible_picks(&fit, &tracked, samples),
        visible_picks(&test, &tracked, samples),
    );
    if fit_picks.len().min(test_picks.len()) < MIN_ROWS {
        return Err(HarnessError::Invalid {
            what: "probe scene".into(),
            value: scene.into(),
            expected: format!(
                "at least {MIN_ROWS} frames with every tracked body in view in the training and \
                 in the held-out episodes (found {} and {})",
                fit_picks.len(),
                test_picks.len()
            ),
        });
    }
    let design = |e: &Episodes, picks: &[(usize, usize)]| Design {
        x: Vec::new(),
        width: 0,
        y: picks
            .iter()
            .flat_map(|&(ep, t)| {
                let pos = tracked
                    .iter()
                    .flat_map(|&b| state(e, ep, t, b)[0..3].to_vec())
                    .collect::<Vec<_>>();
                let vel = tracked
                    .iter()
                    .flat_map(|&b| state(e, ep, t, b)[7..10].to_vec())
                    .collect::<Vec<_>>();
                // Rows are frames at which the camera sees every tracked body.
                let image = tracked
                    .iter()
                    .flat_map(|&b| {
                        let p = state(e, ep, t, b);
                        e.camera
                            .project([p[0], p[1], p[2]])
                            .expect("a body the camera sees")
                    })
                    .collect::<Vec<_>>();
                pos.into_iter().chain(vel).chain(image).map(f64::from)
            })
            .collect(),
        targets: tracked.len() * 8,
        episode: picks.iter().map(|&(ep, _)| ep as u64).collect(),
    };
    Ok(SceneRows {
        scene: scene.to_owned(),
        bodies: tracked.iter().map(|&b| fit.slots[b].clone()).collect(),
        fit_design: design(&fit, &fit_picks),
        test_design: design(&test, &test_picks),
        fit: pairs(&fit, &fit_picks),
        test: pairs(&test, &test_picks),
        fit_movies: Movies {
            dir: fit_dir.to_owned(),
            picks: fit_picks,
        },
        test_movies: Movies {
            dir: test_dir.to_owned(),
            picks: test_picks,
        },
    })
}

/// The frame pairs (t - 1, t) of `picks` as two-frame clips.
fn pairs(e: &Episodes, picks: &[(usize, usize)]) -> Clips {
    let fl = e.size * e.size * 3;
    let ml = e.size * e.size;
    let mut frames = Vec::with_capacity(picks.len() * 2 * fl);
    let mut masks = Vec::with_capacity(picks.len() * 2 * ml);
    for &(ep, t) in picks {
        let at = (ep * e.length + t - 1) * fl;
        frames.extend_from_slice(&e.frames[at..at + 2 * fl]);
        // Episodes without masks give clips without them.
        if !e.masks.is_empty() {
            let at = (ep * e.length + t - 1) * ml;
            masks.extend_from_slice(&e.masks[at..at + 2 * ml]);
        }
    }
    Clips {
        frames,
        masks,
        actions: Vec::new(),
        episodes: picks.len(),
        length: 2,
        size: e.size,
        action_dim: 0,
    }
}

/// Rows encoded per call: bounds the memory of a model's latents.
const CHUNK: usize = 64;

/// Episodes whose memory is run at once: bounds the memory of their frames.
const MOVIES: usize = 8;

/// The features of every row, row-major: from its pair of `clips`, or for a memory from its
/// frame of `movies`.
fn features(
    clips: &Clips,
    movies: &Movies,
    f: &Features,
    device: &Device,
) -> Result<(Vec<f32>, usize)> {
    match f {
        Features::Pixels => {
            let s = clips.size;
            let pool = (s / PIXEL_SIDE).max(1);
            let side = s / pool;
            let width = 2 * 3 * side * side;
            let mut x = Vec::with_capacity(clips.episodes * width);
            for frame in clips.frames.chunks_exact(s * s * 3) {
                for c in 0..3 {
                    for by in 0..side {
                        for bx in 0..side {
                            let mut sum = 0u32;
                            for y in by * pool..(by + 1) * pool {
                                for xx in bx * pool..(bx + 1) * pool {
                                    sum += u32::from(frame[(y * s + xx) * 3 + c]);
                                }
                            }
                            x.push(sum as f32 / (pool * pool) as f32 / 255.0);
                        }
                    }
                }
            }
            Ok((x, width))
        }
        Features::Model(model) => {
            let mut x = Vec::new();
            let mut width = 0;
            let all: Vec<usize> = (0..clips.episodes).collect();
            for chunk in all.chunks(CHUNK) {
                let picks: Vec<(usize, usize)> = chunk.iter().map(|&i| (i, 0)).collect();
                let batch = clips.windows(&picks, 2, device)?;
                let z = model.encode_batch(&batch)?;
                let z = z.flatten_from(1)?;
                width = z.dims()[1];
                x.extend(z.flatten_all()?.to_vec1::<f32>()?);
            }
            Ok((x, width))
        }
        Features::Memory(model) => memory_features(*model, movies, device),
    }
}

/// What `model` carries after frame t of each row's episode: every episode of the rows is run
/// once from its first frame, [`MOVIES`] at a time. Rows come grouped by episode, in order
/// (they are spread over the dataset's frames in order).
fn memory_features(
    model: &dyn WorldModel,
    movies: &Movies,
    device: &Device,
) -> Result<(Vec<f32>, usize)> {
    let clips = Clips::load(&movies.dir)?.fit_actions(model.config().action_dim);
    let mut episodes: Vec<usize> = movies.picks.iter().map(|&(ep, _)| ep).collect();
    episodes.dedup();
    let (mut x, mut width, mut next) = (Vec::new(), 0, 0);
    for chunk in episodes.chunks(MOVIES) {
        let picks: Vec<(usize, usize)> = chunk.iter().map(|&ep| (ep, 0)).collect();
        let batch = clips.windows(&picks, clips.length, device)?;
        let states = model
            .movie_states(&batch)?
            .ok_or_else(|| HarnessError::Invalid {
                what: "memory probe".into(),
                value: model.name().into(),
                expected: "a model that carries a state through a movie".into(),
            })?;
        width = states.dims3()?.2;
        let values = states.flatten_all()?.to_vec1::<f32>()?;
        for (i, &ep) in chunk.iter().enumerate() {
            while let Some(&(_, t)) = movies.picks.get(next).filter(|p| p.0 == ep) {
                let at = (i * clips.length + t) * width;
                x.extend_from_slice(&values[at..at + width]);
                next += 1;
            }
        }
    }
    debug_assert_eq!(next, movies.picks.len(), "rows grouped by episode");
    Ok((x, width))
}

/// The probe of one scene.
fn probe_scene(s: &SceneRows, f: &Features, device: &Device) -> Result<Vec<ProbeRow>> {
    let (fx, width) = features(&s.fit, &s.fit_movies, f, device)?;
    let (tx, _) = features(&s.test, &s.test_movies, f, device)?;
    let fit = Design {
        x: fx,
        width,
        ..s.fit_design.clone()
    };
    let test = Design {
        x: tx,
        width,
        ..s.test_design.clone()
    };
    let k = s.bodies.len() * 3;
    let groups = [
        Group {
            name: VARIABLES[0].into(),
            columns: 0..k,
        },
        Group {
            name: VARIABLES[1].into(),
            columns: k..2 * k,
        },
        Group {
            name: VARIABLES[2].into(),
            columns: 2 * k..2 * k + s.bodies.len() * 2,
        },
    ];
    Ok(probe(&fit, &test, &groups)
        .into_iter()
        .map(|g| ProbeRow {
            scene: s.scene.clone(),
            variable: g.name,
            r2: g.r2,
            lambda: g.lambda,
            bodies: s.bodies.join(";"),
            fit_rows: fit.rows(),
            test_rows: test.rows(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use moravec_sim::world::STATE_DIM;

    /// Two episodes of three frames, two slots: slot 0 moves in every episode, slot 1 is empty
    /// in the second episode.
    fn episodes(moving: bool) -> Episodes {
        let (episodes, length, slots) = (2, 3, 2);
        let mut states = vec![0.0f32; episodes * length * slots * STATE_DIM];
        for ep in 0..episodes {
            for t in 0..length {
                let at = ((ep * length + t) * slots) * STATE_DIM;
                states[at] = if moving { t as f32 } else { 1.0 };
            }
        }
        Episodes {
            frames: Vec::new(),
            masks: Vec::new(),
            states,
            body_mask: vec![1, 1, 1, 0],
            episodes,
            length,
            size: 16,
            slots: vec!["ball".into(), "other".into()],
            camera: moravec_sim::camera::Camera::new(
                [0.0, 0.0, 5.0],
                [0.0; 3],
                50.0,
                moravec_sim::color::Rgb([0.0; 3]),
            ),
        }
    }

    #[test]
    fn tracked_bodies_move_and_are_always_there() {
        let e = episodes(true);
        let picks = picks(&e, 4);
        assert_eq!(picks, vec![(0, 1), (0, 2), (1, 1), (1, 2)]);
        assert_eq!(tracked("s", &e, &e, &picks).unwrap(), vec![0]);
        // A body outside the image at either frame of a pair leaves the pair out.
        let mut away = episodes(true);
        let at = (3 * 2) * STATE_DIM; // episode 1, frame 0
        away.states[at] = 100.0;
        assert_eq!(visible_picks(&away, &[0], 10), vec![(0, 1), (0, 2), (1, 2)]);
        let still = episodes(false);
        let err = tracked("still_scene", &still, &still, &picks)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("still_scene") && err.contains("tracked body"),
            "{err}"
        );
    }
}
