//! The state probe: a ridge regression from frozen features (a model's frame latents, or raw
//! pixels) to the true state of the bodies, fitted in closed form and scored by R² on held-out
//! episodes.
//!
//! Why ridge in its dual form: the features are wide (every token of two frames, thousands of
//! numbers) and the fitting frames few (about a thousand), so the n x n kernel `X Xᵀ` is the
//! small matrix. One eigendecomposition of it gives the fit for every regularisation at once:
//! `α(λ) = V (Λ + λ)⁻¹ Vᵀ Y`. The regularisation is chosen per target group (position,
//! velocity) on validation episodes split off the fitting episodes, then the probe is refitted on
//! all fitting episodes with it; the test episodes are touched only to be scored.

use nalgebra::{DMatrix, SymmetricEigen};

/// Rows of features and targets; rows of one episode share its id.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// Features, row-major `[rows, width]`.
    pub x: Vec<f32>,
    /// Feature width.
    pub width: usize,
    /// Targets, row-major `[rows, targets]`.
    pub y: Vec<f64>,
    /// Targets per row.
    pub targets: usize,
    /// Each row's episode.
    pub episode: Vec<u64>,
}

impl Design {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.episode.len()
    }

    /// The rows whose episode `keep` accepts.
    fn select(&self, keep: impl Fn(u64) -> bool) -> Design {
        let mut out = Design {
            x: Vec::new(),
            width: self.width,
            y: Vec::new(),
            targets: self.targets,
            episode: Vec::new(),
        };
        for (i, &e) in self.episode.iter().enumerate() {
            if keep(e) {
                out.x
                    .extend_from_slice(&self.x[i * self.width..(i + 1) * self.width]);
                out.y
                    .extend_from_slice(&self.y[i * self.targets..(i + 1) * self.targets]);
                out.episode.push(e);
            }
        }
        out
    }
}

/// A named group of target columns scored together (R² pooled over its columns).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Its name (`position`, `velocity`).
    pub name: String,
    /// Its target columns.
    pub columns: std::ops::Range<usize>,
}

/// One group's result.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupScore {
    /// The group.
    pub name: String,
    /// R² on the test rows, pooled over the group's columns: 1 - SSE / SST around the test
    /// rows' own means.
    pub r2: f64,
    /// The regularisation chosen on the validation episodes, relative to the mean diagonal of
    /// the kernel.
    pub lambda: f64,
}

/// The regularisations tried, relative to the kernel's mean diagonal.
pub const LAMBDAS: [f64; 9] = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0];

/// Share of the fitting episodes held out to choose the regularisation.
pub const VALIDATION_SHARE: f64 = 0.2;

/// Fits on `fit`, choosing each group's regularisation on a validation split of `fit`'s
/// episodes (the last fifth by id), refits on all of `fit` and scores on `test`.
pub fn probe(fit: &Design, test: &Design, groups: &[Group]) -> Vec<GroupScore> {
    let mut episodes: Vec<u64> = fit.episode.clone();
    episodes.sort_unstable();
    episodes.dedup();
    let held = ((episodes.len() as f64 * VALIDATION_SHARE).ceil() as usize)
        .clamp(1, episodes.len().saturating_sub(1).max(1));
    let first_val = episodes[episodes.len() - held];
    let (train, val) = (
        fit.select(|e| e < first_val),
        fit.select(|e| e >= first_val),
    );
    let inner = if train.rows() == 0 { &val } else { &train };
    let ridge = Ridge::new(inner);
    let val_preds: Vec<DMatrix<f64>> = LAMBDAS.iter().map(|&l| ridge.predict(&val, l)).collect();
    let full = Ridge::new(fit);
    groups
        .iter()
        .map(|g| {
            let best = LAMBDAS
                .iter()
                .zip(&val_preds)
                .map(|(&l, p)| (l, sse(p, &val, &g.columns)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(1.0, |b| b.0);
            let pred = full.predict(test, best);
            GroupScore {
                name: g.name.clone(),
                r2: r2(&pred, test, &g.columns),
                lambda: best,
            }
        })
        .collect()
}

/// A ridge regression in dual form, for every regularisation at once.
struct Ridge {
    /// Feature means and scales of the fitting rows (features are standardised).
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// The standardised fitting features `[n, width]`.
    x: DMatrix<f64>,
    /// Eigenvectors of `X Xᵀ` and `Vᵀ (Y - ȳ)`.
    v: DMatrix<f64>,
    vty: DMatrix<f64>,
    eigenvalues: Vec<f64>,
    /// The kernel's mean diagonal (regularisations are relative to it).
    diag: f64,
    y_mean: Vec<f64>,
}

impl Ridge {
    fn new(fit: &Design) -> Self {
        let (n, w, t) = (fit.rows(), fit.width, fit.targets);
        let mut mean = vec![0.0; w];
        for row in fit.x.chunks_exact(w.max(1)) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
        let mut var = vec![0.0; w];
        for row in fit.x.chunks_exact(w.max(1)) {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        // A constant feature carries nothing; its scale is left at 1 so it stays zero.
        let scale: Vec<f64> = var
            .iter()
            .map(|s| {
                let sd = (s / n.max(1) as f64).sqrt();
                if sd > 1e-12 { sd } else { 1.0 }
            })
            .collect();
        let x = standardised(&fit.x, w, &mean, &scale);
        let kernel = &x * x.transpose();
        let diag = (0..n).map(|i| kernel[(i, i)]).sum::<f64>() / n.max(1) as f64;
        let eig = SymmetricEigen::new(kernel);
        let mut y_mean = vec![0.0; t];
        for row in fit.y.chunks_exact(t.max(1)) {
            for (m, &v) in y_mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        y_mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
        let yc = DMatrix::from_fn(n, t, |i, j| fit.y[i * t + j] - y_mean[j]);
        let vty = eig.eigenvectors.transpose() * yc;
        Self {
            mean,
            scale,
            x,
            v: eig.eigenvectors,
            vty,
            eigenvalues: eig.eigenvalues.iter().map(|&e| e.max(0.0)).collect(),
            diag: diag.max(1e-12),
            y_mean,
        }
    }

    /// Predictions `[rows, targets]` for `rows` at relative regularisation `lambda`.
    fn predict(&self, rows: &Design, lambda: f64) -> DMatrix<f64> {
        let xp = standardised(&rows.x, rows.width, &self.mean, &self.scale);
        let kv = (&xp * self.x.transpose()) * &self.v;
        let l = lambda * self.diag;
        let mut coef = self.vty.clone();
        for (i, e) in self.eigenvalues.iter().enumerate() {
            coef.row_mut(i).scale_mut(1.0 / (e + l));
        }
        let mut pred = kv * coef;
        for (j, m) in self.y_mean.iter().enumerate() {
            pred.column_mut(j).add_scalar_mut(*m);
        }
        pred
    }
}

/// Rows `[n, w]` standardised by `mean` and `scale`.
fn standardised(x: &[f32], w: usize, mean: &[f64], scale: &[f64]) -> DMatrix<f64> {
    let n = x.len() / w.max(1);
    DMatrix::from_fn(n, w, |i, j| (f64::from(x[i * w + j]) - mean[j]) / scale[j])
}

/// Squared error of `pred` against `rows`' targets over `columns`.
fn sse(pred: &DMatrix<f64>, rows: &Design, columns: &std::ops::Range<usize>) -> f64 {
    let t = rows.targets;
    (0..rows.rows())
        .flat_map(|i| columns.clone().map(move |j| (i, j)))
        .map(|(i, j)| (rows.y[i * t + j] - pred[(i, j)]).powi(2))
        .sum()
}

/// R² of `pred` on `rows` over `columns`, pooled: 1 - SSE / SST (NaN when the targets do not
/// vary).
pub fn r2(pred: &DMatrix<f64>, rows: &Design, columns: &std::ops::Range<usize>) -> f64 {
    let (n, t) = (rows.rows(), rows.targets);
    let mut sst = 0.0;
    for j in columns.clone() {
        let m = (0..n).map(|i| rows.y[i * t + j]).sum::<f64>() / n.max(1) as f64;
        sst += (0..n).map(|i| (rows.y[i * t + j] - m).powi(2)).sum::<f64>();
    }
    if sst <= 0.0 {
        return f64::NAN;
    }
    1.0 - sse(pred, rows, columns) / sst
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// `rows` rows of `width` Gaussian-ish features over `episodes` episodes, targets a fixed
    /// linear map of them plus `noise`.
    fn linear(rows: usize, width: usize, episodes: u64, noise: f64, seed: u64) -> Design {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let map: Vec<f64> = (0..width * 2)
            .map(|i| ((i * 7919) % 13) as f64 / 13.0 - 0.5)
            .collect();
        let mut d = Design {
            x: Vec::new(),
            width,
            y: Vec::new(),
            targets: 2,
            episode: Vec::new(),
        };
        for r in 0..rows {
            let x: Vec<f32> = (0..width).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            for k in 0..2 {
                let clean: f64 = x
                    .iter()
                    .enumerate()
                    .map(|(j, &v)| f64::from(v) * map[k * width + j])
                    .sum();
                d.y.push(clean + noise * rng.random_range(-1.0..1.0));
            }
            d.x.extend(x);
            d.episode.push(r as u64 * episodes / rows as u64);
        }
        d
    }

    fn groups() -> Vec<Group> {
        vec![
            Group {
                name: "a".into(),
                columns: 0..1,
            },
            Group {
                name: "b".into(),
                columns: 1..2,
            },
        ]
    }

    #[test]
    fn a_linear_map_is_recovered() {
        let fit = linear(300, 40, 30, 0.0, 1);
        let test = linear(200, 40, 20, 0.0, 2);
        for g in probe(&fit, &test, &groups()) {
            assert!(g.r2 > 0.99, "{g:?}");
            assert!(g.lambda <= 1e-2, "{g:?}");
        }
    }

    #[test]
    fn shuffled_targets_give_no_fit() {
        let fit = linear(300, 40, 30, 0.0, 1);
        let mut test = linear(200, 40, 20, 0.0, 2);
        // Each test row gets another row's targets.
        let n = test.rows();
        let y = test.y.clone();
        for i in 0..n {
            let src = (i * 37 + 11) % n;
            test.y[i * 2..i * 2 + 2].copy_from_slice(&y[src * 2..src * 2 + 2]);
        }
        for g in probe(&fit, &test, &groups()) {
            assert!(g.r2 < 0.1, "{g:?}");
        }
        // Targets unrelated to the features from the start: the validation split picks a
        // strong regularisation, so test R² stays near zero (not far below it).
        let mut noise = linear(300, 40, 30, 0.0, 1);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        noise
            .y
            .iter_mut()
            .for_each(|v| *v = rng.random_range(-1.0..1.0));
        let mut test = linear(200, 40, 20, 0.0, 2);
        test.y
            .iter_mut()
            .for_each(|v| *v = rng.random_range(-1.0..1.0));
        for g in probe(&noise, &test, &groups()) {
            assert!(g.r2 < 0.05 && g.r2 > -0.3, "{g:?}");
            assert!(g.lambda >= 1.0, "{g:?}");
        }
    }

    /// The test rows are scored, never fitted on: changing their targets changes neither the
    /// chosen regularisation nor the predictions.
    #[test]
    fn test_rows_do_not_leak_into_the_fit() {
        let fit = linear(300, 40, 30, 0.5, 1);
        let test = linear(200, 40, 20, 0.5, 2);
        let mut other = test.clone();
        other.y.iter_mut().for_each(|v| *v = -*v * 3.0 + 1.0);
        let a = probe(&fit, &test, &groups());
        let b = probe(&fit, &other, &groups());
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(a.lambda.to_bits(), b.lambda.to_bits());
        }
        let ridge = Ridge::new(&fit);
        let pa = ridge.predict(&test, 1e-3);
        let pb = ridge.predict(&other, 1e-3);
        assert_eq!(pa, pb);
        // Whereas the validation rows do choose it: noisier validation targets want more.
        let noisy = linear(300, 40, 30, 8.0, 1);
        let c = probe(&noisy, &test, &groups());
        assert!(c[0].lambda > a[0].lambda, "{c:?} vs {a:?}");
    }
}
