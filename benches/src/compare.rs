//! Comparing two runs: join their `voe.csv` rows on the key columns, with deltas, whether the
//! intervals overlap, rows only one run has, the settings that differ, and regressions.

use std::collections::BTreeMap;
use std::fmt::Write;

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
}

impl Comparison {
    /// Joins two runs, keeping rows whose metric is in `metrics` (all when empty).
    pub fn new(a: &RunResults, b: &RunResults, metrics: &[String]) -> Self {
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
        out
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
        s
    }
}
