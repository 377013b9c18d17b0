//! Stages cached by the hash of their resolved config.
//!
//! A stage (a dataset, the suite, one model's training, one model's scoring, one planning cell)
//! lives in
//! `WORK/<kind>/<label>-<hash>/`, where the hash covers its whole config including the hashes of
//! the stages it reads. It is done when its `stage.json` record is there; the record is written
//! last and atomically, so a stage killed half-way is simply not done, and the next run resumes it
//! (datasets from their complete shards, training from its last checkpoint, scoring from the
//! properties already scored).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{HarnessError, Result};
use crate::files::write_atomic;

/// Version of the stage record layout.
pub const STAGE_SCHEMA: u32 = 1;

/// The kinds of stage, in the order a run does them.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// Training datasets.
    Data,
    /// The VoE suite.
    Voe,
    /// Training.
    Train,
    /// Surprise of every suite movie.
    Score,
    /// State probes.
    Probe,
    /// Planning episodes.
    Plan,
}

impl StageKind {
    /// The kind's directory name.
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Data => "data",
            StageKind::Voe => "voe",
            StageKind::Train => "train",
            StageKind::Score => "score",
            StageKind::Probe => "probe",
            StageKind::Plan => "plan",
        }
    }
}

/// What a finished stage recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageRecord {
    /// Layout version.
    pub schema: u32,
    /// Its kind.
    pub kind: StageKind,
    /// What it is about (a scene, a model).
    pub label: String,
    /// Hash of its config.
    pub hash: String,
    /// Its config.
    pub config: serde_json::Value,
    /// Wall seconds the run that finished it spent on it.
    pub seconds: f64,
    /// Measurements to report again when the stage is reused (frames/s, samples/s).
    pub measures: Vec<(String, f64)>,
}

/// One cached stage's folder: where its outputs and its record live.
#[derive(Clone, Debug)]
pub struct CachedStage {
    /// Its kind.
    pub kind: StageKind,
    /// What it is about.
    pub label: String,
    /// Hash of its config.
    pub hash: String,
    /// Its config.
    pub config: serde_json::Value,
    /// Its folder.
    pub dir: PathBuf,
}

impl CachedStage {
    /// The stage of `kind` about `label` with `config`, under `work`.
    pub fn new<C: Serialize>(work: &Path, kind: StageKind, label: &str, config: &C) -> Self {
        let hash = crate::config::hash(&(kind, label, config));
        let dir = work
            .join(kind.as_str())
            .join(format!("{label}-{}", &hash[..12]));
        Self {
            kind,
            label: label.to_owned(),
            hash,
            config: serde_json::to_value(config).expect("config serialises"),
            dir,
        }
    }

    fn record_path(&self) -> PathBuf {
        self.dir.join("stage.json")
    }

    /// Its record if it is done (and was written for this very config).
    pub fn done(&self) -> Result<Option<StageRecord>> {
        let path = self.record_path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(HarnessError::io("cannot read", path, e)),
        };
        let record: StageRecord =
            serde_json::from_str(&text).map_err(|e| HarnessError::Schema {
                path: path.clone(),
                message: format!("not a stage record of this harness ({e}); delete the folder"),
            })?;
        if record.schema != STAGE_SCHEMA || record.hash != self.hash {
            return Err(HarnessError::Schema {
                path,
                message: format!(
                    "stage record of schema {} and hash {} where {STAGE_SCHEMA} and {} were expected; delete the folder",
                    record.schema, record.hash, self.hash
                ),
            });
        }
        Ok(Some(record))
    }

    /// Forgets that it is done and deletes what it wrote, so that it is redone from scratch.
    pub fn clear(&self) -> Result<()> {
        if self.dir.exists() {
            fs::remove_dir_all(&self.dir)
                .map_err(|e| HarnessError::io("cannot remove", &self.dir, e))?;
        }
        Ok(())
    }

    /// Marks it done.
    pub fn finish(&self, seconds: f64, measures: Vec<(String, f64)>) -> Result<StageRecord> {
        let record = StageRecord {
            schema: STAGE_SCHEMA,
            kind: self.kind,
            label: self.label.clone(),
            hash: self.hash.clone(),
            config: self.config.clone(),
            seconds,
            measures,
        };
        let json = serde_json::to_string_pretty(&record).expect("record serialises");
        write_atomic(&self.record_path(), json.as_bytes())?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_is_done_only_once_finished_and_clear_forgets_it() {
        let tmp = tempfile::tempdir().unwrap();
        let a = CachedStage::new(tmp.path(), StageKind::Train, "m", &("x", 1));
        let b = CachedStage::new(tmp.path(), StageKind::Train, "m", &("x", 2));
        assert_ne!(a.dir, b.dir, "another config is another stage");
        assert!(a.done().unwrap().is_none());
        fs::create_dir_all(&a.dir).unwrap();
        assert!(a.done().unwrap().is_none(), "a folder alone is not done");
        a.finish(1.5, vec![("fps".into(), 2.0)]).unwrap();
        let r = a.done().unwrap().unwrap();
        assert_eq!(r.measures, vec![("fps".to_owned(), 2.0)]);
        a.clear().unwrap();
        assert!(a.done().unwrap().is_none());
    }

    #[test]
    fn a_foreign_record_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let a = CachedStage::new(tmp.path(), StageKind::Data, "s", &1);
        fs::create_dir_all(&a.dir).unwrap();
        fs::write(a.dir.join("stage.json"), "{\"hello\": 1}").unwrap();
        let e = a.done().unwrap_err().to_string();
        assert!(e.contains("stage.json") && e.contains("delete"), "{e}");
    }
}
