//! Surprise is computed deterministically: windows made of the same frames get the same bits.

use candle_core::Device;
use moravec_agents::data::Clips;
use moravec_agents::train::{TrainConfig, build};
use moravec_bench::controls::find_control;
use moravec_bench::surprise::Scorer;
use moravec_sim::voe::{Condition, Property, SetRequest, generate_set, set_seed};

fn quadruplet() -> (Clips, usize) {
    let request = SetRequest {
        property: Property::Permanence,
        condition: Condition::Occluded,
        seed: set_seed(0, Property::Permanence, Condition::Occluded, 0),
        index: 0,
        frames: 48,
        size: 32,
    };
    let set = generate_set(&request).unwrap();
    let clips = Clips {
        masks: set
            .members
            .iter()
            .flat_map(|m| m.episode.masks.iter().copied())
            .collect(),
        frames: set
            .members
            .iter()
            .flat_map(|m| m.episode.frames.iter().copied())
            .collect(),
        actions: Vec::new(),
        episodes: 4,
        length: 48,
        size: 32,
        action_dim: 0,
    };
    (clips, set.violation_frame)
}

#[test]
fn windows_before_the_splice_score_the_same_bits_in_a_and_c() {
    let (clips, splice) = quadruplet();
    let built = build(
        &TrainConfig::new("untrained", "tiny", 1),
        &clips,
        &Device::Cpu,
    )
    .unwrap();
    let scorer = Scorer::Model(&*built.model);
    let (c, k) = (built.config.context, built.config.horizon);
    assert!(
        splice > c + k,
        "the test needs windows before the splice ({splice})"
    );
    let a = scorer.curve(&clips, 0, 1, &Device::Cpu).unwrap();
    let again = scorer.curve(&clips, 0, 1, &Device::Cpu).unwrap();
    let cc = scorer.curve(&clips, 2, 1, &Device::Cpu).unwrap();
    let bits = |v: &[(usize, f64)]| v.iter().map(|x| x.1.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&again), "the same video twice");
    // Window s reads frames s .. s + C + K; C = A[..splice] + B[splice..].
    let before = splice - c - k + 1;
    assert_eq!(bits(&a[..before]), bits(&cc[..before]));
    assert_ne!(
        bits(&a[before..]),
        bits(&cc[before..]),
        "after the splice they differ"
    );
}

#[test]
fn controls_tie_exactly_on_a_quadruplet() {
    let (clips, _) = quadruplet();
    for name in ["frame-stats", "object-pixels"] {
        let scorer = Scorer::Control {
            spec: find_control(name).unwrap(),
            context: 8,
            horizon: 4,
        };
        let total = |e| -> f64 {
            scorer
                .curve(&clips, e, 1, &Device::Cpu)
                .unwrap()
                .iter()
                .map(|x| x.1)
                .sum()
        };
        let (a, b, c, d) = (total(0), total(1), total(2), total(3));
        assert_eq!((a + b).to_bits(), (c + d).to_bits(), "{name}");
        assert_ne!(a, c, "{name} sees the object vanish");
    }
}

/// A model with a state scores whole movies: one value per frame from the second, each from the
/// movie's start; frames before the splice score the same bits in A and C, every frame from
/// the splice on may differ, and the spliced-in difference shows.
#[test]
fn a_model_with_memory_scores_every_frame_from_the_start() {
    let (clips, splice) = quadruplet();
    let built = build(
        &TrainConfig::new("slot-jepa", "tiny", 1),
        &clips,
        &Device::Cpu,
    )
    .unwrap();
    let scorer = Scorer::Model(&*built.model);
    let a = scorer.curve(&clips, 0, 4, &Device::Cpu).unwrap();
    let cc = scorer.curve(&clips, 2, 4, &Device::Cpu).unwrap();
    let frames: Vec<usize> = a.iter().map(|x| x.0).collect();
    assert_eq!(
        frames,
        (1..48).collect::<Vec<_>>(),
        "one value per frame, stride ignored"
    );
    let bits = |v: &[(usize, f64)]| v.iter().map(|x| x.1.to_bits()).collect::<Vec<_>>();
    // Entry i scores frame i + 1 from frames 0..=i: the same in A and C before the splice.
    assert_eq!(bits(&a[..splice - 1]), bits(&cc[..splice - 1]));
    assert_ne!(bits(&a[splice - 1..]), bits(&cc[splice - 1..]));
}

/// At every nuisance level, the frame-level controls tie exactly on every headline quadruplet
/// (their totals over {C, D} are the bits of those over {A, B}): the nuisance is the same on
/// every member's frames, so the impossible movies are still made of what the possible ones
/// show, and no statistic of the frames alone can decide a set.
#[test]
fn frame_level_controls_tie_on_every_quadruplet_at_every_nuisance_level() {
    use moravec_bench::controls::CONTROLS;
    use moravec_sim::Nuisance;
    use moravec_sim::voe::{Suite, SuiteConfig, write_suite};
    let tmp = tempfile::tempdir().unwrap();
    for level in 0..=Nuisance::MAX {
        let config = SuiteConfig {
            seed: 7,
            sets: 1,
            frames: 48,
            size: 32,
            nuisance: Nuisance::new(level).unwrap(),
        };
        let dir = tmp.path().join(format!("suite-{level}"));
        write_suite(&config, &dir, false, &|| {}).unwrap();
        let suite = Suite::load(&dir).unwrap();
        let mut tied = 0;
        for p in &suite.meta.properties {
            let clips = Clips::load(&dir.join(&p.dir)).unwrap();
            let sets: Vec<_> = suite
                .rows
                .iter()
                .filter(|r| r.property == p.property && r.condition == Condition::Occluded)
                .collect();
            for first in sets.iter().filter(|r| r.member == 0) {
                let episode = |m: usize| {
                    sets.iter()
                        .find(|r| r.set_id == first.set_id && r.member == m)
                        .unwrap()
                        .episode
                };
                for control in CONTROLS {
                    let scorer = Scorer::Control {
                        spec: control,
                        context: 8,
                        horizon: 4,
                    };
                    let total = |m: usize| -> f64 {
                        scorer
                            .curve(&clips, episode(m), 1, &Device::Cpu)
                            .unwrap()
                            .iter()
                            .map(|x| x.1)
                            .sum()
                    };
                    let (a, b, c, d) = (total(0), total(1), total(2), total(3));
                    assert_eq!(
                        (a + b).to_bits(),
                        (c + d).to_bits(),
                        "level {level}, {} set {}: {} decides it",
                        p.property,
                        first.set_id,
                        control.name
                    );
                    tied += 1;
                }
            }
        }
        assert!(tied >= 9 * CONTROLS.len(), "level {level}: {tied} ties");
    }
}
