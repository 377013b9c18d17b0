//! Runs cached stages: reuses a done one, redoes a forced one, and keeps every stage's timing
//! and measurements (frames/s, samples/s, movies/s) for `meta.json` and `throughput.csv`, also
//! when it was reused.

use std::time::Instant;

use moravec_sim::WorkSlice;

use crate::error::{HarnessError, Result};
use crate::results::meta::StageTiming;
use crate::stages::cache::{CachedStage, StageKind, StageRecord};
use crate::stages::lock::StageLock;

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

/// A run cut into shards on several machines sharing the work folder: one shard of every stage
/// of a kind, or the merge of their shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharded {
    /// Make shard `slice` of every stage of `kind` that is not done.
    Make {
        /// The stages' kind.
        kind: StageKind,
        /// Which shard.
        slice: WorkSlice,
    },
    /// Join the `count` shards of every stage of `kind` that is not done, finishing it.
    Merge {
        /// The stages' kind.
        kind: StageKind,
        /// How many shards the stages were cut into.
        count: u64,
    },
}

impl Sharded {
    /// The kinds of stage that can be cut into shards: datasets (their files), the suite (its
    /// sets), training (whole models), scoring (the suite's movies), probes (whole probes: each
    /// is one regression) and planning (each cell's episodes). Every kind.
    pub const KINDS: [StageKind; 6] = [
        StageKind::Data,
        StageKind::Voe,
        StageKind::Train,
        StageKind::Score,
        StageKind::Probe,
        StageKind::Plan,
    ];

    /// The kind of stage it works on.
    pub fn kind(&self) -> StageKind {
        match *self {
            Sharded::Make { kind, .. } | Sharded::Merge { kind, .. } => kind,
        }
    }

    /// Checks the cut: a merge of at least one shard.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Sharded::Merge { count, .. } => {
                WorkSlice::all(count)
                    .map(|_| ())
                    .map_err(|_| HarnessError::Invalid {
                        what: "--shards".into(),
                        value: count.to_string(),
                        expected: format!(
                            "a number of shards from 1 to {}",
                            moravec_sim::work_slice::MAX_SLICES
                        ),
                    })
            }
            Sharded::Make { .. } => Ok(()),
        }
    }
}

/// What a stage that can be cut into shards is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// All of its work (a run not cut into shards).
    Whole,
    /// One shard of it; the stage stays not done.
    Shard(WorkSlice),
    /// Join its shards, of this many; the stage is then done.
    Merge(u64),
}

/// Runs stages, reusing done ones, and keeps their timings.
#[derive(Debug, Default)]
pub struct Runner {
    /// Stage kinds redone even when cached.
    pub force: Vec<StageKind>,
    /// The shard this run makes or merges, if it is cut into shards.
    pub sharded: Option<Sharded>,
    /// Every stage run or reused, in order.
    pub timings: Vec<StageTiming>,
    /// Every measurement, in order.
    pub measures: Vec<Measure>,
    /// How many stages of the sharded kind that are shared out whole ([`Runner::stage_whole`])
    /// this run has met: the next one's index.
    whole_index: u64,
}

impl Runner {
    /// A runner that redoes the stages of the kinds in `force`.
    pub fn new(force: &[StageKind]) -> Self {
        Self {
            force: force.to_vec(),
            ..Self::default()
        }
    }

    /// Runs `work` for `stage` unless it is done; `work` returns its measurements. In a run cut
    /// into shards, a stage of an earlier kind than the sharded one must be done already (the
    /// shards would otherwise race to make it).
    pub fn stage(
        &mut self,
        stage: &CachedStage,
        work: impl FnOnce(&CachedStage) -> Result<Vec<(String, f64)>>,
    ) -> Result<StageRecord> {
        // A stage is made (or redone) under its lock, so that two runs sharing the work folder
        // never make it at once: the second waits, then reuses what the first made.
        let mut lock = None;
        if self.force.contains(&stage.kind) {
            lock = Some(StageLock::take(stage)?);
            stage.clear()?;
        }
        if let Some(sharded) = self.sharded
            && stage.kind < sharded.kind()
            && stage.done()?.is_none()
        {
            return Err(HarnessError::Invalid {
                what: "stage".into(),
                value: format!("{} {}", stage.kind.as_str(), stage.label),
                expected: format!(
                    "done before the {} stages are cut into shards: run (or shard and merge) \
                     the {} stages first",
                    sharded.kind().as_str(),
                    stage.kind.as_str()
                ),
            });
        }
        let done = match stage.done()? {
            None if lock.is_none() => {
                lock = Some(StageLock::take(stage)?);
                // Another run may have made it while this one waited for the lock.
                stage.done()?
            }
            done => done,
        };
        let (record, cached, seconds) = match done {
            Some(r) => {
                eprintln!(
                    "{} {}: done before, reused",
                    stage.kind.as_str(),
                    stage.label
                );
                (r, true, 0.0)
            }
            None => {
                // Under the lock: what a run killed in this stage left half-written.
                crate::files::remove_stale_temps(&stage.dir)?;
                let t = Instant::now();
                let measures = work(stage)?;
                let secs = t.elapsed().as_secs_f64();
                eprintln!("{} {}: {secs:.1} s", stage.kind.as_str(), stage.label);
                (stage.finish(secs, measures)?, false, secs)
            }
        };
        drop(lock);
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

    /// Runs a stage that is shared out whole among the shards of its kind (a model's training,
    /// a probe's regression): in a run making shard I of N of its kind, the stages met in order
    /// are dealt round-robin, and this one is run only if it falls to shard I (None otherwise);
    /// in a run merging its kind, it must be done already (the merge makes nothing) and is
    /// reused; otherwise it is run or reused as [`Runner::stage`] does.
    pub fn stage_whole(
        &mut self,
        stage: &CachedStage,
        work: impl FnOnce(&CachedStage) -> Result<Vec<(String, f64)>>,
    ) -> Result<Option<StageRecord>> {
        match self.sharded {
            Some(Sharded::Make { kind, slice }) if kind == stage.kind => {
                let index = self.whole_index;
                self.whole_index += 1;
                if index % slice.count() != slice.index() - 1 {
                    return Ok(None);
                }
            }
            Some(Sharded::Merge { kind, count })
                if kind == stage.kind && stage.done()?.is_none() =>
            {
                return Err(HarnessError::Invalid {
                    what: format!("{} stage", stage.kind.as_str()),
                    value: stage.label.clone(),
                    expected: format!(
                        "made by one of the {count} shards before the merge (run the missing \
                         shard again)"
                    ),
                });
            }
            _ => {}
        }
        self.stage(stage, work).map(Some)
    }

    /// Runs a stage whose work can be cut into shards: done, it is reused; in a run making a
    /// shard of its kind, `work` makes that shard ([`Part::Shard`]) and the stage stays not done
    /// (None); in a run merging its kind's shards, `work` joins them ([`Part::Merge`]) and the
    /// stage is finished; otherwise `work` does all of it ([`Part::Whole`]). `work` returns the
    /// stage's measurements (a shard's are not kept).
    pub fn stage_sharded(
        &mut self,
        stage: &CachedStage,
        work: impl FnOnce(&CachedStage, Part) -> Result<Vec<(String, f64)>>,
    ) -> Result<Option<StageRecord>> {
        match self.sharded {
            Some(Sharded::Make { kind, slice }) if kind == stage.kind => {
                if stage.done()?.is_some() {
                    return self.stage(stage, |s| work(s, Part::Whole)).map(Some);
                }
                let t = Instant::now();
                work(stage, Part::Shard(slice))?;
                eprintln!(
                    "{} {}: shard {slice} made in {:.1} s",
                    stage.kind.as_str(),
                    stage.label,
                    t.elapsed().as_secs_f64()
                );
                Ok(None)
            }
            Some(Sharded::Merge { kind, count }) if kind == stage.kind => self
                .stage(stage, |stage| work(stage, Part::Merge(count)))
                .map(Some),
            _ => self.stage(stage, |s| work(s, Part::Whole)).map(Some),
        }
    }
}
