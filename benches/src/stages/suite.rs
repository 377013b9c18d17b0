//! The suite stage: the violation-of-expectation suite, one cached folder per run. `bench
//! generate --voe` writes a suite through the same [`generate`].

use std::path::{Path, PathBuf};

use moravec_sim::WorkSlice;
use moravec_sim::voe::{SuiteConfig, SuiteMeta, merge_suite, write_suite, write_suite_slice};
use serde::Serialize;

use crate::config::RunConfig;
use crate::error::Result;
use crate::progress::{rate, with_progress};
use crate::stages::cache::{CachedStage, StageKind};
use crate::stages::runner::{Part, Runner};

/// The suite stage's cache key.
#[derive(Serialize)]
struct SuiteKey {
    /// Changes whenever the suite's movies or their records change, so that a suite cached by an
    /// older definition is not taken for the new one (2: `occlusion_frames` measured on the
    /// frames; 3: matched quadruplets for the dynamics properties, the pairs a `pair`
    /// condition, a `motion` column). A suite of an older dataset layout is upgraded in place
    /// (`upgrade_suite`), not made under a new revision: its scores stay valid.
    revision: u32,
    seed: u64,
    sets: u64,
    frames: usize,
    size: usize,
    /// The nuisance level, when not 0 (whose keys predate nuisance).
    #[serde(skip_serializing_if = "Option::is_none")]
    nuisance: Option<u8>,
}

/// The suite's current revision (see `SuiteKey::revision`).
const SUITE_REVISION: u32 = 3;

/// The run's suite on disk.
#[derive(Clone, Debug)]
pub struct SuiteDir {
    /// Its folder.
    pub dir: PathBuf,
    /// Its stage hash (the scoring stages' keys include it).
    pub hash: String,
}

/// Generates the suite of `config` into `out` under a progress bar; returns its meta and sets/s.
pub fn generate(config: &SuiteConfig, out: &Path, force: bool) -> Result<(SuiteMeta, Rates)> {
    let (meta, secs) = with_progress(config.total_sets(), "voe suite", |bar| {
        write_suite(config, out, force, &|| bar.inc(1))
    })?;
    let movies: u64 = meta.properties.iter().map(|p| p.episodes).sum();
    let rates = Rates {
        sets_per_s: rate(config.total_sets() as f64, secs),
        frames_per_s: rate((movies * meta.frames as u64) as f64, secs),
    };
    Ok((meta, rates))
}

/// Makes slice `slice` of the suite of `config`, for `out`, under a progress bar (`bench
/// generate --voe --shard I/N`); returns its sets and sets/s.
pub fn generate_slice(config: &SuiteConfig, out: &Path, slice: WorkSlice) -> Result<(u64, f64)> {
    let range = slice.range(config.total_sets());
    let (sets, secs) = with_progress(
        range.end - range.start,
        format!("voe suite shard {slice}"),
        |bar| write_suite_slice(config, out, slice, &|| bar.inc(1)),
    )?;
    Ok((sets, rate(sets as f64, secs)))
}

/// Joins the `count` slices of the suite of `config` into `out` (`bench merge --voe`).
pub fn merge(config: &SuiteConfig, out: &Path, count: u64, force: bool) -> Result<SuiteMeta> {
    Ok(merge_suite(config, out, count, force)?)
}

/// How fast a suite was generated: sets, and frames of the movies written, per second (the
/// frames of layouts drawn and rejected are not counted).
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    /// Sets per second.
    pub sets_per_s: f64,
    /// Movie frames written per second.
    pub frames_per_s: f64,
}

/// The suite's stage and the config it generates: what [`run`] makes and `bench run
/// --plan-only` lists.
pub(crate) fn suite_stage(work: &Path, config: &RunConfig) -> (SuiteConfig, CachedStage) {
    let suite_config = SuiteConfig {
        seed: config.suite_seed(),
        sets: config.voe.sets,
        frames: config.voe.frames,
        size: config.size,
        nuisance: config.nuisance_level(),
    };
    let key = SuiteKey {
        revision: SUITE_REVISION,
        seed: suite_config.seed,
        sets: suite_config.sets,
        frames: suite_config.frames,
        size: suite_config.size,
        nuisance: suite_config.nuisance.key(),
    };
    let stage = CachedStage::new(work, StageKind::Voe, "suite", &key);
    (suite_config, stage)
}

/// Makes (or reuses) the run's suite.
pub fn run(runner: &mut Runner, work: &Path, config: &RunConfig) -> Result<SuiteDir> {
    let (suite_config, stage) = suite_stage(work, config);
    let dir = stage.dir.join("suite");
    let done = runner.stage_sharded(&stage, |_, part| match part {
        Part::Whole => {
            let (_, rates) = generate(&suite_config, &dir, true)?;
            Ok(vec![
                ("sets_per_s".into(), rates.sets_per_s),
                ("frames_per_s".into(), rates.frames_per_s),
            ])
        }
        Part::Shard(slice) => generate_slice(&suite_config, &dir, slice).map(|_| Vec::new()),
        Part::Merge(count) => merge(&suite_config, &dir, count, true).map(|_| Vec::new()),
    })?;
    if done.is_some() && moravec_sim::voe::upgrade_suite(&suite_config, &dir, &|| {})? {
        eprintln!(
            "voe suite: upgraded in place to dataset layout {} (instance masks); its movies are the same bits",
            moravec_sim::dataset::SCHEMA_VERSION
        );
    }
    Ok(SuiteDir {
        dir,
        hash: stage.hash,
    })
}
