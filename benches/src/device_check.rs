//! The CPU/GPU agreement check: the same run on the CPU and on another device, compared.
//!
//! Both runs train every model from the same seed, so their first losses must agree up to the
//! rounding of the device's kernels (other summation orders, fused multiply-adds); the check
//! states the tolerance and fails beyond it. It also reports each stage's throughput on both
//! devices (training samples/s, scoring movies/s) and the relative accuracy the two runs score.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{HarnessError, Result};
use crate::files::{num, open_csv};
use moravec_sim::results::{THROUGHPUT_HEADER, TRAINING_HEADER, VOE_HEADER};

/// Columns of `device-check.csv`.
pub const CHECK_HEADER: [&str; 8] = [
    "device",
    "model",
    "metric",
    "cpu",
    "other",
    "compare",
    "tolerance",
    "pass",
];

/// One comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRow {
    /// What was compared (a model, or a stage's item).
    pub model: String,
    /// `loss_step_<n>`, `train_samples_per_s`, `score_movies_per_s`, `relative_accuracy`.
    pub metric: String,
    /// The CPU run's value.
    pub cpu: f64,
    /// The other device's value.
    pub other: f64,
    /// For losses the relative difference; for throughput the speed-up (other / cpu); for
    /// accuracy the difference (other - cpu).
    pub compare: f64,
    /// For losses: the largest relative difference that passes.
    pub tolerance: Option<f64>,
}

impl CheckRow {
    /// Whether the row passes (rows without tolerance are reports and always do).
    pub fn pass(&self) -> bool {
        self.tolerance.is_none_or(|t| self.compare <= t)
    }

    /// The row as `device-check.csv` writes it.
    pub fn record(&self, device: &str) -> Vec<String> {
        vec![
            device.to_owned(),
            self.model.clone(),
            self.metric.clone(),
            num(self.cpu),
            num(self.other),
            num(self.compare),
            self.tolerance.map(num).unwrap_or_default(),
            self.pass().to_string(),
        ]
    }
}

/// Compares the results folders of a CPU run and of the same run on another device: the total
/// loss of the first `steps` training steps of every model (relative difference at most
/// `tolerance`), training and scoring throughput, and the overall relative accuracy.
pub fn compare(cpu: &Path, other: &Path, steps: u64, tolerance: f64) -> Result<Vec<CheckRow>> {
    let mut rows = Vec::new();
    let (a, b) = (losses(cpu)?, losses(other)?);
    for ((model, step), &x) in &a {
        if *step >= steps {
            continue;
        }
        let y = *b
            .get(&(model.clone(), *step))
            .ok_or_else(|| HarnessError::Invalid {
                what: "training.csv".into(),
                value: other.join("training.csv").display().to_string(),
                expected: format!("the total loss of {model} at step {step}, as the CPU run has"),
            })?;
        let compare = if x == y {
            0.0
        } else {
            (x - y).abs() / x.abs().max(y.abs()).max(f64::MIN_POSITIVE)
        };
        rows.push(CheckRow {
            model: model.clone(),
            metric: format!("loss_step_{step}"),
            cpu: x,
            other: y,
            compare,
            tolerance: Some(tolerance),
        });
    }
    let (a, b) = (throughput(cpu)?, throughput(other)?);
    for ((stage, item, metric), &x) in &a {
        if let Some(&y) = b.get(&(stage.clone(), item.clone(), metric.clone()))
            && ["train", "score"].contains(&stage.as_str())
            && x > 0.0
        {
            rows.push(CheckRow {
                model: item.clone(),
                metric: format!("{stage}_{metric}"),
                cpu: x,
                other: y,
                compare: y / x,
                tolerance: None,
            });
        }
    }
    let (a, b) = (accuracy(cpu)?, accuracy(other)?);
    for (model, &x) in &a {
        if let Some(&y) = b.get(model) {
            rows.push(CheckRow {
                model: model.clone(),
                metric: "relative_accuracy".into(),
                cpu: x,
                other: y,
                compare: y - x,
                tolerance: None,
            });
        }
    }
    Ok(rows)
}

/// `(model, step) -> total loss` from a results folder's `training.csv`.
fn losses(dir: &Path) -> Result<BTreeMap<(String, u64), f64>> {
    let path = dir.join("training.csv");
    let (mut reader, _) = open_csv(&path, Some(&TRAINING_HEADER))?;
    let mut out = BTreeMap::new();
    for row in reader.deserialize::<(String, String, u64, String, f64)>() {
        let (_, model, step, term, value) = row.map_err(|e| HarnessError::Schema {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if term == "total" {
            out.insert((model, step), value);
        }
    }
    Ok(out)
}

/// `(stage, item, metric) -> value` from `throughput.csv`.
fn throughput(dir: &Path) -> Result<BTreeMap<(String, String, String), f64>> {
    let path = dir.join("throughput.csv");
    let (mut reader, _) = open_csv(&path, Some(&THROUGHPUT_HEADER))?;
    let mut out = BTreeMap::new();
    for row in reader.deserialize::<(String, String, String, String, f64, bool)>() {
        let (_, stage, item, metric, value, _) = row.map_err(|e| HarnessError::Schema {
            path: path.clone(),
            message: e.to_string(),
        })?;
        out.insert((stage, item, metric), value);
    }
    Ok(out)
}

/// `model -> relative accuracy` over all properties and conditions (mean aggregation, all
/// sets) from `voe.csv`, averaged over its rows.
fn accuracy(dir: &Path) -> Result<BTreeMap<String, f64>> {
    let path = dir.join("voe.csv");
    let (mut reader, _) = open_csv(&path, Some(&VOE_HEADER))?;
    let mut sums: BTreeMap<String, (f64, u32)> = BTreeMap::new();
    for row in reader.records() {
        let r = row.map_err(|e| HarnessError::Schema {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if &r[4] == "all" && &r[5] == "mean" && &r[6] == "relative_accuracy" {
            let v: f64 = r[7].parse().map_err(|e| HarnessError::Schema {
                path: path.clone(),
                message: format!("value {:?}: {e}", &r[7]),
            })?;
            if v.is_finite() {
                let e = sums.entry(r[1].to_owned()).or_default();
                e.0 += v;
                e.1 += 1;
            }
        }
    }
    Ok(sums
        .into_iter()
        .map(|(m, (s, n))| (m, s / f64::from(n.max(1))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(dir: &Path, loss1: f64, samples: f64) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("training.csv"),
            format!(
                "run,model,step,term,value\nr,m,0,total,2.0\nr,m,0,prediction,1.0\n\
                 r,m,1,total,{loss1}\nr,m,2,total,1.0\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("throughput.csv"),
            format!(
                "run,stage,item,metric,value,cached\nr,data,s,frames_per_s,5,false\n\
                 r,train,m,samples_per_s,{samples},false\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("voe.csv"),
            "run,model,property,condition,subset,aggregation,metric,value,ci_low,ci_high,n\n\
             r,m,p,occluded,all,mean,relative_accuracy,0.5,0,1,4\n\
             r,m,p,visible,all,mean,relative_accuracy,1,0,1,4\n\
             r,m,p,visible,decidable,mean,relative_accuracy,0,0,1,4\n",
        )
        .unwrap();
    }

    #[test]
    fn first_losses_pass_within_the_tolerance_and_fail_beyond_it() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            tmp.path().join("a"),
            tmp.path().join("b"),
            tmp.path().join("c"),
        );
        results(&a, 1.5, 100.0);
        results(&b, 1.5 * (1.0 + 1e-5), 400.0);
        results(&c, 1.6, 400.0);
        let rows = compare(&a, &b, 2, 1e-3).unwrap();
        let metrics: Vec<&str> = rows.iter().map(|r| r.metric.as_str()).collect();
        assert_eq!(
            metrics,
            [
                "loss_step_0",
                "loss_step_1",
                "train_samples_per_s",
                "relative_accuracy"
            ],
            "the first two steps, training throughput, accuracy"
        );
        assert!(rows.iter().all(CheckRow::pass));
        assert_eq!(rows[0].compare, 0.0);
        assert!((rows[1].compare - 1e-5).abs() < 1e-7, "{}", rows[1].compare);
        assert_eq!(rows[2].compare, 4.0, "the speed-up");
        assert_eq!(rows[3].cpu, 0.75, "the mean of the `all` rows");
        let rows = compare(&a, &c, 2, 1e-3).unwrap();
        assert!(!rows[1].pass(), "{rows:?}");
        assert_eq!(rows[1].record("cuda")[7], "false");
        std::fs::remove_file(c.join("training.csv")).unwrap();
        assert!(
            compare(&a, &c, 2, 1e-3).is_err(),
            "a missing file is an error"
        );
    }
}
