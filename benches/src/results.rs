//! A run's results folder: long-format CSVs, the resolved config, `meta.json` and the readers
//! `compare` uses, which refuse folders of another schema.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{HarnessError, Result};
use crate::output::write_atomic;
use crate::report::VoeRow;

/// Names the layout of a results folder; `compare` refuses others.
pub const RESULTS_SCHEMA: &str = "moravec-results/1";

/// Columns of `voe.csv`.
pub const VOE_HEADER: [&str; 11] = [
    "run",
    "model",
    "property",
    "condition",
    "subset",
    "aggregation",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
];
/// The columns that identify a `voe.csv` row.
pub const VOE_KEYS: [&str; 6] = [
    "model",
    "property",
    "condition",
    "subset",
    "aggregation",
    "metric",
];
/// Columns of `training.csv`.
pub const TRAINING_HEADER: [&str; 5] = ["run", "model", "step", "term", "value"];
/// Columns of `throughput.csv`.
pub const THROUGHPUT_HEADER: [&str; 6] = ["run", "stage", "item", "metric", "value", "cached"];
/// Columns of `curves.csv`: every window's surprise, the curves the viewer draws under a replay.
pub const CURVES_HEADER: [&str; 6] = [
    "run",
    "model",
    "property",
    "episode",
    "target_frame",
    "surprise",
];
/// Columns of `scores.csv`.
pub const SCORES_HEADER: [&str; 11] = [
    "run",
    "model",
    "property",
    "condition",
    "set_id",
    "member",
    "possible",
    "occlusion_frames",
    "windows",
    "mean",
    "max",
];

/// Where and how long a stage ran, for `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageTiming {
    /// Stage kind.
    pub kind: String,
    /// What it is about.
    pub label: String,
    /// Its config hash.
    pub hash: String,
    /// Whether this run reused it.
    pub cached: bool,
    /// Seconds this run spent on it (0 when cached).
    pub seconds: f64,
    /// Seconds the run that made it spent.
    pub original_seconds: f64,
}

/// The machine a run ran on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    /// Host name.
    pub hostname: String,
    /// Operating system and architecture.
    pub os: String,
    /// Logical CPUs available.
    pub cpus: usize,
}

impl Machine {
    /// This machine.
    pub fn here() -> Self {
        let hostname = std::fs::read_to_string("/etc/hostname")
            .map(|s| s.trim().to_owned())
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "unknown".into());
        Self {
            hostname,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// A run's `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMeta {
    /// [`RESULTS_SCHEMA`].
    pub schema: String,
    /// The run id.
    pub run: String,
    /// The preset it started from.
    pub preset: String,
    /// Git revision of the code.
    pub git_revision: String,
    /// The harness version.
    pub harness: String,
    /// Where it ran.
    pub machine: Machine,
    /// Device of training and scoring.
    pub device: String,
    /// Start, UTC, RFC 3339.
    pub started: String,
    /// End, UTC, RFC 3339.
    pub finished: String,
    /// Wall seconds of the whole run.
    pub wall_seconds: f64,
    /// Every stage.
    pub stages: Vec<StageTiming>,
}

/// The current time, UTC, as RFC 3339 (seconds).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the Unix epoch as RFC 3339 UTC.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Opens a CSV file and reads its header, which must be `expected` when one is given.
pub fn open_csv(
    path: &Path,
    expected: Option<&[&str]>,
) -> Result<(csv::Reader<std::fs::File>, Vec<String>)> {
    let bad = |m: String| HarnessError::Schema {
        path: path.to_owned(),
        message: m,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    if let Some(expected) = expected
        && header != expected
    {
        return Err(bad(format!("header {header:?}, expected {expected:?}")));
    }
    Ok((reader, header))
}

/// Writes a CSV atomically.
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("in memory");
    for r in rows {
        w.write_record(r).expect("in memory");
    }
    let bytes = w.into_inner().expect("in memory");
    write_atomic(path, &bytes).map_err(|e| HarnessError::Schema {
        path: path.to_owned(),
        message: format!("{e:#}"),
    })
}

/// Numbers in results files: shortest text that reads back to the same bits.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else {
        format!("{x}")
    }
}

/// `voe.csv` rows of a run.
pub fn voe_records(run: &str, rows: &[VoeRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            vec![
                run.to_owned(),
                r.model.clone(),
                r.property.to_string(),
                r.condition.to_string(),
                r.subset.as_str().to_owned(),
                r.aggregation.as_str().to_owned(),
                r.metric.clone(),
                num(r.value),
                num(r.ci_low),
                num(r.ci_high),
                r.n.to_string(),
            ]
        })
        .collect()
}

/// A results folder read back.
#[derive(Clone, Debug)]
pub struct RunResults {
    /// Its folder.
    pub dir: PathBuf,
    /// Its meta.json.
    pub meta: RunMeta,
    /// Its config.toml.
    pub config: toml::Table,
    /// Its voe.csv: key columns (see [`VOE_KEYS`]) to (value, ci_low, ci_high, n).
    pub voe: Vec<(Vec<String>, [f64; 3], usize)>,
}

impl RunResults {
    /// Reads a results folder, refusing one of another schema.
    pub fn load(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(HarnessError::Schema {
                path: dir.to_owned(),
                message: "no such results folder".into(),
            });
        }
        let meta_path = dir.join("meta.json");
        let text = std::fs::read_to_string(&meta_path)
            .map_err(|e| HarnessError::io("cannot read", &meta_path, e))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| HarnessError::Schema {
                path: meta_path.clone(),
                message: format!("not JSON: {e}"),
            })?;
        let schema = value
            .get("schema")
            .and_then(|s| s.as_str())
            .unwrap_or("none");
        if schema != RESULTS_SCHEMA {
            return Err(HarnessError::Schema {
                path: meta_path,
                message: format!(
                    "results of schema {schema}, expected {RESULTS_SCHEMA} (written by another version of the harness?)"
                ),
            });
        }
        let meta: RunMeta = serde_json::from_value(value).map_err(|e| HarnessError::Schema {
            path: meta_path.clone(),
            message: e.to_string(),
        })?;
        let config_path = dir.join("config.toml");
        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|e| HarnessError::io("cannot read", &config_path, e))?;
        let config: toml::Table =
            toml::from_str(&config_text).map_err(|e| HarnessError::Schema {
                path: config_path.clone(),
                message: e.to_string(),
            })?;
        let voe_path = dir.join("voe.csv");
        let bad = |m: String| HarnessError::Schema {
            path: voe_path.clone(),
            message: m,
        };
        let (mut reader, _) = open_csv(&voe_path, Some(&VOE_HEADER))?;
        let mut voe = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            let f = |i: usize| -> Result<f64> {
                rec[i]
                    .parse::<f64>()
                    .map_err(|e| bad(format!("line {}: {e}", voe.len() + 2)))
            };
            let key: Vec<String> = (1..7).map(|i| rec[i].to_owned()).collect();
            let n = rec[10]
                .parse::<usize>()
                .map_err(|e| bad(format!("line {}: {e}", voe.len() + 2)))?;
            voe.push((key, [f(7)?, f(8)?, f(9)?], n));
        }
        Ok(Self {
            dir: dir.to_owned(),
            meta,
            config,
            voe,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_by_hand() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_000_000), "2026-11-30T00:53:20Z");
    }

    #[test]
    fn numbers_read_back_to_the_same_bits() {
        for x in [0.1f64, 1.0 / 3.0, 12345.678e-9, 0.5] {
            assert_eq!(num(x).parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
        assert_eq!(num(f64::NAN), "NaN");
    }
}
