//! A results folder read back (what `compare` joins), refusing folders of another schema.

use std::path::{Path, PathBuf};

use moravec_sim::results::{RESULTS_SCHEMA, VOE_HEADER};

use crate::error::{HarnessError, Result};
use crate::files::open_csv;
use crate::results::meta::RunMeta;

/// A results folder read back.
#[derive(Clone, Debug)]
pub struct RunResults {
    /// Its folder.
    pub dir: PathBuf,
    /// Its meta.json.
    pub meta: RunMeta,
    /// Its config.toml.
    pub config: toml::Table,
    /// Its voe.csv: key columns (see [`moravec_sim::results::VOE_KEYS`]) to (value, ci_low, ci_high, n).
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
