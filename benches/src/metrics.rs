//! The VoE metrics, on plain numbers: relative accuracy of matched sets, AUROC, absolute accuracy
//! at a threshold, and percentile bootstrap intervals.
//!
//! Following IntPhys and Garrido et al. 2025 (jepa-intuitive-physics `compute_metrics`): a set is
//! scored by comparing its impossible movies' total surprise with its possible movies'; a tie
//! counts one half, and the share of ties is reported beside the accuracy so that a score of 0.5
//! made of ties is not mistaken for one made of coin flips.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// The outcome of one matched set: 1 when the impossible movies are more surprising in total,
/// 0 when less, 0.5 on an exact tie.
pub fn set_outcome(possible_total: f64, impossible_total: f64) -> f64 {
    match impossible_total.partial_cmp(&possible_total) {
        Some(std::cmp::Ordering::Greater) => 1.0,
        Some(std::cmp::Ordering::Less) => 0.0,
        _ => 0.5,
    }
}

/// The mean of `xs` (NaN when empty).
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Share of exact ties (outcomes of 0.5) among set outcomes.
pub fn tie_share(outcomes: &[f64]) -> f64 {
    if outcomes.is_empty() {
        return f64::NAN;
    }
    outcomes.iter().filter(|&&o| o == 0.5).count() as f64 / outcomes.len() as f64
}

/// Area under the ROC curve for telling impossible (`positive`) from possible (`negative`)
/// scores: the probability that a random positive scores above a random negative, ties counting
/// one half (the Mann-Whitney statistic). NaN when either side is empty.
pub fn auroc(negative: &[f64], positive: &[f64]) -> f64 {
    if negative.is_empty() || positive.is_empty() {
        return f64::NAN;
    }
    let mut neg = negative.to_vec();
    neg.sort_by(f64::total_cmp);
    // For each positive: negatives strictly below count 1, equal ones 1/2.
    let mut wins = 0.0;
    for &p in positive {
        let below = neg.partition_point(|&n| n < p);
        let not_above = neg.partition_point(|&n| n <= p);
        wins += below as f64 + 0.5 * (not_above - below) as f64;
    }
    wins / (negative.len() as f64 * positive.len() as f64)
}

/// The `q` quantile of `xs` with linear interpolation between order statistics (numpy's default).
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// Absolute accuracy with the threshold at the `q` quantile of the possible movies' scores: a
/// movie is called impossible when its score is above the threshold. The share of movies called
/// right, over both kinds.
pub fn absolute_accuracy(possible: &[f64], impossible: &[f64], q: f64) -> f64 {
    let n = possible.len() + impossible.len();
    if possible.is_empty() || n == 0 {
        return f64::NAN;
    }
    let threshold = quantile(possible, q);
    let right = possible.iter().filter(|&&s| s <= threshold).count()
        + impossible.iter().filter(|&&s| s > threshold).count();
    right as f64 / n as f64
}

/// A two-sided percentile interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The 95% percentile bootstrap interval of `statistic` over `units` resampled with
/// replacement, `resamples` times. The generator is seeded from `seed` and `key` alone, so an
/// interval is the same on every run and machine. `statistic` receives the indices of one
/// resample (repeats included); resamples where it is NaN are dropped.
pub fn bootstrap(
    units: usize,
    resamples: usize,
    seed: u64,
    key: &str,
    statistic: impl Fn(&[usize]) -> f64,
) -> Interval {
    if units == 0 || resamples == 0 {
        return Interval {
            low: f64::NAN,
            high: f64::NAN,
        };
    }
    let mut h = Sha256::new();
    h.update(b"moravec/bootstrap/v1");
    h.update(seed.to_le_bytes());
    h.update(key.as_bytes());
    let mut rng = ChaCha8Rng::from_seed(h.finalize().into());
    let mut picks = vec![0usize; units];
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for p in picks.iter_mut() {
            *p = rng.random_range(0..units);
        }
        let s = statistic(&picks);
        if !s.is_nan() {
            stats.push(s);
        }
    }
    Interval {
        low: quantile(&stats, 0.025),
        high: quantile(&stats, 0.975),
    }
}

/// The 95% percentile bootstrap interval of `statistic` over two levels resampled with
/// replacement: `outer` units (training seeds) and, shared by all of them, `inner` units (the
/// suite's sets, which every seed is scored on). Seeded from `seed` and `key` like
/// [`bootstrap`]; `statistic` receives one resample's outer and inner indices.
pub fn bootstrap_nested(
    outer: usize,
    inner: usize,
    resamples: usize,
    seed: u64,
    key: &str,
    statistic: impl Fn(&[usize], &[usize]) -> f64,
) -> Interval {
    if outer == 0 || inner == 0 || resamples == 0 {
        return Interval {
            low: f64::NAN,
            high: f64::NAN,
        };
    }
    let mut h = Sha256::new();
    h.update(b"moravec/bootstrap-nested/v1");
    h.update(seed.to_le_bytes());
    h.update(key.as_bytes());
    let mut rng = ChaCha8Rng::from_seed(h.finalize().into());
    let (mut outer_picks, mut inner_picks) = (vec![0usize; outer], vec![0usize; inner]);
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for p in outer_picks.iter_mut() {
            *p = rng.random_range(0..outer);
        }
        for p in inner_picks.iter_mut() {
            *p = rng.random_range(0..inner);
        }
        let s = statistic(&outer_picks, &inner_picks);
        if !s.is_nan() {
            stats.push(s);
        }
    }
    Interval {
        low: quantile(&stats, 0.025),
        high: quantile(&stats, 0.975),
    }
}

/// The sample standard deviation of `xs` (0 for one value, NaN for none).
pub fn sample_sd(xs: &[f64]) -> f64 {
    match xs.len() {
        0 => f64::NAN,
        1 => 0.0,
        n => {
            let m = mean(xs);
            (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_outcomes_count_ties_as_half() {
        assert_eq!(set_outcome(1.0, 2.0), 1.0);
        assert_eq!(set_outcome(2.0, 1.0), 0.0);
        assert_eq!(set_outcome(1.5, 1.5), 0.5);
        let outcomes = [1.0, 0.5, 0.0, 1.0];
        assert_eq!(mean(&outcomes), 0.625);
        assert_eq!(tie_share(&outcomes), 0.25);
    }

    #[test]
    fn auroc_by_hand_with_ties() {
        // Pairs (pos, neg): 3 vs {1, 2, 3} -> 1 + 1 + 0.5; 2 vs {1, 2, 3} -> 1 + 0.5 + 0;
        // 5 vs all -> 3. Total 7 of 9 pairs.
        let neg = [3.0, 1.0, 2.0];
        let pos = [3.0, 2.0, 5.0];
        assert_eq!(auroc(&neg, &pos), 7.0 / 9.0);
        assert_eq!(auroc(&[1.0, 1.0], &[1.0]), 0.5);
        assert_eq!(auroc(&[0.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auroc(&[5.0], &[1.0, 2.0]), 0.0);
        assert!(auroc(&[], &[1.0]).is_nan());
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        // numpy.quantile([1, 2, 3, 4], 0.9) == 3.7
        assert!((quantile(&[4.0, 1.0, 3.0, 2.0], 0.9) - 3.7).abs() < 1e-12);
        assert_eq!(quantile(&[2.0], 0.9), 2.0);
    }

    #[test]
    fn absolute_accuracy_by_hand() {
        // Threshold = 0.9 quantile of 1..=10 = 9.1: possible 1..=9 right, 10 wrong;
        // impossible 9.5 and 12 right, 3 wrong: 11 of 13.
        let possible: Vec<f64> = (1..=10).map(f64::from).collect();
        let impossible = [9.5, 12.0, 3.0];
        assert_eq!(absolute_accuracy(&possible, &impossible, 0.9), 11.0 / 13.0);
    }

    #[test]
    fn bootstrap_is_deterministic_and_contains_the_estimate() {
        let outcomes: Vec<f64> = (0..40).map(|i| [1.0, 1.0, 0.0, 0.5, 1.0][i % 5]).collect();
        let stat = |idx: &[usize]| mean(&idx.iter().map(|&i| outcomes[i]).collect::<Vec<_>>());
        let a = bootstrap(outcomes.len(), 1000, 7, "k", stat);
        let b = bootstrap(outcomes.len(), 1000, 7, "k", stat);
        assert_eq!(a.low.to_bits(), b.low.to_bits());
        assert_eq!(a.high.to_bits(), b.high.to_bits());
        let point = mean(&outcomes);
        assert!(a.low <= point && point <= a.high, "{a:?} vs {point}");
        assert!(a.high - a.low > 0.05, "a real spread: {a:?}");
    }

    /// Seeds that disagree widen the interval beyond what resampling sets alone gives.
    #[test]
    fn the_nested_bootstrap_adds_the_spread_between_seeds() {
        // Two seeds scoring 40 sets: one at 0.9, one at 0.5.
        let seeds: [Vec<f64>; 2] = [
            (0..40).map(|i| f64::from(i % 10 != 0)).collect(),
            (0..40).map(|i| f64::from(i % 2 == 0)).collect(),
        ];
        let stat = |s: &[usize], idx: &[usize]| {
            mean(
                &s.iter()
                    .map(|&k| mean(&idx.iter().map(|&i| seeds[k][i]).collect::<Vec<_>>()))
                    .collect::<Vec<_>>(),
            )
        };
        let a = bootstrap_nested(2, 40, 1000, 7, "k", stat);
        let b = bootstrap_nested(2, 40, 1000, 7, "k", stat);
        assert_eq!(a.low.to_bits(), b.low.to_bits());
        assert_eq!(a.high.to_bits(), b.high.to_bits());
        let point = (mean(&seeds[0]) + mean(&seeds[1])) / 2.0;
        assert!(a.low <= point && point <= a.high, "{a:?} vs {point}");
        let sets_only = bootstrap(40, 1000, 7, "k", |idx| stat(&[0, 1], idx));
        assert!(
            a.high - a.low > sets_only.high - sets_only.low,
            "{a:?} vs {sets_only:?}"
        );
        assert!((sample_sd(&[0.9, 0.5]) - 0.08f64.sqrt()).abs() < 1e-12);
    }
}
