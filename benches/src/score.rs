//! Surprise curves of every movie of the VoE suite, for a trained model or a control.
//!
//! A curve has one value per window (context C, predicted K, windows starting every `stride`
//! frames), as in Garrido et al. 2025. Curves are written per property as
//! `surprise-<property>.csv` (`episode, window, target_frame, surprise`), each file atomically,
//! so an interrupted scoring stage resumes at the first property it had not finished.

use std::fs;
use std::path::{Path, PathBuf};

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::models::{WorldModel, surprise_strided};
use moravec_sim::voe::{Condition, Kind, Property, SETS_HEADER, SuiteMeta};
use serde::Deserialize;

use crate::error::{HarnessError, Result};
use crate::output::write_atomic;

/// A control: a scorer that knows nothing of physics, whose window surprise is a statistic of
/// the target frames alone. Integer statistics summed exactly, so that on a quadruplet, whose
/// impossible movies hold at every frame index the same pictures as its possible ones, the
/// totals tie exactly.
pub struct ControlSpec {
    /// Registry name (a model column in the results).
    pub name: &'static str,
    /// What it measures.
    pub description: &'static str,
    /// The statistic of one RGB frame.
    pub statistic: fn(&[u8]) -> u64,
}

impl std::fmt::Debug for ControlSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Every control.
pub static CONTROLS: &[ControlSpec] = &[
    ControlSpec {
        name: "frame-stats",
        description: "sum of the target frames' pixel values (the frame-statistics control)",
        statistic: brightness,
    },
    ControlSpec {
        name: "object-pixels",
        description: "number of saturated (object or screen) pixels in the target frames",
        statistic: saturated_pixels,
    },
];

/// The control with this name, or an error listing them.
pub fn find_control(name: &str) -> Result<&'static ControlSpec> {
    CONTROLS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| HarnessError::Invalid {
            what: "score.controls".into(),
            value: name.into(),
            expected: format!(
                "control names among {}",
                CONTROLS
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// Sum of every byte of the frame.
fn brightness(frame: &[u8]) -> u64 {
    frame.iter().map(|&b| u64::from(b)).sum()
}

/// Pixels whose colour is saturated: objects and screens are drawn in saturated colours, floors,
/// walls and backgrounds in greys and dark blue-greys (saturation below 0.45).
fn saturated_pixels(frame: &[u8]) -> u64 {
    frame
        .chunks_exact(3)
        .filter(|p| {
            let max = u32::from(p[0].max(p[1]).max(p[2]));
            let min = u32::from(p[0].min(p[1]).min(p[2]));
            max >= 64 && (max - min) * 2 > max
        })
        .count() as u64
}

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
    /// The curve of episode `e` of `clips`.
    pub fn curve(
        &self,
        clips: &Clips,
        e: usize,
        stride: usize,
        device: &Device,
    ) -> Result<Vec<f64>> {
        match self {
            Scorer::Model(model) => {
                let batch = clips.windows(&[(e, 0)], clips.length, device)?;
                let curve = surprise_strided(*model, &batch.frames, &batch.actions, stride)?;
                Ok(curve.into_iter().map(f64::from).collect())
            }
            Scorer::Control {
                spec,
                context,
                horizon,
            } => {
                let fl = clips.size * clips.size * 3;
                let video = &clips.frames[e * clips.length * fl..(e + 1) * clips.length * fl];
                let stats: Vec<u64> = video.chunks_exact(fl).map(spec.statistic).collect();
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
                    .map(|s| stats[s + c..s + c + k].iter().sum::<u64>() as f64)
                    .collect())
            }
        }
    }
}

/// One row of the suite's `sets.csv`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRow {
    /// Set number, over the whole suite.
    pub set_id: u64,
    /// Property.
    pub property: Property,
    /// Condition.
    pub condition: Condition,
    /// Quadruplet or pair.
    pub kind: Kind,
    /// Member index (A, B, C, D or possible, impossible).
    pub member: usize,
    /// Whether the movie is possible.
    pub possible: bool,
    /// First frame of the violation.
    pub violation_frame: usize,
    /// Frames the object is wholly hidden around the violation.
    pub occlusion_frames: usize,
    /// Set seed.
    pub seed: u64,
    /// Episode index in the property's dataset.
    pub episode: usize,
    /// Mean image share of the object.
    pub object_share: f64,
}

/// A generated suite on disk.
#[derive(Clone, Debug)]
pub struct Suite {
    /// Its folder.
    pub dir: PathBuf,
    /// Its meta.json.
    pub meta: SuiteMeta,
    /// Its sets.csv.
    pub rows: Vec<SetRow>,
}

impl Suite {
    /// Reads a suite folder.
    pub fn load(dir: &Path) -> Result<Self> {
        let meta_path = dir.join("meta.json");
        let text = fs::read_to_string(&meta_path)
            .map_err(|e| HarnessError::io("cannot read", &meta_path, e))?;
        let meta: SuiteMeta = serde_json::from_str(&text).map_err(|e| HarnessError::Schema {
            path: meta_path.clone(),
            message: format!("not a VoE suite's meta.json: {e}"),
        })?;
        let sets_path = dir.join("sets.csv");
        let (mut reader, _) = crate::results::open_csv(&sets_path, Some(&SETS_HEADER))?;
        let rows = reader
            .deserialize()
            .collect::<std::result::Result<Vec<SetRow>, _>>()
            .map_err(|e| HarnessError::Schema {
                path: sets_path.clone(),
                message: e.to_string(),
            })?;
        Ok(Self {
            dir: dir.to_owned(),
            meta,
            rows,
        })
    }

    /// The movies of one property, with `action_dim` action entries (padded or cut, see
    /// [`Clips::fit_actions`]).
    pub fn clips(&self, property: Property, action_dim: usize) -> Result<Clips> {
        let p = self
            .meta
            .properties
            .iter()
            .find(|p| p.property == property)
            .ok_or_else(|| HarnessError::Schema {
                path: self.dir.clone(),
                message: format!("the suite has no {property} movies"),
            })?;
        Ok(Clips::load(&self.dir.join(&p.dir))?.fit_actions(action_dim))
    }
}

/// The file of one property's curves.
pub fn curves_path(dir: &Path, property: Property) -> PathBuf {
    dir.join(format!("surprise-{property}.csv"))
}

/// Scores every movie of every property into `dir`, skipping properties already written.
/// `on_movie` is called after each movie.
pub fn score_suite(
    scorer: &Scorer,
    suite: &Suite,
    action_dim: usize,
    stride: usize,
    dir: &Path,
    device: &Device,
    on_movie: &dyn Fn(),
) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| HarnessError::io("cannot create", dir, e))?;
    for p in &suite.meta.properties {
        let path = curves_path(dir, p.property);
        if path.exists() {
            for _ in 0..p.episodes {
                on_movie();
            }
            continue;
        }
        let clips = suite.clips(p.property, action_dim)?;
        let context = match scorer {
            Scorer::Model(m) => m.config().context,
            Scorer::Control { context, .. } => *context,
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(CURVE_HEADER).expect("in memory");
        for e in 0..clips.episodes {
            let curve = scorer.curve(&clips, e, stride, device)?;
            for (i, v) in curve.iter().enumerate() {
                w.write_record([
                    e.to_string(),
                    i.to_string(),
                    (i * stride + context).to_string(),
                    v.to_string(),
                ])
                .expect("in memory");
            }
            on_movie();
        }
        let bytes = w.into_inner().map_err(|e| HarnessError::Schema {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&path, &bytes).map_err(|e| HarnessError::Schema {
            path: path.clone(),
            message: format!("{e:#}"),
        })?;
    }
    Ok(())
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
    let (mut reader, _) = crate::results::open_csv(&path, Some(&CURVE_HEADER))?;
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

    #[test]
    fn statistics_by_hand() {
        assert_eq!(brightness(&[1, 2, 3, 250, 0, 0]), 256);
        // Grey, dark saturated, bright saturated, dark blue-grey background.
        let frame = [128, 124, 118, 40, 0, 0, 200, 30, 60, 26, 26, 41];
        assert_eq!(saturated_pixels(&frame), 1);
    }

    #[test]
    fn controls_sum_target_frames_of_each_window() {
        let clips = Clips {
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
        assert_eq!(curve, vec![15.0, 21.0, 27.0]);
        let strided = scorer.curve(&clips, 0, 2, &Device::Cpu).unwrap();
        assert_eq!(strided, vec![15.0, 27.0]);
    }
}
