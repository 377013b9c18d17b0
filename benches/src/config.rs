//! The run configuration: one typed TOML document, from a named preset with a file's settings
//! laid over it. Unknown keys and out-of-range values are errors naming the key.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{HarnessError, Result};

/// Everything a run does, resolved (written beside the results as `config.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The preset this config started from (names the run).
    pub preset: String,
    /// Global seed: data, suite, weights, data order, bootstrap.
    pub seed: u64,
    /// Image side, pixels (a multiple of the 8-pixel patch).
    pub size: usize,
    /// Where models train and score: `cpu`, `cuda` or `auto`.
    pub device: String,
    /// Nuisance levels (0 to 3) of pixel detail drawn over every frame that carries no
    /// physics ([`moravec_sim::nuisance`]): the data, the suite and the planning tasks at that
    /// level. One level: the run at it. Several: a sweep, the whole run once per level
    /// (`nuisance-<level>/` in the results folder), then `nuisance.csv` and its plot. Left out
    /// of the resolved config when unset, so that runs without it keep their ids and stage keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nuisance: Option<Vec<u8>>,
    /// Training data.
    pub data: DataConfig,
    /// The violation-of-expectation suite.
    pub voe: VoeConfig,
    /// Training.
    pub train: TrainSettings,
    /// Scoring.
    pub score: ScoreConfig,
    /// The state probes.
    pub probe: ProbeConfig,
    /// Planning.
    pub plan: crate::planning::PlanConfig,
}

/// Training data: the train split of each scene, pooled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Scenes whose episodes are pooled for training.
    pub scenes: Vec<String>,
    /// Episodes per scene.
    pub episodes: u64,
    /// Frames per episode.
    pub frames: usize,
}

/// The VoE suite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoeConfig {
    /// Sets per (property, condition).
    pub sets: u64,
    /// Frames per movie.
    pub frames: usize,
    /// The suite's own seed, when not the run's: trained models scored on a fresh suite without
    /// retraining (the data and training stages do not read it). Left out of the resolved config
    /// when unset, so that runs without it keep their ids and stage keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// Training, the same for every model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    /// Models to train and score (registry names; `untrained` is the control).
    pub models: Vec<String>,
    /// Architecture preset: `tiny` or `small`.
    pub arch: String,
    /// Optimiser steps.
    pub steps: u64,
    /// Windows per batch.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Warm-up steps (at most `steps` are used).
    pub warmup: u64,
    /// Steps between checkpoints.
    pub checkpoint_every: u64,
    /// Context frames C of every model and of the scoring windows, when not the architecture's 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<usize>,
    /// Training seeds (initial weights and data order): every model, the untrained control
    /// too, is trained once per seed, and the tables give the mean over seeds with an interval
    /// that resamples seeds and sets. Unset: the run's `seed` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<u64>>,
    /// Points on the learning curve, the last being the end of training: each model of the
    /// first seed is scored (headline cells and probes) at `steps / 2^(curve - 1 - i)`. 1: the
    /// end alone.
    pub curve: usize,
}

/// The state probes: ridge regressions from frozen frame latents to the bodies' positions and
/// velocities (see [`crate::probe`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeConfig {
    /// Held-out (test split) episodes per scene the probes are scored on.
    pub episodes: u64,
    /// Frames per scene the probes are fitted on, drawn evenly from the training episodes
    /// (the dual ridge solves a system of this size).
    pub samples: usize,
}

/// Scoring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreConfig {
    /// Frames between the starts of successive surprise windows.
    pub stride: usize,
    /// Bootstrap resamples per interval (at least 1,000).
    pub bootstrap: usize,
    /// Controls scored beside the models (see [`crate::controls::CONTROLS`]).
    pub controls: Vec<String>,
}

impl RunConfig {
    /// A named preset (see [`crate::presets`]).
    pub fn preset(name: &str) -> Result<Self> {
        let p = crate::presets::find(name)?;
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Ok(Self {
            preset: p.name.into(),
            seed: 0,
            size: p.size,
            device: p.device.into(),
            nuisance: (!p.nuisance.is_empty()).then(|| p.nuisance.to_vec()),
            data: DataConfig {
                scenes: moravec_sim::SCENES
                    .iter()
                    .map(|s| s.name.to_owned())
                    .collect(),
                episodes: p.episodes,
                frames: p.frames,
            },
            voe: VoeConfig {
                sets: p.voe_sets,
                frames: p.voe_frames,
                seed: None,
            },
            train: TrainSettings {
                models: if p.models.is_empty() {
                    moravec_agents::models::MODELS
                        .iter()
                        .map(|m| m.name.to_owned())
                        .collect()
                } else {
                    names(p.models)
                },
                arch: p.arch.into(),
                steps: p.steps,
                batch: p.batch,
                lr: 1e-3,
                warmup: p.steps.min(100) / 2,
                checkpoint_every: 100,
                context: None,
                seeds: (!p.seeds.is_empty()).then(|| p.seeds.to_vec()),
                curve: p.curve,
            },
            score: ScoreConfig {
                stride: p.stride,
                bootstrap: 1000,
                controls: crate::controls::CONTROLS
                    .iter()
                    .map(|c| c.name.to_owned())
                    .collect(),
            },
            probe: ProbeConfig {
                episodes: p.probe_episodes,
                samples: p.probe_samples,
            },
            plan: crate::planning::PlanConfig {
                tasks: names(p.plan_tasks),
                models: names(p.plan_models),
                planners: vec!["cem".into()],
                episodes: p.plan_episodes,
                budget: p.plan_budget,
                distance: moravec_agents::planning::Distance::L2,
                all_steps: true,
                horizon: None,
                replan_every: None,
            },
        })
    }

    /// The preset named by the file's `preset` key (else `base`) with the file's settings laid
    /// over it. `source` names the file in errors.
    pub fn from_toml(text: &str, base: &str, source: &str) -> Result<Self> {
        let bad = |e: String| HarnessError::Config {
            file: source.into(),
            message: e,
        };
        let overlay: toml::Table = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let preset = match overlay.get("preset") {
            Some(toml::Value::String(p)) => p.clone(),
            Some(v) => return Err(bad(format!("`preset` must be a string, not {v}"))),
            None => base.to_owned(),
        };
        let base = Self::preset(&preset).map_err(|e| bad(e.to_string()))?;
        let mut merged = toml::Table::try_from(&base).expect("config serialises");
        merge(&mut merged, overlay);
        let config: Self =
            serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(|e| {
                let message = e.inner().message().to_owned();
                match e.path().to_string().as_str() {
                    "." => bad(message),
                    key => bad(format!("{key}: {message}")),
                }
            })?;
        // A setting out of range is the file's too: the error names it.
        config.validate().map_err(|e| bad(e.to_string()))?;
        Ok(config)
    }

    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        let range = |what: &str, value: String, ok: bool, expected: &str| {
            if ok {
                Ok(())
            } else {
                Err(HarnessError::Invalid {
                    what: what.into(),
                    value,
                    expected: expected.into(),
                })
            }
        };
        range(
            "size",
            self.size.to_string(),
            (16..=512).contains(&self.size) && self.size.is_multiple_of(8),
            "a multiple of 8 from 16 to 512",
        )?;
        range(
            "device",
            self.device.clone(),
            crate::device::DEVICES.contains(&self.device.as_str()),
            "cpu, cuda or auto",
        )?;
        for s in &self.data.scenes {
            moravec_sim::scene::find(s).map_err(|_| HarnessError::Invalid {
                what: "data.scenes".into(),
                value: s.clone(),
                expected: format!(
                    "scene names among {}",
                    moravec_sim::SCENES
                        .iter()
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        }
        range(
            "data.scenes",
            "[]".into(),
            !self.data.scenes.is_empty(),
            "at least one scene",
        )?;
        range(
            "data.episodes",
            self.data.episodes.to_string(),
            (1..=1_000_000).contains(&self.data.episodes),
            "1 to 1000000",
        )?;
        let arch = moravec_agents::models::ModelConfig::preset(&self.train.arch, self.size, 0)
            .map_err(|_| HarnessError::Invalid {
                what: "train.arch".into(),
                value: self.train.arch.clone(),
                expected: "tiny or small".into(),
            })?;
        if let Some(c) = self.train.context {
            range(
                "train.context",
                c.to_string(),
                (2..=64).contains(&c),
                "2 to 64 frames",
            )?;
        }
        let window = self.train.context.unwrap_or(arch.context) + arch.horizon;
        range(
            "voe.frames",
            self.voe.frames.to_string(),
            self.voe.frames >= window,
            &format!("at least a scoring window of {window} frames"),
        )?;
        range(
            "data.frames",
            self.data.frames.to_string(),
            (window..=moravec_sim::episode::MAX_FRAMES).contains(&self.data.frames),
            &format!(
                "at least a training window of {window} frames and at most {}",
                moravec_sim::episode::MAX_FRAMES
            ),
        )?;
        range(
            "voe.sets",
            self.voe.sets.to_string(),
            (1..=100_000).contains(&self.voe.sets),
            "1 to 100000",
        )?;
        range(
            "voe.frames",
            self.voe.frames.to_string(),
            (moravec_sim::voe::MIN_FRAMES..=moravec_sim::episode::MAX_FRAMES)
                .contains(&self.voe.frames),
            &format!(
                "{} to {}",
                moravec_sim::voe::MIN_FRAMES,
                moravec_sim::episode::MAX_FRAMES
            ),
        )?;
        range(
            "train.models",
            "[]".into(),
            !self.train.models.is_empty(),
            "at least one model",
        )?;
        for m in &self.train.models {
            moravec_agents::models::find(m).map_err(|e| HarnessError::Invalid {
                what: "train.models".into(),
                value: m.clone(),
                expected: e.to_string(),
            })?;
        }
        range(
            "train.steps",
            self.train.steps.to_string(),
            (1..=10_000_000).contains(&self.train.steps),
            "1 to 10000000",
        )?;
        range(
            "train.batch",
            self.train.batch.to_string(),
            (1..=4096).contains(&self.train.batch),
            "1 to 4096",
        )?;
        range(
            "train.lr",
            self.train.lr.to_string(),
            self.train.lr > 0.0 && self.train.lr <= 1.0,
            "in (0, 1]",
        )?;
        if let Some(levels) = &self.nuisance {
            range(
                "nuisance",
                "[]".into(),
                !levels.is_empty(),
                "at least one level",
            )?;
            for (i, &l) in levels.iter().enumerate() {
                range(
                    "nuisance",
                    l.to_string(),
                    l <= moravec_sim::Nuisance::MAX,
                    &format!("levels from 0 to {}", moravec_sim::Nuisance::MAX),
                )?;
                range(
                    "nuisance",
                    l.to_string(),
                    !levels[..i].contains(&l),
                    "each level once (this one is repeated)",
                )?;
            }
        }
        if let Some(seeds) = &self.train.seeds {
            range(
                "train.seeds",
                "[]".into(),
                !seeds.is_empty(),
                "at least one seed",
            )?;
            for (i, s) in seeds.iter().enumerate() {
                range(
                    "train.seeds",
                    s.to_string(),
                    !seeds[..i].contains(s),
                    "each seed once (this one is repeated)",
                )?;
            }
        }
        range(
            "train.curve",
            self.train.curve.to_string(),
            (1..=12).contains(&self.train.curve),
            "1 to 12 points",
        )?;
        range(
            "probe.episodes",
            self.probe.episodes.to_string(),
            (2..=100_000).contains(&self.probe.episodes),
            "2 to 100000",
        )?;
        range(
            "probe.samples",
            self.probe.samples.to_string(),
            (8..=8192).contains(&self.probe.samples),
            "8 to 8192 frames",
        )?;
        range(
            "train.checkpoint_every",
            self.train.checkpoint_every.to_string(),
            self.train.checkpoint_every >= 1,
            "at least 1",
        )?;
        range(
            "score.stride",
            self.score.stride.to_string(),
            (1..=64).contains(&self.score.stride),
            "1 to 64",
        )?;
        range(
            "score.bootstrap",
            self.score.bootstrap.to_string(),
            (1000..=1_000_000).contains(&self.score.bootstrap),
            "1000 to 1000000 resamples",
        )?;
        for c in &self.score.controls {
            crate::controls::find_control(c)?;
        }
        for m in &self.plan.models {
            range(
                "plan.models",
                m.clone(),
                self.train.models.contains(m),
                "names among train.models",
            )?;
        }
        self.plan.validate()
    }

    /// The training seeds: `train.seeds`, else the run's seed alone.
    pub fn train_seeds(&self) -> Vec<u64> {
        self.train.seeds.clone().unwrap_or_else(|| vec![self.seed])
    }

    /// The steps of the learning curve, ascending, the last being `train.steps`: halvings of
    /// it (log-spaced), never below one step.
    pub fn curve_steps(&self) -> Vec<u64> {
        let steps = self.train.steps;
        let mut out: Vec<u64> = (0..self.train.curve)
            .rev()
            .map(|i| (steps >> i.min(63)).max(1))
            .collect();
        out.dedup();
        out
    }

    /// The nuisance levels of a sweep (`nuisance` with more than one level), else None.
    pub fn sweep(&self) -> Option<Vec<moravec_sim::Nuisance>> {
        let levels = self.nuisance.as_ref().filter(|l| l.len() > 1)?;
        Some(
            levels
                .iter()
                .map(|&l| moravec_sim::Nuisance::new(l).expect("validated"))
                .collect(),
        )
    }

    /// The run's nuisance level: its one level, 0 when unset. A sweep's stages are made from
    /// its levels' configs ([`RunConfig::at_level`]), each of one level.
    pub fn nuisance_level(&self) -> moravec_sim::Nuisance {
        match self.nuisance.as_deref() {
            Some([l]) => moravec_sim::Nuisance::new(*l).expect("validated"),
            _ => moravec_sim::Nuisance::NONE,
        }
    }

    /// The run of one level of a sweep: this config at that level alone. Level 0 leaves the
    /// key unset, so that its stages are those of the same run without nuisance.
    pub fn at_level(&self, level: moravec_sim::Nuisance) -> Self {
        Self {
            nuisance: (!level.is_none()).then(|| vec![level.level()]),
            ..self.clone()
        }
    }

    /// The seed of the VoE suite: `voe.seed`, else the run's.
    pub fn suite_seed(&self) -> u64 {
        self.voe.seed.unwrap_or(self.seed)
    }

    /// The config as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serialises")
    }

    /// The run's name: the preset and the first hex digits of the config's hash, so that
    /// different settings never share a results folder by accident.
    pub fn run_id(&self) -> String {
        format!("{}-{}", self.preset, &hash(self)[..8])
    }
}

/// Lays `over` onto `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The SHA-256 of a value's canonical JSON, in hex.
pub fn hash<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).expect("serialisable");
    let digest = Sha256::digest(&json);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Settings that differ between two configs, as `key: a -> b` lines (dotted keys).
pub fn diff(a: &toml::Table, b: &toml::Table) -> Vec<String> {
    fn flat(prefix: &str, t: &toml::Table, out: &mut std::collections::BTreeMap<String, String>) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(inner) => flat(&key, inner, out),
                v => {
                    out.insert(key, v.to_string());
                }
            }
        }
    }
    let (mut fa, mut fb) = Default::default();
    flat("", a, &mut fa);
    flat("", b, &mut fb);
    let keys: std::collections::BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    keys.into_iter()
        .filter(|k| fa.get(*k) != fb.get(*k))
        .map(|k| {
            let show = |m: &std::collections::BTreeMap<String, String>| {
                m.get(k).cloned().unwrap_or_else(|| "(absent)".into())
            };
            format!("{k}: {} -> {}", show(&fa), show(&fb))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_distinct() {
        let ids: Vec<String> = crate::presets::names()
            .iter()
            .map(|p| {
                let c = RunConfig::preset(p).unwrap();
                c.validate().unwrap();
                c.run_id()
            })
            .collect();
        let unique: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn a_file_overrides_its_preset() {
        let c = RunConfig::from_toml("preset = \"smoke\"\n[train]\nsteps = 3\n", "default", "f")
            .unwrap();
        assert_eq!(c.train.steps, 3);
        assert_eq!(c.size, RunConfig::preset("smoke").unwrap().size);
        let round = RunConfig::from_toml(&c.to_toml(), "default", "f").unwrap();
        assert_eq!(round, c);
        let long = RunConfig::from_toml("[train]\ncontext = 16\n", "default", "f").unwrap();
        assert_eq!(long.train.context, Some(16));
        assert_ne!(
            long.run_id(),
            RunConfig::preset("default").unwrap().run_id()
        );
        let round = RunConfig::from_toml(&long.to_toml(), "smoke", "f").unwrap();
        assert_eq!(round, long);
        let e = RunConfig::from_toml("[train]\ncontext = 1\n", "default", "f").unwrap_err();
        assert!(e.to_string().contains("train.context"), "{e}");
        let e = RunConfig::from_toml("[train]\ncontext = 60\n", "default", "f").unwrap_err();
        assert!(e.to_string().contains("voe.frames"), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = RunConfig::from_toml("[train]\nstepz = 3\n", "smoke", "my.toml").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("my.toml") && msg.contains("stepz"), "{msg}");
        let e = RunConfig::from_toml("size = 20\n", "smoke", "my.toml").unwrap_err();
        assert!(
            e.to_string().contains("size") && e.to_string().contains("20"),
            "{e}"
        );
        let e = RunConfig::from_toml("[score]\nbootstrap = 10\n", "smoke", "f").unwrap_err();
        assert!(e.to_string().contains("score.bootstrap"), "{e}");
        let e = RunConfig::from_toml("[train]\nmodels = [\"gpt\"]\n", "smoke", "f").unwrap_err();
        assert!(e.to_string().contains("gpt"), "{e}");
        assert!(RunConfig::preset("huge").is_err());
        let e = RunConfig::from_toml("[plan]\nmodels = [\"gpt\"]\n", "smoke", "f").unwrap_err();
        assert!(e.to_string().contains("plan.models"), "{e}");
        let e = RunConfig::from_toml("[plan]\ntasks = [\"fly\"]\n", "smoke", "f").unwrap_err();
        assert!(e.to_string().contains("fly"), "{e}");
        let e = RunConfig::from_toml("[plan]\nbudget = 0\n", "smoke", "f").unwrap_err();
        assert!(e.to_string().contains("plan.budget"), "{e}");
    }

    #[test]
    fn nuisance_levels_are_checked_and_a_sweep_is_its_levels_runs() {
        for (text, named) in [
            ("nuisance = []", "at least one level"),
            ("nuisance = [4]", "4"),
            ("nuisance = [1, 2, 1]", "repeated"),
            ("nuisance = 2", "nuisance"),
        ] {
            let e = RunConfig::from_toml(text, "smoke", "sweep.toml").unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains("sweep.toml") && msg.contains("nuisance") && msg.contains(named),
                "{text}: {msg}"
            );
        }
        let plain = RunConfig::preset("smoke").unwrap();
        assert_eq!(plain.sweep(), None);
        assert!(plain.nuisance_level().is_none());
        let sweep = RunConfig::from_toml("nuisance = [0, 3]", "smoke", "f").unwrap();
        let levels = sweep.sweep().unwrap();
        assert_eq!(levels.iter().map(|l| l.level()).collect::<Vec<_>>(), [0, 3]);
        // Level 0 of a sweep is the run without nuisance, id and stage keys included.
        assert_eq!(sweep.at_level(levels[0]), plain);
        assert_eq!(sweep.at_level(levels[1]).nuisance_level().level(), 3);
        let one = RunConfig::from_toml("nuisance = [2]", "smoke", "f").unwrap();
        assert_eq!(one.sweep(), None);
        assert_eq!(one.nuisance_level().level(), 2);
        assert_ne!(one.run_id(), plain.run_id());
        assert!(RunConfig::preset("nuisance").unwrap().sweep().is_some());
    }

    #[test]
    fn diff_names_changed_keys() {
        let a = toml::Table::try_from(RunConfig::preset("smoke").unwrap()).unwrap();
        let mut c = RunConfig::preset("smoke").unwrap();
        c.train.steps = 99;
        let b = toml::Table::try_from(c).unwrap();
        assert_eq!(diff(&a, &b), vec!["train.steps: 10 -> 99".to_owned()]);
    }
}
