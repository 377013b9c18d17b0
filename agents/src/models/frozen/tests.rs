//! The frozen predictor's tests: the same bits as the model's own rollout, for every shape.

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};

use super::*;
use crate::models::init::init;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A predictor with trained-looking (not zero) weights, its context `[1, C, N, D]` and the
/// actions `[S, C + K - 1, A]` of `samples` sequences.
fn case(
    (c, n, d, h, a): (usize, usize, usize, usize, usize),
    film: bool,
    samples: usize,
    steps: usize,
) -> (Predictor, VarMap, Tensor, Tensor) {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let predictor = Predictor::new(c, n, d, h, a, film, vb).unwrap();
    init(&varmap, 7).unwrap();
    let dev = Device::Cpu;
    // Biases that are not zero, as after training (the initialisation's are), and FiLM
    // gains that are not all 1.
    for (name, var) in varmap.data().lock().unwrap().iter() {
        if var.rank() == 1 || name.contains("film") {
            var.set(&Tensor::randn(0f32, 0.3, var.shape(), &dev).unwrap())
                .unwrap();
        }
    }
    let context = Tensor::randn(0f32, 1.0, (1, c, n, d), &dev).unwrap();
    let actions = Tensor::randn(0f32, 1.0, (samples, c + steps - 1, a), &dev).unwrap();
    (predictor, varmap, context, actions)
}

fn numbers(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

/// `f` run in a pool of `threads` threads.
fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// The frozen rollout in pools of 1 and 3 threads against candle's: bit for bit when
/// `exact`, else within float rounding (and then the same bits for either pool).
fn against_candle(
    dims: (usize, usize, usize, usize, usize),
    samples: usize,
    steps: usize,
    exact: bool,
) {
    for film in [false, true] {
        against_candle_with(dims, film, samples, steps, exact);
    }
}

fn against_candle_with(
    dims: (usize, usize, usize, usize, usize),
    film: bool,
    samples: usize,
    steps: usize,
    exact: bool,
) {
    let (predictor, _varmap, context, actions) = case(dims, film, samples, steps);
    assert_eq!(predictor.film.is_some(), film && dims.4 > 0);
    let ours = numbers(&predictor.rollout(&context, &actions, steps).unwrap());
    let frozen = predictor.freeze().unwrap();
    let mut runs = Vec::new();
    for threads in [1, 3] {
        let fast = on_threads(threads, || {
            frozen.rollout_shared(&numbers(&context), &numbers(&actions), samples, steps)
        })
        .unwrap();
        assert_eq!(fast.len(), ours.len());
        let differ = fast
            .iter()
            .zip(&ours)
            .filter(|(a, b)| a.to_bits() != b.to_bits())
            .count();
        let worst = fast
            .iter()
            .zip(&ours)
            .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
            .fold(0f32, f32::max);
        let what = format!(
            "dims {dims:?}, film {film}, {samples} samples, {steps} steps, {threads} threads"
        );
        if exact {
            assert_eq!(
                differ, 0,
                "{what}: {differ} numbers differ (by up to {worst})"
            );
        } else {
            assert!(worst < 1e-5, "{what}: differences up to {worst}");
        }
        runs.push(bits(&fast));
    }
    assert_eq!(runs[0], runs[1], "the thread count changed bits");
}

#[test]
fn the_frozen_rollout_is_the_candle_rollout_to_the_bit() {
    // The small preset's widths (16 tokens of 64, hidden 256, context 8), steps past the
    // context, blocks of different lengths (37 = 18 + 19).
    against_candle((8, 16, 64, 256, 2), 37, 10, true);
    // The planners' sample counts at the CEM default and at a tenth of its budget.
    against_candle((8, 16, 64, 256, 2), 300, 5, true);
    against_candle((8, 16, 64, 256, 2), 30, 5, true);
    // Grids of 16 tokens or a multiple (every image size of the presets) keep the matrix
    // kernel's rows in whole vectors; with 4 tokens the short block's rows do not, and the
    // kernel's rounding may differ in the last place. Also a model without actions.
    against_candle((3, 4, 8, 32, 2), 37, 5, false);
    against_candle((3, 4, 8, 32, 0), 37, 5, false);
}

/// Blocks of at most 32 samples, an even number of them (two cores finish together),
/// differing by at most one sample, covering every sample once in order.
#[test]
fn samples_split_into_an_even_number_of_near_equal_blocks() {
    assert_eq!(
        blocks(300),
        (0..10).map(|i| i * 30..(i + 1) * 30).collect::<Vec<_>>()
    );
    assert_eq!(blocks(30), vec![0..15, 15..30]);
    assert_eq!(blocks(1), vec![0..1]);
    for samples in 2..3000 {
        let b = blocks(samples);
        let lengths: Vec<usize> = b.iter().map(|r| r.len()).collect();
        let (lo, hi) = (lengths.iter().min().unwrap(), lengths.iter().max().unwrap());
        assert!(
            *hi <= MAX_SAMPLES_PER_BLOCK && hi - lo <= 1,
            "{samples}: {lengths:?}"
        );
        assert!(b.len().is_multiple_of(2), "{samples}: {lengths:?}");
        assert!(b.windows(2).all(|w| w[0].end == w[1].start), "{samples}");
        assert_eq!((b[0].start, b[b.len() - 1].end), (0, samples));
    }
}

/// What `rollout_costs` hands its cost function: each sample's last `scored` steps of the
/// rollout, in sample order, whatever the thread count.
#[test]
fn costs_see_each_samples_last_steps_of_the_rollout() {
    // A cost that depends on every bit of what it is handed, and on its length.
    fn checksum(rows: &[f32]) -> f32 {
        let h = rows.iter().fold(rows.len() as u32, |h, x| {
            h.rotate_left(5) ^ x.to_bits().wrapping_mul(0x9e37_79b9)
        });
        f32::from_bits(h & 0x3f7f_ffff)
    }
    let (samples, steps) = (37, 4);
    let (predictor, _varmap, context, actions) = case((8, 16, 64, 256, 2), false, samples, steps);
    let frozen = predictor.freeze().unwrap();
    let (context, actions) = (numbers(&context), numbers(&actions));
    let all = frozen
        .rollout_shared(&context, &actions, samples, steps)
        .unwrap();
    let grid = 16 * 64;
    for scored in [1, 3, steps] {
        let expected: Vec<f32> = all
            .chunks(steps * grid)
            .map(|sample| checksum(&sample[(steps - scored) * grid..]))
            .collect();
        for threads in [1, 3] {
            let costs = on_threads(threads, || {
                frozen.rollout_costs(&context, &actions, samples, steps, scored, |r| {
                    checksum(&r.rows().flatten().copied().collect::<Vec<_>>())
                })
            })
            .unwrap();
            assert_eq!(
                bits(&costs),
                bits(&expected),
                "{scored} scored, {threads} threads"
            );
        }
    }
    for scored in [0, steps + 1] {
        let err = frozen
            .rollout_costs(&context, &actions, samples, steps, scored, |_| 0.0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("scored steps"), "{err}");
    }
}

/// A thread's kept working memory changes nothing: rollouts of different shapes, large
/// then small then large again, on one thread give the bits of each on fresh threads.
#[test]
fn a_threads_kept_memory_leaves_no_trace_across_shapes() {
    let shapes = [((8, 16, 64, 256, 2), 37, 6), ((3, 4, 8, 32, 2), 5, 2)];
    let runs: Vec<_> = shapes
        .iter()
        .map(|&(dims, samples, steps)| {
            let (predictor, _varmap, context, actions) = case(dims, true, samples, steps);
            let frozen = predictor.freeze().unwrap();
            (frozen, numbers(&context), numbers(&actions), samples, steps)
        })
        .collect();
    let rollout = |i: usize| {
        let (frozen, context, actions, samples, steps) = &runs[i];
        bits(
            &frozen
                .rollout_shared(context, actions, *samples, *steps)
                .unwrap(),
        )
    };
    let fresh: Vec<_> = (0..2).map(|i| on_threads(1, || rollout(i))).collect();
    let reused = on_threads(1, || [0, 1, 0, 1].map(rollout));
    for (k, got) in reused.iter().enumerate() {
        assert_eq!(got, &fresh[k % 2], "call {k}");
    }
}

#[test]
fn bad_lengths_are_refused_with_the_expected_sizes() {
    let (predictor, _varmap, context, actions) = case((3, 4, 8, 32, 2), false, 4, 2);
    let frozen = predictor.freeze().unwrap();
    let err = frozen
        .rollout_shared(&numbers(&context), &numbers(&actions), 5, 2)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("frozen rollout") && err.contains("5 x 8"),
        "{err}"
    );
    assert!(
        frozen
            .rollout_shared(&numbers(&context), &numbers(&actions), 4, 0)
            .is_err()
    );
}
