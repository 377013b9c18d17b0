//! Comparing two runs: join their `voe.csv` rows on the key columns, with deltas, whether the
//! intervals overlap, rows only one run has, the settings that differ, and regressions; then
//! whether the other tables (scores, curves, training, planning) hold the same rows, so that a
//! rerun can be checked bit for bit.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use crate::error::Result;
use crate::files::open_csv;

use crate::results::RunResults;
use moravec_sim::results::VOE_KEYS;

/// One joined row.
#[derive(Clone, Debug, PartialEq)]
pub struct Joined {
    /// Key columns (see [`VOE_KEYS`]).
    pub key: Vec<String>,
    /// Run A's value and interval.
    pub a: [f64; 3],
    /// Run B's.
    pub b: [f64; 3],
}

impl Joined {
    /// B minus A.
    pub fn delta(&self) -> f64 {
        self.b[0] - self.a[0]
    }

    /// Whether the two intervals share a point.
    pub fn overlap(&self) -> bool {
        self.a[1] <= self.b[2] && self.b[1] <= self.a[2]
    }

    /// Whether a higher value is better (every metric but the share of ties).
    pub fn higher_is_better(&self) -> bool {
        self.key[5] != "tie_share"
    }
}

/// Two runs side by side.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// Rows both runs have, in key order.
    pub joined: Vec<Joined>,
    /// Keys only run A has.
    pub only_a: Vec<Vec<String>>,
    /// Keys only run B has.
    pub only_b: Vec<Vec<String>>,
    /// Settings that differ, `key: a -> b`.
    pub config_diff: Vec<String>,
    /// The other tables, row by row.
    pub tables: Vec<TableDiff>,
}

/// The tables compared row by row beside `voe.csv`, with the columns left out of the comparison:
/// the run's name, and times (which no rerun repeats).
pub const TABLES: [(&str, &[&str]); 5] = [
    ("scores.csv", &["run"]),
    ("curves.csv", &["run"]),
    ("training.csv", &["run"]),
    ("planning.csv", &["run", "plan_ms_per_action"]),
    ("planning_episodes.csv", &["run", "plan_ms_per_action"]),
];

/// How one table of two runs compares, row by row in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct TableDiff {
    /// The file.
    pub file: &'static str,
    /// Rows in A and in B (`None` where the run has no such file).
    pub rows: [Option<usize>; 2],
    /// Rows (by position) whose compared columns differ, or that only one run has.
    pub differing: usize,
}

impl TableDiff {
    /// Whether both runs have the table with the same rows.
    pub fn identical(&self) -> bool {
        self.rows[0].is_some() && self.rows[0] == self.rows[1] && self.differing == 0
    }
}

/// A table's rows without the left-out columns, or `None` when the file is absent.
fn table_rows(dir: &Path, file: &str, skip: &[&str]) -> Result<Option<Vec<Vec<String>>>> {
    let path = dir.join(file);
    if !path.exists() {
        return Ok(None);
    }
    let (mut reader, header) = open_csv(&path, None)?;
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !skip.contains(&header[i].as_str()))
        .collect();
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| crate::error::HarnessError::Schema {
            path: path.clone(),
            message: e.to_string(),
        })?;
        rows.push(keep.iter().map(|&i| rec[i].to_owned()).collect());
    }
    Ok(Some(rows))
}

/// Compares [`TABLES`] of two results folders.
pub fn compare_tables(a: &Path, b: &Path) -> Result<Vec<TableDiff>> {
    let mut out = Vec::new();
    for (file, skip) in TABLES {
        let (ra, rb) = (table_rows(a, file, skip)?, table_rows(b, file, skip)?);
        let (la, lb) = (ra.as_ref().map(Vec::len), rb.as_ref().map(Vec::len));
        let (ra, rb) = (ra.unwrap_or_default(), rb.unwrap_or_default());
        let same = ra.iter().zip(&rb).filter(|(x, y)| x == y).count();
        out.push(TableDiff {
            file,
            rows: [la, lb],
            differing: ra.len().max(rb.len()) - same,
        });
    }
    Ok(out)
}

impl Comparison {
    /// Joins two runs, keeping rows whose metric is in `metrics` (all when empty), and compares
    /// their other tables; an unreadable table is an error naming it.
    pub fn new(a: &RunResults, b: &RunResults, metrics: &[String]) -> Result<Self> {
        let keep = |k: &Vec<String>| metrics.is_empty() || metrics.contains(&k[5]);
        let index = |r: &RunResults| -> BTreeMap<Vec<String>, [f64; 3]> {
            r.voe
                .iter()
                .filter(|(k, _, _)| keep(k))
                .map(|(k, v, _)| (k.clone(), *v))
                .collect()
        };
        let (ia, ib) = (index(a), index(b));
        let mut out = Comparison {
            config_diff: crate::config::diff(&a.config, &b.config),
            ..Default::default()
        };
        out.tables = compare_tables(&a.dir, &b.dir)?;
        for (k, va) in &ia {
            match ib.get(k) {
                Some(vb) => out.joined.push(Joined {
                    key: k.clone(),
                    a: *va,
                    b: *vb,
                }),
                None => out.only_a.push(k.clone()),
            }
        }
        out.only_b = ib
            .keys()
            .filter(|k| !ia.contains_key(*k))
            .cloned()
            .collect();
        Ok(out)
    }

    /// Rows whose value fell by more than `threshold` (rose, for the share of ties).
    pub fn regressions(&self, threshold: f64) -> Vec<&Joined> {
        self.joined
            .iter()
            .filter(|j| {
                let d = j.delta();
                !d.is_nan()
                    && if j.higher_is_better() {
                        d < -threshold
                    } else {
                        d > threshold
                    }
            })
            .collect()
    }

    /// The comparison as text.
    pub fn render(&self, a: &str, b: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "A = {a}\nB = {b}");
        if self.config_diff.is_empty() {
            let _ = writeln!(s, "same settings");
        } else {
            let _ = writeln!(s, "settings that differ (A -> B):");
            for d in &self.config_diff {
                let _ = writeln!(s, "  {d}");
            }
        }
        let _ = writeln!(
            s,
            "\n{:<14} {:<16} {:<9} {:<9} {:<4} {:<22} {:>7} {:>7} {:>8}  CIs",
            "model", "property", "condition", "subset", "agg", "metric", "A", "B", "delta"
        );
        for j in &self.joined {
            let k = &j.key;
            let _ = writeln!(
                s,
                "{:<14} {:<16} {:<9} {:<9} {:<4} {:<22} {:>7.3} {:>7.3} {:>+8.3}  {}",
                k[0],
                k[1],
                k[2],
                k[3],
                k[4],
                k[5],
                j.a[0],
                j.b[0],
                j.delta(),
                if j.overlap() { "overlap" } else { "disjoint" }
            );
        }
        for (name, keys) in [("A", &self.only_a), ("B", &self.only_b)] {
            if !keys.is_empty() {
                let _ = writeln!(s, "\nonly in {name} ({}):", keys.len());
                for k in keys {
                    let _ = writeln!(s, "  {}", k.join(" "));
                }
            }
        }
        let _ = writeln!(
            s,
            "\n{} rows joined ({} with disjoint intervals), {} only in A, {} only in B (keys: {})",
            self.joined.len(),
            self.joined.iter().filter(|j| !j.overlap()).count(),
            self.only_a.len(),
            self.only_b.len(),
            VOE_KEYS.join(", ")
        );
        if !self.tables.is_empty() {
            let _ = writeln!(
                s,
                "\nother tables, row by row (without run names and times):"
            );
        }
        for t in &self.tables {
            let count = |n: Option<usize>| n.map_or_else(|| "absent".to_owned(), |n| n.to_string());
            let verdict = if t.identical() {
                "identical".to_owned()
            } else {
                format!("{} rows differ", t.differing)
            };
            let _ = writeln!(
                s,
                "  {:<22} A {:>8}  B {:>8}  {verdict}",
                t.file,
                count(t.rows[0]),
                count(t.rows[1])
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_compare_row_by_row_without_run_names_and_times() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d).unwrap();
        }
        let planning = |run: &str, ms: &str, rate: &str| {
            format!("run,model,success_rate,plan_ms_per_action\n{run},m,{rate},{ms}\n")
        };
        std::fs::write(a.join("planning.csv"), planning("ra", "5.1", "0.5")).unwrap();
        std::fs::write(b.join("planning.csv"), planning("rb", "25.3", "0.5")).unwrap();
        std::fs::write(a.join("curves.csv"), "run,surprise\nra,0.25\nra,0.5\n").unwrap();
        std::fs::write(b.join("curves.csv"), "run,surprise\nrb,0.25\nrb,0.75\n").unwrap();
        let diffs = compare_tables(&a, &b).unwrap();
        let find = |f: &str| diffs.iter().find(|d| d.file == f).unwrap().clone();
        assert!(find("planning.csv").identical(), "{diffs:?}");
        let curves = find("curves.csv");
        assert_eq!((curves.rows, curves.differing), ([Some(2), Some(2)], 1));
        let scores = find("scores.csv");
        assert_eq!(scores.rows, [None, None]);
        assert!(!scores.identical());
    }
}
