//! The object-slot model: it reads instance masks and nothing else privileged, its surprise runs
//! over the whole movie (a frame's surprise depends on frames far beyond any window), its numbers
//! are the same bits every time, and a few steps of training lower its loss.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use moravec_agents::data::{Batch, Clips};
use moravec_agents::models::{ModelConfig, WorldModel, init::init, slot_jepa::SlotJepa};
use moravec_agents::train::AdamW;
use moravec_sim::Split;

mod common;

fn model(clips: &Clips, seed: u64) -> (SlotJepa, VarMap) {
    let config = ModelConfig::preset("tiny", clips.size, clips.action_dim).unwrap();
    let varmap = VarMap::new();
    let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let m = SlotJepa::new(&config, vb).unwrap();
    init(&varmap, seed).unwrap();
    (m, varmap)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn surprise_runs_over_the_whole_movie_and_needs_masks() {
    let clips = common::clips("occlusion", Split::Val, 3, 1, 40);
    assert!(clips.has_masks());
    let (m, _) = model(&clips, 0);
    let spec = moravec_agents::models::find(m.name()).unwrap();
    assert_eq!(spec.privileged, Some("instance masks"));
    assert!(spec.trains);
    let batch = clips.windows(&[(0, 0)], 40, &Device::Cpu).unwrap();
    let s = m.movie_surprise(&batch).unwrap().unwrap();
    assert_eq!(s.len(), 39);
    assert!(s.iter().all(|v| v.is_finite() && *v >= 0.0), "{s:?}");
    assert_eq!(bits(&s), bits(&m.movie_surprise(&batch).unwrap().unwrap()));

    // Take the objects out of the first frame's mask only: the surprise of a frame past any
    // window of context + horizon frames changes (a windowed model's could not). Untrained, the
    // memory fades over some twenty frames; trained, it is what carries hidden objects.
    let masks = batch.masks.clone().unwrap();
    let first = Tensor::full(255u8, (1, 1, 32, 32), &Device::Cpu).unwrap();
    let edited = Tensor::cat(&[&first, &masks.narrow(1, 1, 39).unwrap()], 1).unwrap();
    let other = Batch {
        frames: batch.frames.clone(),
        actions: batch.actions.clone(),
        masks: Some(edited),
    };
    let t = m.movie_surprise(&other).unwrap().unwrap();
    let far = m.config().window() + 2;
    assert_ne!(
        s[far].to_bits(),
        t[far].to_bits(),
        "frame {} forgot frame 0",
        far + 1
    );
    assert_eq!(bits(&t), bits(&m.movie_surprise(&other).unwrap().unwrap()));

    // Without masks the model says what it needs.
    let bare = Batch {
        masks: None,
        ..other
    };
    let err = m.movie_surprise(&bare).unwrap_err().to_string();
    assert!(err.contains("instance masks"), "{err}");
    assert!(m.encode(&bare.frames).is_err());
}

#[test]
fn a_few_steps_of_training_lower_the_loss() {
    let clips = common::clips("occlusion", Split::Train, 1, 8, 40);
    let (m, varmap) = model(&clips, 1);
    let mut opt = AdamW::from_varmap(&varmap, 0.01).unwrap();
    let batch = clips
        .windows(
            &[(0, 0), (1, 4), (2, 8), (3, 0)],
            m.train_window(),
            &Device::Cpu,
        )
        .unwrap();
    let first = m.loss(&batch).unwrap();
    let names: Vec<&str> = first.terms.iter().map(|t| t.0).collect();
    assert_eq!(
        names,
        [
            "prediction",
            "geometry",
            "visibility",
            "variance",
            "covariance"
        ]
    );
    let start: f32 = first.total.to_scalar().unwrap();
    let mut last = start;
    for _ in 0..30 {
        let losses = m.loss(&batch).unwrap();
        last = losses.total.to_scalar().unwrap();
        opt.update(&losses.total.backward().unwrap(), 3e-3).unwrap();
    }
    assert!(last.is_finite() && last < 0.7 * start, "{start} -> {last}");
}

/// A constructed movie: slot 0 is a block in the top-left quarter for `before` frames, then
/// hidden for `hidden` frames (no pixel of it), then shows again `shift` pixels to the right of
/// where it was; the frames are grey except the block's pixels, coloured `colour` while it
/// first shows and red after.
fn occluded_movie(before: usize, hidden: usize, colour: [f32; 3], shift: usize) -> Batch {
    let (t, s) = (before + hidden + 6, 32);
    let mut frames = vec![0.5f32; t * 3 * s * s];
    let mut masks = vec![255u8; t * s * s];
    for f in (0..before).chain(before + hidden..t) {
        let c = if f < before { colour } else { [0.9, 0.1, 0.1] };
        let dx = if f < before { 0 } else { shift };
        for y in 4..12 {
            for x in 4 + dx..12 + dx {
                masks[(f * s + y) * s + x] = 0;
                for (ch, v) in c.iter().enumerate() {
                    frames[((f * 3 + ch) * s + y) * s + x] = *v;
                }
            }
        }
    }
    Batch {
        frames: Tensor::from_vec(frames, (1, t, 3, s, s), &Device::Cpu).unwrap(),
        actions: Tensor::zeros((1, t, 2), DType::F32, &Device::Cpu).unwrap(),
        masks: Some(Tensor::from_vec(masks, (1, t, s, s), &Device::Cpu).unwrap()),
    }
}

/// The slot's memory survives an occlusion longer than any window: two movies that differ only
/// in what the object looked like before it was hidden get different surprises when it shows
/// again, and the same ones while it is hidden only up to what the memory carries. A windowed
/// model sees no frame from before the occlusion in any window that holds the reappearance.
#[test]
fn the_slot_state_survives_an_occlusion_longer_than_any_window() {
    let clips = common::clips("cart_platform", Split::Val, 0, 1, 8);
    let (m, _) = model(&clips, 2);
    let window = m.config().window();
    let (before, hidden) = (4, window + 4);
    let red = m
        .movie_surprise(&occluded_movie(before, hidden, [0.9, 0.1, 0.1], 0))
        .unwrap()
        .unwrap();
    let blue = m
        .movie_surprise(&occluded_movie(before, hidden, [0.1, 0.1, 0.9], 0))
        .unwrap()
        .unwrap();
    // Entry f - 1 scores frame f; the object shows again at frame `before + hidden`.
    let back = before + hidden - 1;
    assert!(
        back >= window + before,
        "the gap must be longer than a window"
    );
    assert_ne!(red[back].to_bits(), blue[back].to_bits());
    // Shown again in the colour it had, the object surprises less than in another colour.
    assert!(
        red[back] < blue[back],
        "red {} blue {}",
        red[back],
        blue[back]
    );
}

/// Training gives the same bits on one thread and on two.
#[test]
fn training_is_the_same_bits_on_one_and_two_threads() {
    use moravec_agents::train::{TrainConfig, train};
    let clips = common::clips("occlusion", Split::Train, 4, 4, 24);
    let run = |threads: usize| {
        let tmp = tempfile::tempdir().unwrap();
        let config = TrainConfig {
            batch: 2,
            checkpoint_every: 3,
            ..TrainConfig::new("slot-jepa", "tiny", 3)
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| train(&config, &clips, tmp.path(), &Device::Cpu, &|_| true).unwrap());
        std::fs::read(tmp.path().join("checkpoint.safetensors")).unwrap()
    };
    assert!(run(1) == run(2), "the thread count changed the weights");
}

/// A dataset without masks given to the model to train on is refused, naming the masks.
#[test]
fn training_without_masks_says_what_is_missing() {
    use moravec_agents::train::{TrainConfig, train};
    let mut clips = common::clips("occlusion", Split::Train, 4, 2, 16);
    clips.masks.clear();
    let tmp = tempfile::tempdir().unwrap();
    let err = train(
        &TrainConfig::new("slot-jepa", "tiny", 1),
        &clips,
        tmp.path(),
        &Device::Cpu,
        &|_| true,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("instance masks"), "{err}");
}

/// Where a slot shows is part of what the model predicts: the slot vector ends with the mask's
/// geometry, and an object that comes back from hiding half an image away from where it went
/// surprises an untrained model (which predicts that nothing changed) by at least the
/// geometry's share, 10 x the centroid's move of 1 image unit over 5 entries, beyond one that
/// comes back where it was.
#[test]
fn where_a_slot_shows_is_predicted_and_surprises() {
    use moravec_agents::models::slot_jepa::GEOMETRY_SCALE;
    use moravec_agents::models::slots::{GEOMETRY, slot_inputs};
    let clips = common::clips("cart_platform", Split::Val, 0, 1, 8);
    let (m, _) = model(&clips, 2);
    let (before, hidden) = (4, 6);
    let movie = occluded_movie(before, hidden, [0.9, 0.1, 0.1], 0);
    let z = m.encode_batch(&movie).unwrap();
    let d = m.config().dim;
    assert_eq!(z.dims4().unwrap().3, d + GEOMETRY);
    let masks = movie.masks.as_ref().unwrap();
    let geometry = (slot_inputs(masks, m.config().patch, &Device::Cpu)
        .unwrap()
        .geometry
        * GEOMETRY_SCALE)
        .unwrap();
    let tail = z.narrow(3, d, GEOMETRY).unwrap();
    let flat = |t: &Tensor| bits(&t.flatten_all().unwrap().to_vec1::<f32>().unwrap());
    assert_eq!(flat(&tail), flat(&geometry));

    let same = m.movie_surprise(&movie).unwrap().unwrap();
    let moved = m
        .movie_surprise(&occluded_movie(before, hidden, [0.9, 0.1, 0.1], 16))
        .unwrap()
        .unwrap();
    let back = before + hidden - 1;
    // Before the object comes back, the two movies are the same.
    assert_eq!(bits(&same[..back]), bits(&moved[..back]));
    let geometry_share = GEOMETRY_SCALE as f32 * 1.0 / GEOMETRY as f32;
    assert!(
        moved[back] - same[back] >= geometry_share - 1e-3,
        "same place {} moved {}",
        same[back],
        moved[back]
    );
}

/// The memory the state probe reads: one row per frame, each from that frame and the ones
/// before it alone; a windowed model has none.
#[test]
fn the_memory_after_each_frame_depends_on_that_frame_and_earlier_ones_only() {
    use moravec_agents::models::slots::{GEOMETRY, MAX_SLOTS};
    let clips = common::clips("occlusion", Split::Val, 3, 1, 12);
    let (m, _) = model(&clips, 0);
    assert!(m.has_memory());
    let batch = clips.windows(&[(0, 0)], 12, &Device::Cpu).unwrap();
    let states = m.movie_states(&batch).unwrap().unwrap();
    let (b, l, w) = states.dims3().unwrap();
    let c = m.config();
    assert_eq!((b, l), (1, 12));
    assert_eq!(w, MAX_SLOTS * (c.hidden / 2 + c.dim + GEOMETRY));
    // Blank frame 6 on: rows 0 to 5 keep their bits, row 6 changes.
    let frames = batch.frames.narrow(1, 0, 6).unwrap();
    let blank = batch.frames.narrow(1, 6, 6).unwrap().zeros_like().unwrap();
    let masks = batch.masks.as_ref().unwrap();
    let empty = Tensor::full(255u8, (1, 6, 32, 32), &Device::Cpu).unwrap();
    let edited = Batch {
        frames: Tensor::cat(&[&frames, &blank], 1).unwrap(),
        actions: batch.actions.clone(),
        masks: Some(Tensor::cat(&[&masks.narrow(1, 0, 6).unwrap(), &empty], 1).unwrap()),
    };
    let other = m.movie_states(&edited).unwrap().unwrap();
    let row = |t: &Tensor, i: usize| {
        bits(
            &t.narrow(1, i, 1)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap(),
        )
    };
    for i in 0..6 {
        assert_eq!(row(&states, i), row(&other, i), "row {i}");
    }
    assert_ne!(row(&states, 6), row(&other, 6));

    let windowed = moravec_agents::models::find("jepa-vicreg").unwrap();
    let varmap = VarMap::new();
    let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let w = (windowed.build)(c, vb).unwrap();
    assert!(!w.has_memory());
    assert!(w.movie_states(&batch).unwrap().is_none());
}
