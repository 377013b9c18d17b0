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
        ["prediction", "visibility", "variance", "covariance"]
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
