//! Runs cached stages: reuses a done one, redoes a forced one, and keeps every stage's timing
//! and measurements (frames/s, samples/s, movies/s) for `meta.json` and `throughput.csv`, also
//! when it was reused.

use std::time::Instant;

use crate::error::Result;
use crate::results::meta::StageTiming;
use crate::stages::cache::{CachedStage, StageKind, StageRecord};

/// One measurement of a stage, as `throughput.csv` reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    /// The stage's kind.
    pub kind: StageKind,
    /// What the stage is about.
    pub label: String,
    /// What was measured (`frames_per_s`, ...).
    pub metric: String,
    /// Its value.
    pub value: f64,
    /// Whether this run reused the stage (the value is the run's that made it).
    pub cached: bool,
}

/// Runs stages, reusing done ones, and keeps their timings.
#[derive(Debug, Default)]
pub struct Runner {
    /// Stage kinds redone even when cached.
    pub force: Vec<StageKind>,
    /// Every stage run or reused, in order.
    pub timings: Vec<StageTiming>,
    /// Every measurement, in order.
    pub measures: Vec<Measure>,
}

impl Runner {
    /// A runner that redoes the stages of the kinds in `force`.
    pub fn new(force: &[StageKind]) -> Self {
        Self {
            force: force.to_vec(),
            ..Self::default()
        }
    }

    /// Runs `work` for `stage` unless it is done; `work` returns its measurements.
    pub fn stage(
        &mut self,
        stage: &CachedStage,
        work: impl FnOnce(&CachedStage) -> Result<Vec<(String, f64)>>,
    ) -> Result<StageRecord> {
        if self.force.contains(&stage.kind) {
            stage.clear()?;
        }
        let (record, cached, seconds) = match stage.done()? {
            Some(r) => {
                eprintln!(
                    "{} {}: done before, reused",
                    stage.kind.as_str(),
                    stage.label
                );
                (r, true, 0.0)
            }
            None => {
                let t = Instant::now();
                let measures = work(stage)?;
                let secs = t.elapsed().as_secs_f64();
                eprintln!("{} {}: {secs:.1} s", stage.kind.as_str(), stage.label);
                (stage.finish(secs, measures)?, false, secs)
            }
        };
        for (metric, value) in &record.measures {
            self.measures.push(Measure {
                kind: stage.kind,
                label: stage.label.clone(),
                metric: metric.clone(),
                value: *value,
                cached,
            });
        }
        self.timings.push(StageTiming {
            kind: stage.kind.as_str().to_owned(),
            label: stage.label.clone(),
            hash: stage.hash.clone(),
            cached,
            seconds,
            original_seconds: record.seconds,
        });
        Ok(record)
    }
}
