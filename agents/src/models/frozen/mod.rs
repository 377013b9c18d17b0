//! The predictor out of the autograd graph, for planning: a sampling planner asks for the
//! rollouts of hundreds of action sequences from one context, thirty times per action.
//!
//! Through candle every layer of every step is a node run across the whole batch: each op
//! hands its rows to the thread pool and waits for them, writes fresh memory the size of the
//! batch's activations, and keeps what its backward pass would need. Here a fixed block of
//! samples goes through all the steps on one thread, its activations small enough to stay in
//! the core's cache, and the blocks run in parallel. Each block does the arithmetic of
//! [`Predictor::rollout`] in the same order (the same matrix kernels, the same element
//! functions, the same additions), so the predictions are the candle rollout's to the bit and do
//! not depend on the number of threads (tested in `tests.rs` and in `planning::latent`). The one
//! exception, also tested: with grids of fewer than 16 tokens, or a number that is not a
//! multiple of 16 (no preset's: 32x32 images in patches of 8 give 16), a block's short last rows
//! can meet another branch of the matrix kernel than the whole batch's and round differently in
//! the last place.

use candle_core::Tensor;
use rayon::prelude::*;

use super::Predictor;
use crate::error::{AgentError, Result};
use crate::ops::kernels::{View, gelu_forward, gemm_serial, vectorised};

/// At most this many samples per block: 32 samples of 16 tokens give 512 rows, whose widest
/// activations (512 rows of 256) stay in a core's L2 cache with the weights.
const MAX_SAMPLES_PER_BLOCK: usize = 32;

/// The blocks of `samples`: an even number of ranges whose lengths differ by at most one. Why:
/// a planner's 300 samples in 19 blocks of 16 left one of two cores a block behind the other
/// (5% of a rollout); 10 blocks of 30 keep both busy to the end. The split depends on the
/// sample count alone, never on the pool, so the blocks (and their bits) are the same on any
/// thread count.
fn blocks(samples: usize) -> Vec<std::ops::Range<usize>> {
    let count = 2 * samples.div_ceil(2 * MAX_SAMPLES_PER_BLOCK);
    (0..count)
        .map(|i| i * samples / count..(i + 1) * samples / count)
        .filter(|r| !r.is_empty())
        .collect()
}

/// A predictor's weights as plain row-major numbers.
#[derive(Clone, Debug)]
pub struct FrozenPredictor {
    context: usize,
    tokens: usize,
    dim: usize,
    hidden: usize,
    action_dim: usize,
    /// `[C D, H]` (the layer's weight transposed, as every weight below but the mixing's),
    /// `[H]`.
    temporal: (Vec<f32>, Vec<f32>),
    /// `[C A, H]`, `[H]` (absent without actions).
    action: Option<(Vec<f32>, Vec<f32>)>,
    /// FiLM's `[C A, H]`, `[H]` (absent without FiLM).
    film: Option<(Vec<f32>, Vec<f32>)>,
    /// `[N, N]`, `[N]`.
    mix: (Vec<f32>, Vec<f32>),
    /// `[H, H]` transposed, `[H]`.
    hidden_layer: (Vec<f32>, Vec<f32>),
    /// `[H, D]`, `[D]`.
    out: (Vec<f32>, Vec<f32>),
}

/// One sample's last steps of a rollout as [`FrozenPredictor::rollout_costs`] hands them to
/// its cost, read where the rollout wrote them (a block's `[S N, K, D]`, each token's steps side
/// by side).
#[derive(Clone, Copy, Debug)]
pub struct Scored<'a> {
    block: &'a [f32],
    sample: usize,
    tokens: usize,
    dim: usize,
    steps: usize,
    first: usize,
}

impl<'a> Scored<'a> {
    /// Sample `sample`'s steps `first..steps` of `block`.
    pub(crate) fn new(
        block: &'a [f32],
        sample: usize,
        tokens: usize,
        dim: usize,
        steps: usize,
        first: usize,
    ) -> Self {
        Self {
            block,
            sample,
            tokens,
            dim,
            steps,
            first,
        }
    }

    /// The width D of a token's row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The rows of D numbers in the order of `[steps, N, D]` row-major: step by step, token by
    /// token.
    pub fn rows(self) -> impl Iterator<Item = &'a [f32]> {
        let (n, d, k) = (self.tokens, self.dim, self.steps);
        let first_row = self.sample * n;
        (self.first..k).flat_map(move |step| {
            (first_row..first_row + n).map(move |r| &self.block[(r * k + step) * d..][..d])
        })
    }
}

fn numbers(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?)
}

impl FrozenPredictor {
    /// Copies the weights of `predictor`.
    pub(super) fn new(predictor: &Predictor) -> Result<Self> {
        let layer = |l: &candle_nn::Linear| -> Result<(Vec<f32>, Vec<f32>)> {
            let bias = l.bias().expect("the predictor's layers have a bias");
            Ok((numbers(l.weight())?, numbers(bias)?))
        };
        // Why transposed: the products read a weight `[out, in]` as its transpose, which the
        // matrix kernel packs (a strided gather) at every call, once per block of samples and
        // step: 13% of planning's time. Stored `[in, out]` the same products (the same sums
        // in the same order) read it as it lies.
        let transposed = |l: &candle_nn::Linear| -> Result<(Vec<f32>, Vec<f32>)> {
            let bias = l.bias().expect("the predictor's layers have a bias");
            Ok((numbers(&l.weight().t()?)?, numbers(bias)?))
        };
        let (hidden, cd) = predictor.temporal.weight().dims2()?;
        let dim = predictor.out.weight().dim(0)?;
        let context = predictor.context;
        if cd != context * dim {
            return Err(AgentError::OutOfRange {
                what: "frozen predictor",
                value: format!("temporal weight [{hidden}, {cd}]"),
                expected: format!("[H, {}] for {context} grids of {dim}", context * dim),
            });
        }
        Ok(Self {
            context,
            tokens: predictor.mix.weight().dim(0)?,
            dim,
            hidden,
            action_dim: predictor.action_dim,
            temporal: transposed(&predictor.temporal)?,
            action: predictor.action.as_ref().map(transposed).transpose()?,
            film: predictor.film.as_ref().map(transposed).transpose()?,
            mix: layer(&predictor.mix)?,
            hidden_layer: transposed(&predictor.hidden)?,
            out: transposed(&predictor.out)?,
        })
    }

    /// Context length C.
    pub fn context(&self) -> usize {
        self.context
    }

    /// [`Predictor::rollout`] of `samples` action sequences from one context: `context` holds
    /// `[C, N, D]`, `actions` `[S, C + K - 1, A]`, the result `[S, K, N, D]`, all row-major.
    pub fn rollout_shared(
        &self,
        context: &[f32],
        actions: &[f32],
        samples: usize,
        steps: usize,
    ) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        self.rollout_shared_into(context, actions, samples, steps, &mut out)?;
        Ok(out)
    }

    /// [`FrozenPredictor::rollout_shared`] into `out`'s memory: a planner asks thirty times per
    /// action for as many numbers, which fresh memory would have to be cleared for each time.
    pub fn rollout_shared_into(
        &self,
        context: &[f32],
        actions: &[f32],
        samples: usize,
        steps: usize,
        out: &mut Vec<f32>,
    ) -> Result<()> {
        self.check(context, actions, samples, steps)?;
        let (shared, last) = self.context_parts(context, steps);
        let grid = self.tokens * self.dim;
        // Every number is written below: memory already of this length is not cleared.
        out.resize(samples * steps * grid, 0.0);
        // Each block's part of the output, cut in order.
        let mut parts = Vec::new();
        let mut rest = out.as_mut_slice();
        for range in blocks(samples) {
            let (part, tail) = rest.split_at_mut(range.len() * steps * grid);
            parts.push((range, part));
            rest = tail;
        }
        parts.into_par_iter().for_each(|(range, out)| {
            let s = range.len();
            with_scratch(|scratch| {
                let preds = self.block(scratch, &shared, last, actions, range, steps);
                // [S, N, K, D] to [S, K, N, D].
                for (i, out) in out.chunks_mut(steps * grid).enumerate() {
                    for (row, out) in self
                        .scored(preds, i, steps, 0)
                        .rows()
                        .zip(out.chunks_mut(self.dim))
                    {
                        out.copy_from_slice(row);
                    }
                }
                debug_assert_eq!(preds.len(), s * steps * grid);
            });
        });
        Ok(())
    }

    /// The cost of each of `samples` action sequences: [`FrozenPredictor::rollout_shared`]'s
    /// predictions handed, a sample at a time, to `cost` as they come out of their block of
    /// samples, read where the rollout wrote them, instead of gathered into one `[S, K, N, D]`
    /// buffer and read again. `cost` gets the sample's last `scored` steps (`1 <= scored <=
    /// steps`) as a [`Scored`]. Why: a planner only wants the costs, and writing every
    /// prediction out and reading it back was 3-4% of planning's time at the CEM defaults.
    pub fn rollout_costs(
        &self,
        context: &[f32],
        actions: &[f32],
        samples: usize,
        steps: usize,
        scored: usize,
        cost: impl Fn(Scored<'_>) -> f32 + Sync,
    ) -> Result<Vec<f32>> {
        self.check(context, actions, samples, steps)?;
        if scored == 0 || scored > steps {
            return Err(AgentError::OutOfRange {
                what: "scored steps",
                value: scored.to_string(),
                expected: format!("1 to {steps} (the rollout's steps)"),
            });
        }
        let (shared, last) = self.context_parts(context, steps);
        let per_block: Vec<Vec<f32>> = blocks(samples)
            .into_par_iter()
            .map(|range| {
                let s = range.len();
                with_scratch(|scratch| {
                    let preds = self.block(scratch, &shared, last, actions, range, steps);
                    (0..s)
                        .map(|i| cost(self.scored(preds, i, steps, steps - scored)))
                        .collect()
                })
            })
            .collect();
        Ok(per_block.concat())
    }

    /// Sample `sample`'s steps `first..steps` of a block's predictions.
    fn scored<'a>(
        &self,
        block: &'a [f32],
        sample: usize,
        steps: usize,
        first: usize,
    ) -> Scored<'a> {
        Scored::new(block, sample, self.tokens, self.dim, steps, first)
    }

    /// Refuses context and action buffers of the wrong lengths, and rollouts of no steps.
    fn check(&self, context: &[f32], actions: &[f32], samples: usize, steps: usize) -> Result<()> {
        let (c, n, d, a) = (self.context, self.tokens, self.dim, self.action_dim);
        let per_sample = (c + steps.max(1) - 1) * a;
        if context.len() != c * n * d || actions.len() != samples * per_sample || steps == 0 {
            return Err(AgentError::OutOfRange {
                what: "frozen rollout",
                value: format!(
                    "{} context numbers, {} action numbers, {samples} samples, {steps} steps",
                    context.len(),
                    actions.len()
                ),
                expected: format!(
                    "{} context numbers ([{c}, {n}, {d}]), {samples} x {per_sample} action \
                     numbers and at least one step",
                    c * n * d
                ),
            });
        }
        Ok(())
    }

    /// What every block reads of the context: its part of the temporal layer at each of
    /// `steps` steps, and its last grid `[N, D]`.
    fn context_parts<'a>(
        &self,
        context: &'a [f32],
        steps: usize,
    ) -> (Vec<Option<Vec<f32>>>, &'a [f32]) {
        let grid = self.tokens * self.dim;
        let shared = (0..steps).map(|k| self.shared(context, k)).collect();
        (shared, &context[(self.context - 1) * grid..])
    }

    /// The context's part of the temporal layer at step `k`, bias included, `[N, H]`: its last
    /// `C - k` grids through their columns of W (none once the window holds only predictions).
    fn shared(&self, context: &[f32], k: usize) -> Option<Vec<f32>> {
        let (c, n, d, h) = (self.context, self.tokens, self.dim, self.hidden);
        let kept = c - k.min(c);
        if kept == 0 {
            return None;
        }
        let first = c - kept;
        let x = gather(n, d, (first..c).map(|j| &context[j * n * d..][..n * d]));
        let mut y = repeat(&self.temporal.1, n);
        gemm_serial(
            &mut y,
            View::rows(&x, n, kept * d),
            self.temporal_columns(0, kept),
            true,
        );
        debug_assert_eq!(y.len(), n * h);
        Some(y)
    }

    /// Columns `[first, first + grids)` (in grids of D) of the temporal weight, transposed:
    /// rows of the stored `[C D, H]`, `[grids D, H]`.
    fn temporal_columns(&self, first: usize, grids: usize) -> View<'_> {
        View::rows(
            &self.temporal.0[first * self.dim * self.hidden..][..grids * self.dim * self.hidden],
            grids * self.dim,
            self.hidden,
        )
    }

    /// The predictions of the samples in `range` (of all the samples' `actions`) at each of
    /// `steps` steps, `[S N, K, D]`: each token's row holds its steps side by side, so the
    /// window a step reads of them is one matrix with a row stride of K D, read in place (no
    /// copy gathered per step) in the order of the graph's `[S N, m D]`.
    fn block<'s>(
        &self,
        scratch: &'s mut Scratch,
        shared: &[Option<Vec<f32>>],
        last_context: &[f32],
        actions: &[f32],
        range: std::ops::Range<usize>,
        steps: usize,
    ) -> &'s [f32] {
        let (c, n, d, h, a) = (
            self.context,
            self.tokens,
            self.dim,
            self.hidden,
            self.action_dim,
        );
        let s = range.len();
        let rows = s * n;
        let per_sample = (c + steps - 1) * a;
        let actions = &actions[range.start * per_sample..][..s * per_sample];
        let Scratch {
            preds,
            pre,
            mixed,
            hid,
            next,
            mixing,
        } = scratch;
        // Every number of these is written before it is read: step k of every row at step k,
        // every activation at every step. Memory of the right length is kept as it is.
        preds.resize(rows * steps * d, 0.0);
        mixed.resize(rows * h, 0.0);
        mixing.resize(n * h, 0.0);
        for k in 0..steps {
            let m = k.min(c);
            // The temporal layer: the samples' own predictions through their columns of W,
            // plus the context's part.
            match (&shared[k], m) {
                // Read by the next pass straight from the shared part (not copied per sample).
                (Some(_), 0) => pre.resize(rows * h, 0.0),
                (shared, _) => {
                    match shared {
                        Some(_) => {
                            pre.clear();
                            pre.resize(rows * h, 0.0);
                        }
                        None => repeat_into(pre, &self.temporal.1, rows),
                    }
                    // The last m steps of each row: [S N, m D] with a row stride of K D.
                    let window = View {
                        data: &preds[(k - m) * d..],
                        rows,
                        cols: m * d,
                        rs: steps * d,
                        cs: 1,
                    };
                    gemm_serial(pre, window, self.temporal_columns(c - m, m), true);
                }
            }
            // The actions of the window, then GELU, on the shared part alone at the first step,
            // with the shared part added to the samples' own as it is read at the others.
            let mut base = match (&shared[k], m) {
                (Some(shared), 0) => Base::Shared(shared),
                (Some(shared), _) => Base::OwnPlus(shared),
                (None, _) => Base::Own,
            };
            match &self.action {
                Some((w, b)) => {
                    let mut x = Vec::with_capacity(s * c * a);
                    for i in 0..s {
                        x.extend_from_slice(&actions[i * per_sample + k * a..][..c * a]);
                    }
                    let act = dense(&x, s, (w, b));
                    // FiLM's gains first, `1 + film(a)` (the graph's `film(a) + 1.0`).
                    if let Some((fw, fb)) = &self.film {
                        let mut gain = dense(&x, s, (fw, fb));
                        gain.iter_mut().for_each(|g| *g += 1.0);
                        map_rows(pre, base, &gain, n, h, |p, g| p * g);
                        base = Base::Own;
                    }
                    map_rows(pre, base, &act, n, h, |p, b| gelu_forward(p + b));
                }
                None => map_rows(pre, base, &vec![0.0; s * h], n, h, |p, _| gelu_forward(p)),
            }
            // Token mixing: h + gelu(M h_b + b), sample by sample.
            let (mw, mb) = &self.mix;
            for (hs, out) in pre.chunks(n * h).zip(mixed.chunks_mut(n * h)) {
                for (row, &bias) in mixing.chunks_mut(h).zip(mb) {
                    row.fill(bias);
                }
                gemm_serial(mixing, View::rows(mw, n, n), View::rows(hs, n, h), true);
                vectorised(
                    #[inline(always)]
                    || {
                        for ((o, &p), &x) in out.iter_mut().zip(mixing.iter()).zip(hs) {
                            *o = x + gelu_forward(p);
                        }
                    },
                );
            }
            // The perceptron to the change of the latent, added to the last grid.
            let (w1, b1) = &self.hidden_layer;
            dense_into(hid, mixed, rows, (w1, b1));
            vectorised(
                #[inline(always)]
                || hid.iter_mut().for_each(|p| *p = gelu_forward(*p)),
            );
            let (w2, b2) = &self.out;
            dense_into(next, hid, rows, (w2, b2));
            // The last grid plus the change (IEEE addition commutes: the graph's `last + delta`):
            // the context's last grid for every sample at the first step, then each sample's
            // own; written into step k of each row.
            vectorised(
                #[inline(always)]
                || {
                    for (r, (row, delta)) in
                        preds.chunks_mut(steps * d).zip(next.chunks(d)).enumerate()
                    {
                        let (before, now) = row.split_at_mut(k * d);
                        let last = match k {
                            0 => &last_context[(r % n) * d..][..d],
                            _ => &before[(k - 1) * d..],
                        };
                        for ((x, &delta), &l) in now[..d].iter_mut().zip(delta).zip(last) {
                            *x = delta + l;
                        }
                    }
                },
            );
        }
        preds
    }
}

/// The memory one block's rollout works in, kept by each thread between calls (a planner asks
/// for rollouts of the same shapes thirty times per action, and fresh buffers were cleared at
/// every call: 1% of planning's time).
#[derive(Default)]
struct Scratch {
    /// The predictions `[S N, K, D]`.
    preds: Vec<f32>,
    /// The temporal layer's output `[S N, H]`.
    pre: Vec<f32>,
    /// After token mixing `[S N, H]`.
    mixed: Vec<f32>,
    /// The perceptron's hidden layer `[S N, H]`.
    hid: Vec<f32>,
    /// The change of the latent `[S N, D]`.
    next: Vec<f32>,
    /// One sample's token mixing before its GELU `[N, H]`.
    mixing: Vec<f32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// `f` with this thread's [`Scratch`] (a fresh one should the thread's be in use already).
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// Where [`map_rows`] reads the value it maps for each sample.
#[derive(Clone, Copy)]
enum Base<'a> {
    /// From the rows themselves.
    Own,
    /// From `[N, H]`, the same for every sample (the rows are only written).
    Shared(&'a [f32]),
    /// The rows' own plus `[N, H]` (the graph's `own + shared`).
    OwnPlus(&'a [f32]),
}

/// `pre [S, N, H] = f(v, q)` for each sample's row `q` of `per [S, H]`, with `v` read as `base`
/// says; in the vector unit.
#[inline(always)]
fn map_rows(
    pre: &mut [f32],
    base: Base,
    per: &[f32],
    n: usize,
    h: usize,
    f: impl Fn(f32, f32) -> f32,
) {
    vectorised(
        #[inline(always)]
        || {
            for (sample, per) in pre.chunks_mut(n * h).zip(per.chunks(h)) {
                match base {
                    Base::Own => {
                        for row in sample.chunks_mut(h) {
                            for (p, &q) in row.iter_mut().zip(per) {
                                *p = f(*p, q);
                            }
                        }
                    }
                    Base::Shared(base) => {
                        for (row, base) in sample.chunks_mut(h).zip(base.chunks(h)) {
                            for ((p, &v), &q) in row.iter_mut().zip(base).zip(per) {
                                *p = f(v, q);
                            }
                        }
                    }
                    Base::OwnPlus(base) => {
                        for (row, base) in sample.chunks_mut(h).zip(base.chunks(h)) {
                            for ((p, &v), &q) in row.iter_mut().zip(base).zip(per) {
                                *p = f(*p + v, q);
                            }
                        }
                    }
                }
            }
        },
    );
}

/// `x [rows, in] W^T + b` for `W^T [in, out]` (stored transposed), on this thread.
fn dense(x: &[f32], rows: usize, layer: (&[f32], &[f32])) -> Vec<f32> {
    let mut y = Vec::new();
    dense_into(&mut y, x, rows, layer);
    y
}

/// [`dense`] into `y`'s memory.
fn dense_into(y: &mut Vec<f32>, x: &[f32], rows: usize, (w, b): (&[f32], &[f32])) {
    let (out, inp) = (b.len(), w.len() / b.len().max(1));
    repeat_into(y, b, rows);
    gemm_serial(y, View::rows(x, rows, inp), View::rows(w, inp, out), true);
}

/// `rows` copies of `row`, one after another, on this thread (`ops::repeat_rows` writes in
/// parallel; here each block of samples already has its core).
fn repeat(row: &[f32], rows: usize) -> Vec<f32> {
    let mut out = Vec::new();
    repeat_into(&mut out, row, rows);
    out
}

/// [`repeat`] into `out`'s memory.
fn repeat_into(out: &mut Vec<f32>, row: &[f32], rows: usize) {
    out.clear();
    out.reserve(row.len() * rows);
    for _ in 0..rows {
        out.extend_from_slice(row);
    }
}

/// Each token's row of several grids `[N, D]`: `[N, grids D]`, grid after grid.
fn gather<'a>(n: usize, d: usize, grids: impl Iterator<Item = &'a [f32]> + Clone) -> Vec<f32> {
    let count = grids.clone().count();
    let mut x = Vec::with_capacity(n * count * d);
    for t in 0..n {
        for grid in grids.clone() {
            x.extend_from_slice(&grid[t * d..][..d]);
        }
    }
    x
}
#[cfg(test)]
mod tests;
