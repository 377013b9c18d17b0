//! `bench run --plan-only`: every stage a run would make or reuse, in its order, with its cache
//! key (the folder it lives in under the work folder), whether it is done, and what a shard of
//! its kind cuts (files, sets, models, movies, episodes), so that a cluster run can be sized
//! before anything is made. The keys come from the same functions the stages use.

use std::fmt::Write;
use std::path::Path;

use candle_core::Device;
use moravec_sim::dataset::slice_shards;
use moravec_sim::{Split, WorkSlice};

use crate::config::RunConfig;
use crate::error::Result;
use crate::stages::cache::{CachedStage, StageKind};
use crate::stages::data::{Datasets, split_stages};
use crate::stages::prediction::prediction_stage;
use crate::stages::probe::probe_stage;
use crate::stages::runner::Sharded;
use crate::stages::score::{ScoreBasis, control_stage, model_stage};
use crate::stages::train::{action_dim, architecture};
use crate::stages::{plan, suite, train};

/// One stage of a run, as listed.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    /// Its kind.
    pub kind: StageKind,
    /// What it is about.
    pub label: String,
    /// The nuisance level it belongs to, in a sweep.
    pub level: Option<u8>,
    /// Its cache key (the hash of its config; its folder is `<kind>/<label>-<12 hex>`).
    pub hash: String,
    /// Whether it is done in the work folder.
    pub done: bool,
    /// What a shard of its kind takes a slice of, and how many there are (one model or probe
    /// for the kinds shared out whole).
    pub units: (u64, &'static str),
}

impl Listed {
    fn new(stage: &CachedStage, units: (u64, &'static str)) -> Result<Self> {
        Ok(Self {
            kind: stage.kind,
            label: stage.label.clone(),
            level: None,
            hash: stage.hash.clone(),
            done: stage.done()?.is_some(),
            units,
        })
    }
}

/// Every stage of a run of `config` with `work` as its work folder and models on `device`, in
/// the order the run makes them: for a nuisance sweep, each level's in turn. Reads nothing but
/// the stages' records.
pub fn list(work: &Path, config: &RunConfig, device: &Device) -> Result<Vec<Listed>> {
    config.validate()?;
    let Some(levels) = config.sweep() else {
        return list_level(work, config, false, device);
    };
    let mut out = Vec::new();
    for level in levels {
        for mut l in list_level(work, &config.at_level(level), true, device)? {
            l.level = Some(level.level());
            out.push(l);
        }
    }
    Ok(out)
}

/// The stages of one level's run; `predict`: with a sweep's prediction stages.
fn list_level(
    work: &Path,
    config: &RunConfig,
    predict: bool,
    device: &Device,
) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    let mut datasets = Vec::new();
    for (split, episodes) in [
        (Split::Train, config.data.episodes),
        (Split::Test, config.probe.episodes),
    ] {
        let mut sets = Datasets::default();
        for (generate, stage) in split_stages(work, config, split, episodes) {
            let files = slice_shards(&generate, WorkSlice::whole()).len() as u64;
            out.push(Listed::new(&stage, (files, "file"))?);
            sets.dirs.push(stage.dir.join("dataset"));
            sets.hashes.push(stage.hash);
        }
        datasets.push(sets);
    }
    let (fit, test) = (&datasets[0], &datasets[1]);
    let (suite_config, suite_stage) = suite::suite_stage(work, config);
    out.push(Listed::new(
        &suite_stage,
        (suite_config.total_sets(), "set"),
    )?);
    let trained = train::planned(work, config, &fit.hashes, device);
    for t in &trained {
        out.push(Listed::new(&t.stage, (1, "model"))?);
    }
    let action_dim = action_dim(config)?;
    let arch = architecture(config, action_dim)?;
    let basis = ScoreBasis {
        config,
        voe: &suite_stage.hash,
        arch: &arch,
    };
    let movies = (suite_config.total_movies(), "movie");
    for t in &trained {
        out.push(Listed::new(
            &model_stage(work, &basis, t, None, device),
            movies,
        )?);
    }
    for control in &config.score.controls {
        out.push(Listed::new(&control_stage(work, &basis, control), movies)?);
    }
    let headline = (suite_config.headline_movies(), "movie");
    for t in &trained {
        for &step in &t.config.keep {
            let stage = model_stage(work, &basis, t, Some(step), device);
            out.push(Listed::new(&stage, headline)?);
        }
    }
    let probe = |t: Option<(&train::Trained, u64)>, memory: bool| {
        probe_stage(work, config, fit, test, t, memory, device).1
    };
    let one = (1, "probe");
    out.push(Listed::new(&probe(None, false), one)?);
    for t in &trained {
        out.push(Listed::new(&probe(Some((t, t.config.steps)), false), one)?);
        if moravec_agents::models::find(&t.name).is_ok_and(|m| m.memory) {
            out.push(Listed::new(&probe(Some((t, t.config.steps)), true), one)?);
        }
    }
    for t in &trained {
        for &step in &t.config.keep {
            out.push(Listed::new(&probe(Some((t, step)), false), one)?);
        }
    }
    if predict {
        for t in &trained {
            let stage = prediction_stage(work, t, test, device);
            out.push(Listed::new(&stage, (1, "model"))?);
        }
    }
    for stage in plan::planned(work, config, &trained, action_dim, device)? {
        out.push(Listed::new(&stage, (config.plan.episodes, "episode"))?);
    }
    Ok(out)
}

/// The listing as a table, then per kind how far it can be cut.
pub fn render(listed: &[Listed]) -> String {
    let mut s = String::new();
    let name = |l: &Listed| match l.level {
        Some(level) => format!("nuisance {level}: {}", l.label),
        None => l.label.clone(),
    };
    let width = listed
        .iter()
        .map(|l| name(l).len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        s,
        "{:<6} {:<width$} {:<12} {:<5} cut into",
        "kind", "label", "key", "done"
    );
    for l in listed {
        let units = format!("{} {}", l.units.0, plural(l.units.1, l.units.0));
        let _ = writeln!(
            s,
            "{:<6} {:<width$} {:<12} {:<5} {units}",
            l.kind.as_str(),
            name(l),
            &l.hash[..12],
            if l.done { "yes" } else { "no" },
        );
    }
    let _ = writeln!(
        s,
        "\nBy kind (`bench run --shard I/N --stage KIND`, then `--merge KIND --shards N`):"
    );
    for kind in Sharded::KINDS {
        let of: Vec<&Listed> = listed.iter().filter(|l| l.kind == kind).collect();
        if of.is_empty() {
            continue;
        }
        let done = of.iter().filter(|l| l.done).count();
        let head = format!(
            "  {:<6} {} stage{}, {done} done",
            kind.as_str(),
            of.len(),
            if of.len() == 1 { "" } else { "s" }
        );
        let line = if matches!(kind, StageKind::Train | StageKind::Probe) {
            format!("N up to {} (whole stages, dealt round-robin)", of.len())
        } else {
            let (most, what) = of.iter().map(|l| l.units).max().unwrap_or((0, "unit"));
            format!(
                "N up to {most} (the {} of the largest stage)",
                plural(what, most)
            )
        };
        let _ = writeln!(s, "{head}: {line}");
    }
    s
}

/// `what` (singular), made plural unless there is one.
fn plural(what: &str, n: u64) -> String {
    if n == 1 {
        what.to_owned()
    } else {
        format!("{what}s")
    }
}
