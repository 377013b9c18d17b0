//! Surprise curves of every movie of the VoE suite, for a trained model or a control.
//!
//! A curve has one value per window (context C, predicted K, windows starting every `stride`
//! frames), as in Garrido et al. 2025; a model with a state carried through the whole movie
//! (`slot-jepa`) has one value per frame from the second on, each from the movie's start, and
//! its `window` column counts frames. Curves are written per property as
//! `surprise-<property>.csv` (`episode, window, target_frame, surprise`), each file atomically,
//! so an interrupted scoring stage resumes at the first property it had not finished.

use std::fs;
use std::path::{Path, PathBuf};

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::models::{WorldModel, surprise_strided};
use moravec_sim::voe::{Property, Suite};

use crate::controls::ControlSpec;
use crate::error::{HarnessError, Result};
use crate::files::{open_csv, write_atomic};

/// What scores the suite.
pub enum Scorer<'a> {
    /// A world model.
    Model(&'a dyn WorldModel),
    /// A control, with the context and horizon of the models' windows.
    Control {
        /// The control.
        spec: &'static ControlSpec,
        /// Context frames C.
        context: usize,
        /// Predicted frames K.
        horizon: usize,
    },
}

impl Scorer<'_> {
    /// The curve of episode `e` of `clips`: (first target frame, surprise) per window.
    pub fn curve(
        &self,
        clips: &Clips,
        e: usize,
        stride: usize,
        device: &Device,
    ) -> Result<Vec<(usize, f64)>> {
        match self {
            Scorer::Model(model) => {
                let batch = clips.windows(&[(e, 0)], clips.length, device)?;
                if let Some(frames) = model.movie_surprise(&batch)? {
                    return Ok(frames
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (i + 1, f64::from(v)))
                        .collect());
                }
                let context = model.config().context;
                let curve = surprise_strided(*model, &batch.frames, &batch.actions, stride)?;
                Ok(curve
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (i * stride + context, f64::from(v)))
                    .collect())
            }
            Scorer::Control {
                spec,
                context,
                horizon,
            } => {
                let fl = clips.size * clips.size * 3;
                let video = &clips.frames[e * clips.length * fl..(e + 1) * clips.length * fl];
                let frames: Vec<&[u8]> = video.chunks_exact(fl).collect();
                let (c, k) = (*context, *horizon);
                if clips.length < c + k {
                    return Err(HarnessError::Invalid {
                        what: "video length".into(),
                        value: clips.length.to_string(),
                        expected: format!("at least context + horizon = {}", c + k),
                    });
                }
                Ok((0..=clips.length - c - k)
                    .step_by(stride)
                    .map(|s| {
                        let v = (spec.window)(frames[s + c - 1], &frames[s + c..s + c + k]);
                        (s + c, v as f64)
                    })
                    .collect())
            }
        }
    }
}

/// The movies of one property, with `action_dim` action entries (padded or cut, see
/// [`Clips::fit_actions`]).
pub fn suite_clips(suite: &Suite, property: Property, action_dim: usize) -> Result<Clips> {
    Ok(Clips::load(&suite.property_dir(property)?)?.fit_actions(action_dim))
}

/// The file of one property's curves.
pub fn curves_path(dir: &Path, property: Property) -> PathBuf {
    dir.join(format!("surprise-{property}.csv"))
}

/// Which movies of a suite are scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Movies {
    /// Every movie.
    All,
    /// The movies of the headline (occluded) sets only: the learning curve's points.
    Headline,
}

impl Movies {
    /// Each property's episodes to score, in order.
    pub fn episodes(self, suite: &Suite) -> std::collections::BTreeMap<Property, Vec<usize>> {
        let mut out: std::collections::BTreeMap<Property, Vec<usize>> = suite
            .meta
            .properties
            .iter()
            .map(|p| (p.property, Vec::new()))
            .collect();
        for row in &suite.rows {
            if self == Movies::All || row.condition.is_headline() {
                out.entry(row.property).or_default().push(row.episode);
            }
        }
        out.values_mut().for_each(|v| v.sort_unstable());
        out
    }

    /// How many movies of the suite it scores.
    pub fn count(self, suite: &Suite) -> u64 {
        self.episodes(suite).values().map(|v| v.len() as u64).sum()
    }
}

/// Scores `movies` of every property into `dir`, skipping properties already written.
/// `on_movie` is called after each movie.
#[allow(clippy::too_many_arguments)]
pub fn score_suite(
    scorer: &Scorer,
    suite: &Suite,
    movies: Movies,
    action_dim: usize,
    stride: usize,
    dir: &Path,
    device: &Device,
    on_movie: &dyn Fn(),
) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| HarnessError::io("cannot create", dir, e))?;
    let chosen = movies.episodes(suite);
    for p in &suite.meta.properties {
        let path = curves_path(dir, p.property);
        let episodes = &chosen[&p.property];
        if path.exists() {
            for _ in episodes {
                on_movie();
            }
            continue;
        }
        let clips = suite_clips(suite, p.property, action_dim)?;
        let bytes = curves_csv(scorer, &clips, episodes, stride, device, on_movie)?;
        write_atomic(&path, &bytes)?;
    }
    Ok(())
}

/// The curves file of `episodes` of `clips` (header, then a row per window), in memory.
pub fn curves_csv(
    scorer: &Scorer,
    clips: &Clips,
    episodes: &[usize],
    stride: usize,
    device: &Device,
    on_movie: &dyn Fn(),
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CURVE_HEADER).expect("in memory");
    for &e in episodes {
        let curve = scorer.curve(clips, e, stride, device)?;
        for (i, (frame, v)) in curve.iter().enumerate() {
            w.write_record([
                e.to_string(),
                i.to_string(),
                frame.to_string(),
                v.to_string(),
            ])
            .expect("in memory");
        }
        on_movie();
    }
    Ok(w.into_inner().expect("in memory"))
}

/// Every curve of one scored suite: per property, per episode of its dataset, (first target
/// frame, surprise) per window, in window order.
pub type Curves = std::collections::BTreeMap<Property, Vec<Vec<(usize, f64)>>>;

/// Every property's curves of `suite` as scored into `dir`.
pub fn read_suite_curves(dir: &Path, suite: &Suite) -> Result<Curves> {
    suite
        .meta
        .properties
        .iter()
        .map(|p| Ok((p.property, read_curves(dir, p.property)?)))
        .collect()
}

/// Columns of a curves file.
pub const CURVE_HEADER: [&str; 4] = ["episode", "window", "target_frame", "surprise"];

/// One property's curves: per episode, (first target frame, surprise) per window.
pub fn read_curves(dir: &Path, property: Property) -> Result<Vec<Vec<(usize, f64)>>> {
    let path = curves_path(dir, property);
    let bad = |m: String| HarnessError::Schema {
        path: path.clone(),
        message: m,
    };
    let (mut reader, _) = open_csv(&path, Some(&CURVE_HEADER))?;
    let mut curves: Vec<Vec<(usize, f64)>> = Vec::new();
    for row in reader.deserialize::<(usize, usize, usize, f64)>() {
        let (e, _, frame, v) = row.map_err(|e| bad(e.to_string()))?;
        if e >= curves.len() {
            curves.resize(e + 1, Vec::new());
        }
        curves[e].push((frame, v));
    }
    Ok(curves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::find_control;

    #[test]
    fn controls_sum_target_frames_of_each_window() {
        let clips = Clips {
            masks: Vec::new(),
            frames: (0..6u8).flat_map(|t| [t; 3]).collect(),
            actions: Vec::new(),
            episodes: 1,
            length: 6,
            size: 1,
            action_dim: 0,
        };
        let scorer = Scorer::Control {
            spec: find_control("frame-stats").unwrap(),
            context: 2,
            horizon: 2,
        };
        // Windows start at 0, 1, 2; targets are frames (2,3), (3,4), (4,5), each frame 3t.
        let curve = scorer.curve(&clips, 0, 1, &Device::Cpu).unwrap();
        assert_eq!(curve, vec![(2, 15.0), (3, 21.0), (4, 27.0)]);
        let strided = scorer.curve(&clips, 0, 2, &Device::Cpu).unwrap();
        assert_eq!(strided, vec![(2, 15.0), (4, 27.0)]);
    }
}
