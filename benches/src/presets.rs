//! The run presets, smallest first, each a named struct literal: what `bench run --preset NAME`
//! starts from before a config file is laid over it.

use crate::error::{HarnessError, Result};

/// The settings a preset fixes; everything else is the same in every preset (see
/// [`crate::RunConfig::preset`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preset {
    /// Its name.
    pub name: &'static str,
    /// What it is for.
    pub purpose: &'static str,
    /// Image side, pixels.
    pub size: usize,
    /// Training episodes per scene.
    pub episodes: u64,
    /// Frames per training episode.
    pub frames: usize,
    /// VoE sets per property and condition.
    pub voe_sets: u64,
    /// Frames per VoE movie.
    pub voe_frames: usize,
    /// Models trained and scored (empty: every model of the registry).
    pub models: &'static [&'static str],
    /// Architecture preset of every model.
    pub arch: &'static str,
    /// Optimiser steps.
    pub steps: u64,
    /// Windows per batch.
    pub batch: usize,
    /// Frames between scoring windows.
    pub stride: usize,
    /// Training seeds (empty: the run's seed alone).
    pub seeds: &'static [u64],
    /// Points on the learning curve (see [`crate::config::TrainSettings::curve`]).
    pub curve: usize,
    /// Held-out episodes per scene for the state probes.
    pub probe_episodes: u64,
    /// Training frames per scene the probes are fitted on.
    pub probe_samples: usize,
    /// Where models train and score.
    pub device: &'static str,
    /// Planning tasks.
    pub plan_tasks: &'static [&'static str],
    /// Models that plan (empty: all).
    pub plan_models: &'static [&'static str],
    /// Planning episodes per cell.
    pub plan_episodes: u64,
    /// Planning budget as a share of the planners' published defaults. Planning through a
    /// model costs about 1 GMAC per rollout step of 300 samples at 32x32, so the CPU presets
    /// plan with a fraction of the published budgets.
    pub plan_budget: f64,
    /// Nuisance levels (empty: none; several: a sweep, see [`crate::RunConfig::nuisance`]).
    pub nuisance: &'static [u8],
}

/// The default preset, which the sweep's preset builds on.
const DEFAULT: Preset = Preset {
    name: "default",
    purpose: "the README run: the science in miniature, under 10 minutes on two cores",
    // 64x64: at 32x32 an object covers one or two 8x8 patches and no model's decidable
    // permanence left chance within minutes of training; at 64x64 jepa-vicreg's did after
    // 150 steps (tuned on suite seed 3; docs/experiments/default-preset.md).
    size: 64,
    episodes: 64,
    frames: 48,
    // 30 sets: 15 decidable per occluded IntPhys cell, enough for an interval to leave
    // chance; 10 were not.
    voe_sets: 30,
    voe_frames: 48,
    // The windowed models and their control: the object-slot pair (privileged, and four
    // times a windowed model's time per training step) is in the smoke run and the
    // standard run, and would take this run past ten minutes.
    models: &[
        "jepa-vicreg",
        "jepa-ema",
        "pixel-ae",
        "pixel-video",
        "untrained",
    ],
    arch: "small",
    steps: 400,
    batch: 32,
    stride: 4,
    seeds: &[],
    curve: 2,
    probe_episodes: 32,
    probe_samples: 512,
    device: "cpu",
    plan_tasks: &["reach"],
    plan_models: &[],
    plan_episodes: 4,
    plan_budget: 0.1,
    nuisance: &[],
};

/// Every preset, smallest first.
pub static PRESETS: &[Preset] = &[
    Preset {
        name: "smoke",
        purpose: "CI: every stage runs, nothing is learnt",
        size: 32,
        episodes: 8,
        frames: 24,
        voe_sets: 1,
        voe_frames: 48,
        models: &[],
        arch: "tiny",
        steps: 10,
        batch: 8,
        stride: 4,
        seeds: &[],
        curve: 2,
        probe_episodes: 4,
        probe_samples: 64,
        device: "cpu",
        plan_tasks: &["reach"],
        plan_models: &[],
        plan_episodes: 1,
        plan_budget: 0.02,
        nuisance: &[],
    },
    DEFAULT,
    Preset {
        name: "standard",
        purpose: "the science run: 64x64, three training seeds, everything but planning in at most 2 hours on two cores",
        size: 64,
        episodes: 256,
        frames: 64,
        // IntPhys's dev set has 60 per property: 30 short (decidable) and 30 long (memory)
        // occlusions per occluded cell.
        voe_sets: 60,
        voe_frames: 64,
        models: &[],
        arch: "small",
        steps: 2400,
        batch: 32,
        stride: 4,
        seeds: &[0, 1, 2],
        curve: 4,
        probe_episodes: 64,
        probe_samples: 1024,
        device: "cpu",
        plan_tasks: &["reach", "cart_push"],
        plan_models: &["jepa-vicreg", "jepa-ema", "pixel-video"],
        plan_episodes: 10,
        plan_budget: 0.1,
        nuisance: &[],
    },
    Preset {
        name: "full",
        purpose: "GPU scale, the published planning budgets",
        size: 64,
        episodes: 2000,
        frames: 64,
        voe_sets: 60,
        voe_frames: 64,
        models: &[],
        arch: "small",
        steps: 20000,
        batch: 64,
        stride: 1,
        seeds: &[],
        curve: 5,
        probe_episodes: 128,
        probe_samples: 4096,
        device: "auto",
        plan_tasks: &["reach", "cart_push", "block_push", "table_clear"],
        plan_models: &[],
        plan_episodes: 50,
        plan_budget: 1.0,
        nuisance: &[],
    },
    Preset {
        name: "nuisance",
        purpose: "the unpredictability sweep: the default run's models at nuisance levels 0 to 3, two training seeds, in about 2 hours on two cores",
        // The default preset's scale, where decidable permanence leaves chance within minutes
        // of training, so that each level costs what a default run does per seed; its
        // learning curve is left out.
        seeds: &[0, 1],
        curve: 1,
        // Reach alone, at a tenth of CEM's budget: planning through every model at every level
        // costs minutes, not hours.
        plan_episodes: 10,
        nuisance: &[0, 1, 2, 3],
        ..DEFAULT
    },
];

/// The preset `name`, or an error listing them.
pub fn find(name: &str) -> Result<&'static Preset> {
    PRESETS
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| HarnessError::unknown("preset", name, names()))
}

/// The preset names, smallest first.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The suite is tested to build for 500 seeds of every cell at 48 frames
    /// (`sim/tests/voe_seeds.rs`); no preset may ask for shorter movies.
    #[test]
    fn no_preset_asks_for_shorter_voe_movies_than_every_seed_is_tested_at() {
        for p in PRESETS {
            assert!(p.voe_frames >= 48, "{}: {} frames", p.name, p.voe_frames);
        }
        let standard = find("standard").unwrap();
        assert!(standard.voe_sets >= 60, "{}", standard.voe_sets);
        assert!(standard.seeds.len() >= 3, "{:?}", standard.seeds);
    }
}
