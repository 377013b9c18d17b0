//! From surprise curves to the VoE table: per scorer x property x condition x subset x
//! aggregation, relative accuracy (with its share of ties), AUROC, absolute accuracy and the
//! disappearance / appearance diagnostics, each with a 95% bootstrap interval over sets.

use std::collections::BTreeMap;

use moravec_sim::voe::{Condition, Kind, Property};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::metrics::{self, Interval};
use moravec_sim::voe::{SetRow, Suite};

/// How a curve becomes one number per movie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Mean over windows (the headline).
    Mean,
    /// Maximum over windows.
    Max,
}

impl Aggregation {
    /// Both, headline first.
    pub const ALL: [Aggregation; 2] = [Aggregation::Mean, Aggregation::Max];

    /// Its name in the results.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Mean => "mean",
            Aggregation::Max => "max",
        }
    }
}

/// Which sets of a cell a row covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subset {
    /// Every set.
    All,
    /// Occluded sets whose hidden stretch fits in one window (C + K - 2 frames or fewer): a
    /// windowed model can see both ends of it.
    Decidable,
    /// Occluded sets hidden longer: only memory beyond the window can tell.
    Memory,
}

impl Subset {
    /// Its name in the results.
    pub fn as_str(self) -> &'static str {
        match self {
            Subset::All => "all",
            Subset::Decidable => "decidable",
            Subset::Memory => "memory",
        }
    }
}

/// One movie's scores.
#[derive(Clone, Debug, PartialEq)]
pub struct MovieScore {
    /// Its set.
    pub set_id: u64,
    /// Member index.
    pub member: usize,
    /// Whether it is possible.
    pub possible: bool,
    /// Frames hidden around the violation.
    pub occlusion_frames: usize,
    /// Sum of its window surprises (exact for integer controls).
    pub total: f64,
    /// Number of windows.
    pub windows: usize,
    /// Largest window surprise.
    pub max: f64,
}

impl MovieScore {
    /// From a curve.
    pub fn new(row: &SetRow, curve: &[(usize, f64)]) -> Self {
        let total = curve.iter().map(|c| c.1).sum();
        let max = curve.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max);
        Self {
            set_id: row.set_id,
            member: row.member,
            possible: row.possible,
            occlusion_frames: row.occlusion_frames,
            total,
            windows: curve.len(),
            max,
        }
    }

    /// Its score under an aggregation.
    pub fn score(&self, agg: Aggregation) -> f64 {
        match agg {
            Aggregation::Mean => self.total / self.windows.max(1) as f64,
            Aggregation::Max => self.max,
        }
    }

    /// The number its set is compared on: for the mean, the total (every movie of a set has as
    /// many windows, so this ranks like the mean, and sums of integers tie exactly).
    fn set_value(&self, agg: Aggregation) -> f64 {
        match agg {
            Aggregation::Mean => self.total,
            Aggregation::Max => self.max,
        }
    }
}

/// One row of `voe.csv` (without the run column).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoeRow {
    /// Model or control.
    pub model: String,
    /// Property.
    pub property: Property,
    /// Condition.
    pub condition: Condition,
    /// Which sets.
    pub subset: Subset,
    /// Aggregation over windows.
    pub aggregation: Aggregation,
    /// Metric name.
    pub metric: String,
    /// Point estimate.
    pub value: f64,
    /// Bootstrap 2.5% bound.
    pub ci_low: f64,
    /// Bootstrap 97.5% bound.
    pub ci_high: f64,
    /// Sets (or movies, for movie-level metrics) it is computed on.
    pub n: usize,
}

/// Every movie's scores for one scorer: per property, in `sets.csv` order.
pub fn movie_scores(
    suite: &Suite,
    curves: &BTreeMap<Property, Vec<Vec<(usize, f64)>>>,
) -> BTreeMap<Property, Vec<(SetRow, MovieScore)>> {
    let mut out: BTreeMap<Property, Vec<(SetRow, MovieScore)>> = BTreeMap::new();
    for row in &suite.rows {
        // A movie left unscored (the learning curve scores the headline sets only) has no
        // curve.
        if let Some(c) = curves
            .get(&row.property)
            .and_then(|c| c.get(row.episode))
            .filter(|c| !c.is_empty())
        {
            out.entry(row.property)
                .or_default()
                .push((row.clone(), MovieScore::new(row, c)));
        }
    }
    out
}

/// One cell to compute: a scorer's sets of a property, condition and subset, for each of its
/// training seeds (the same sets, in the same order, for every seed).
struct Cell<'a> {
    model: &'a str,
    property: Property,
    condition: Condition,
    subset: Subset,
    kind: Kind,
    seeds: Vec<Vec<&'a [MovieScore]>>,
}

/// One scorer's movies, grouped per (property, condition) into sets ordered by id, each set's
/// movies by member.
type Grouped = Vec<(Property, Condition, Kind, Vec<Vec<MovieScore>>)>;

fn grouped(scores: &BTreeMap<Property, Vec<(SetRow, MovieScore)>>) -> Grouped {
    scores
        .iter()
        .flat_map(|(&property, movies)| {
            let mut by_cond: BTreeMap<(u8, u64), Vec<MovieScore>> = BTreeMap::new();
            let mut kinds = BTreeMap::new();
            for (row, s) in movies {
                let c = row.condition as u8;
                kinds.insert(c, (row.condition, row.kind));
                by_cond.entry((c, row.set_id)).or_default().push(s.clone());
            }
            kinds
                .into_iter()
                .map(|(c, (condition, kind))| {
                    let sets: Vec<Vec<MovieScore>> = by_cond
                        .range((c, 0)..=(c, u64::MAX))
                        .map(|(_, v)| {
                            let mut v = v.clone();
                            v.sort_by_key(|m| m.member);
                            v
                        })
                        .collect();
                    (property, condition, kind, sets)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The VoE rows of one scorer. `decidable_max` is C + K - 2.
pub fn voe_rows(
    model: &str,
    scores: &BTreeMap<Property, Vec<(SetRow, MovieScore)>>,
    decidable_max: usize,
    resamples: usize,
    seed: u64,
) -> Vec<VoeRow> {
    voe_rows_seeds(
        model,
        std::slice::from_ref(scores),
        decidable_max,
        resamples,
        seed,
    )
}

/// The VoE rows of one model trained with several seeds (`per_seed`, each scored on the same
/// suite): every metric is the mean over seeds, its interval resamples seeds and sets, and
/// relative accuracy gains a `seed_sd` row (the standard deviation between seeds, with their
/// lowest and highest as its bounds). With one seed, the rows of [`voe_rows`].
pub fn voe_rows_seeds(
    model: &str,
    per_seed: &[BTreeMap<Property, Vec<(SetRow, MovieScore)>>],
    decidable_max: usize,
    resamples: usize,
    seed: u64,
) -> Vec<VoeRow> {
    let groups: Vec<Grouped> = per_seed.iter().map(grouped).collect();
    let Some(first) = groups.first() else {
        return Vec::new();
    };
    let mut cells = Vec::new();
    for (g, (property, condition, kind, _)) in first.iter().enumerate() {
        let mut subsets: Vec<(Subset, Vec<Vec<&[MovieScore]>>)> = vec![(
            Subset::All,
            groups
                .iter()
                .map(|s| s[g].3.iter().map(Vec::as_slice).collect())
                .collect(),
        )];
        if *condition == Condition::Occluded {
            let hidden = |s: &&[MovieScore]| s[0].occlusion_frames <= decidable_max;
            let split = |decidable: bool| -> Vec<Vec<&[MovieScore]>> {
                groups
                    .iter()
                    .map(|s| {
                        s[g].3
                            .iter()
                            .map(Vec::as_slice)
                            .filter(|x| hidden(x) == decidable)
                            .collect()
                    })
                    .collect()
            };
            subsets.push((Subset::Decidable, split(true)));
            subsets.push((Subset::Memory, split(false)));
        }
        for (subset, seeds) in subsets {
            if seeds[0].is_empty() {
                continue;
            }
            cells.push(Cell {
                model,
                property: *property,
                condition: *condition,
                subset,
                kind: *kind,
                seeds,
            });
        }
    }
    cells
        .par_iter()
        .flat_map_iter(|cell| {
            Aggregation::ALL
                .iter()
                .flat_map(|&agg| cell_rows(cell, agg, resamples, seed))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The metrics of one cell under one aggregation.
fn cell_rows(cell: &Cell, agg: Aggregation, resamples: usize, seed: u64) -> Vec<VoeRow> {
    let key = |metric: &str| {
        format!(
            "{}/{}/{}/{}/{}/{metric}",
            cell.model,
            cell.property,
            cell.condition,
            cell.subset.as_str(),
            agg.as_str()
        )
    };
    let row = |metric: &str, value: f64, ci: Interval, n: usize| VoeRow {
        model: cell.model.to_owned(),
        property: cell.property,
        condition: cell.condition,
        subset: cell.subset,
        aggregation: agg,
        metric: metric.to_owned(),
        value,
        ci_low: ci.low,
        ci_high: ci.high,
        n,
    };
    let n = cell.seeds[0].len();
    let k = cell.seeds.len();
    let everything: Vec<usize> = (0..n).collect();
    // A metric as a function of (seed, resampled sets): its value is the mean over seeds, its
    // interval resamples sets (one seed) or seeds and sets.
    let estimate = |metric: &str, f: &(dyn Fn(usize, &[usize]) -> f64 + Sync)| {
        let value = if k == 1 {
            f(0, &everything)
        } else {
            (0..k).map(|s| f(s, &everything)).sum::<f64>() / k as f64
        };
        let ci = if k == 1 {
            metrics::bootstrap(n, resamples, seed, &key(metric), |idx| f(0, idx))
        } else {
            metrics::bootstrap_nested(k, n, resamples, seed, &key(metric), |seeds, idx| {
                seeds.iter().map(|&s| f(s, idx)).sum::<f64>() / seeds.len() as f64
            })
        };
        (value, ci)
    };
    let outcome = |set: &[MovieScore]| {
        let sum = |possible: bool| {
            set.iter()
                .filter(|m| m.possible == possible)
                .map(|m| m.set_value(agg))
                .sum::<f64>()
        };
        metrics::set_outcome(sum(true), sum(false))
    };
    let outcomes: Vec<Vec<f64>> = cell
        .seeds
        .iter()
        .map(|sets| sets.iter().map(|s| outcome(s)).collect())
        .collect();
    let pick = |xs: &[f64], idx: &[usize]| idx.iter().map(|&i| xs[i]).collect::<Vec<f64>>();
    let mut rows = Vec::new();
    for (metric, stat) in [
        ("relative_accuracy", metrics::mean as fn(&[f64]) -> f64),
        ("tie_share", metrics::tie_share),
    ] {
        let (value, ci) = estimate(metric, &|s, idx| stat(&pick(&outcomes[s], idx)));
        rows.push(row(metric, value, ci, n));
    }
    if k > 1 {
        let per_seed: Vec<f64> = outcomes.iter().map(|o| metrics::mean(o)).collect();
        let spread = Interval {
            low: per_seed.iter().copied().fold(f64::INFINITY, f64::min),
            high: per_seed.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        };
        rows.push(row("seed_sd", metrics::sample_sd(&per_seed), spread, k));
    }
    // Movie-level metrics, resampling whole sets.
    let split = |s: usize, idx: &[usize]| {
        let (mut pos, mut neg) = (Vec::new(), Vec::new());
        for &i in idx {
            for m in cell.seeds[s][i] {
                if m.possible {
                    neg.push(m.score(agg));
                } else {
                    pos.push(m.score(agg));
                }
            }
        }
        (neg, pos)
    };
    let movies = cell.seeds[0].iter().map(|set| set.len()).sum();
    let (value, ci) = estimate("auroc", &|s, idx| {
        let (neg, pos) = split(s, idx);
        metrics::auroc(&neg, &pos)
    });
    rows.push(row("auroc", value, ci, movies));
    let (value, ci) = estimate("absolute_accuracy", &|s, idx| {
        let (neg, pos) = split(s, idx);
        metrics::absolute_accuracy(&neg, &pos, 0.9)
    });
    rows.push(row("absolute_accuracy", value, ci, movies));
    if cell.kind == Kind::Quadruplet {
        // A vs C (the object vanishes) and B vs D (it appears): confounded by presence, but they
        // show a model that expects hidden objects to be gone.
        for (metric, possible, impossible) in [
            ("disappearance_accuracy", 0, 2),
            ("appearance_accuracy", 1, 3),
        ] {
            let xs: Vec<Vec<f64>> = cell
                .seeds
                .iter()
                .map(|sets| {
                    sets.iter()
                        .map(|s| {
                            metrics::set_outcome(
                                s[possible].set_value(agg),
                                s[impossible].set_value(agg),
                            )
                        })
                        .collect()
                })
                .collect();
            let (value, ci) = estimate(metric, &|s, idx| metrics::mean(&pick(&xs[s], idx)));
            rows.push(row(metric, value, ci, n));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(set_id: u64, member: usize, possible: bool, curve: &[f64]) -> MovieScore {
        MovieScore {
            set_id,
            member,
            possible,
            occlusion_frames: if set_id.is_multiple_of(2) { 2 } else { 20 },
            total: curve.iter().sum(),
            windows: curve.len(),
            max: curve.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    #[test]
    fn quadruplet_rows_by_hand() {
        // Set 0: impossible C + D = 3 + 5 > A + B = 1 + 2 -> 1. Set 1: totals tie -> 0.5, but the
        // max favours the impossible movies -> 1.
        let sets = [
            vec![
                movie(0, 0, true, &[1.0]),
                movie(0, 1, true, &[2.0]),
                movie(0, 2, false, &[3.0]),
                movie(0, 3, false, &[5.0]),
            ],
            vec![
                movie(1, 0, true, &[2.0, 2.0]),
                movie(1, 1, true, &[2.0, 2.0]),
                movie(1, 2, false, &[4.0, 0.0]),
                movie(1, 3, false, &[0.0, 4.0]),
            ],
        ];
        let cell = Cell {
            model: "m",
            property: Property::Permanence,
            condition: Condition::Occluded,
            subset: Subset::All,
            kind: Kind::Quadruplet,
            seeds: vec![sets.iter().map(Vec::as_slice).collect()],
        };
        let get = |rows: &[VoeRow], m: &str| rows.iter().find(|r| r.metric == m).unwrap().value;
        let mean = cell_rows(&cell, Aggregation::Mean, 1000, 0);
        assert_eq!(get(&mean, "relative_accuracy"), 0.75);
        assert_eq!(get(&mean, "tie_share"), 0.5);
        // A vs C: 1 < 3 and 4 == 4 -> (1 + 0.5) / 2.
        assert_eq!(get(&mean, "disappearance_accuracy"), 0.75);
        let max = cell_rows(&cell, Aggregation::Max, 1000, 0);
        assert_eq!(get(&max, "relative_accuracy"), 1.0);
        assert_eq!(get(&max, "tie_share"), 0.0);
        for r in mean.iter().chain(&max) {
            assert!(
                r.ci_low <= r.value + 1e-12 && r.value <= r.ci_high + 1e-12,
                "{r:?}"
            );
        }
    }

    /// Two seeds: the value is their mean, `seed_sd` their spread, and one seed alone gives
    /// exactly the single-scorer rows.
    #[test]
    fn rows_over_seeds_are_means_with_their_spread() {
        let set = |id: u64, impossible: f64| {
            vec![
                movie(id, 0, true, &[1.0]),
                movie(id, 1, true, &[1.0]),
                movie(id, 2, false, &[impossible]),
                movie(id, 3, false, &[1.0]),
            ]
        };
        // Seed a: 4 of 4 sets right; seed b: 1 of 4.
        let a: Vec<Vec<MovieScore>> = (0..4).map(|i| set(i, 2.0)).collect();
        let b: Vec<Vec<MovieScore>> = (0..4)
            .map(|i| set(i, if i == 0 { 2.0 } else { 0.0 }))
            .collect();
        let scores = |sets: &[Vec<MovieScore>]| {
            let mut m = BTreeMap::new();
            let rows: Vec<(SetRow, MovieScore)> = sets
                .iter()
                .flatten()
                .map(|s| {
                    let row = SetRow {
                        set_id: s.set_id,
                        property: Property::Permanence,
                        condition: Condition::Occluded,
                        kind: Kind::Quadruplet,
                        member: s.member,
                        possible: s.possible,
                        occlusion_frames: s.occlusion_frames,
                        motion: moravec_sim::voe::Motion::Own,
                        violation_frame: 0,
                        seed: 0,
                        episode: 0,
                        object_share: 0.0,
                    };
                    (row, s.clone())
                })
                .collect();
            m.insert(Property::Permanence, rows);
            m
        };
        let (sa, sb) = (scores(&a), scores(&b));
        let get = |rows: &[VoeRow], metric: &str| {
            rows.iter()
                .find(|r| {
                    r.metric == metric
                        && r.subset == Subset::All
                        && r.aggregation == Aggregation::Mean
                })
                .cloned()
        };
        let both = voe_rows_seeds("m", &[sa.clone(), sb], 6, 1000, 0);
        let acc = get(&both, "relative_accuracy").unwrap();
        assert_eq!(acc.value, (1.0 + 0.25) / 2.0);
        assert!(acc.ci_low < acc.value && acc.value < acc.ci_high, "{acc:?}");
        let sd = get(&both, "seed_sd").unwrap();
        assert_eq!((sd.ci_low, sd.ci_high, sd.n), (0.25, 1.0, 2));
        assert!((sd.value - 0.75 / 2f64.sqrt()).abs() < 1e-12, "{sd:?}");
        let one = voe_rows_seeds("m", std::slice::from_ref(&sa), 6, 1000, 0);
        assert_eq!(one, voe_rows("m", &sa, 6, 1000, 0));
        assert!(get(&one, "seed_sd").is_none());
    }
}
