//! Nuisance levels change pixels and nothing else: datasets, the VoE suite and the planning
//! tasks have bit-identical states, actions, masks and verdicts at every level, their frames
//! differ, and a quadruplet's impossible movies are still made of its possible movies' frames.

use std::path::Path;

use moravec_sim::dataset::{GenerateConfig, read_meta, read_shard, write_dataset};
use moravec_sim::voe::{Suite, SuiteConfig, write_suite};
use moravec_sim::{Nuisance, SCENES, Split};

const LEVELS: [u8; 4] = [0, 1, 2, 3];

/// Every shard of a dataset, joined: (frames, masks, states as bits, actions as bits).
fn read_all(dir: &Path) -> (Vec<u8>, Vec<u8>, Vec<u32>, Vec<u32>) {
    let meta = read_meta(dir).unwrap();
    let (mut frames, mut masks, mut states, mut actions) = Default::default();
    for info in &meta.shards {
        let s = read_shard(dir, &meta, info).unwrap();
        Vec::extend_from_slice(&mut frames, &s.frames);
        Vec::extend_from_slice(&mut masks, &s.masks);
        Vec::extend(&mut states, s.states.iter().map(|v| v.to_bits()));
        Vec::extend(&mut actions, s.actions.iter().map(|v| v.to_bits()));
    }
    (frames, masks, states, actions)
}

#[test]
fn every_scene_keeps_its_physics_bit_for_bit_at_every_level_and_only_frames_change() {
    let tmp = tempfile::tempdir().unwrap();
    for spec in SCENES {
        let mut by_level = Vec::new();
        for level in LEVELS {
            let config = GenerateConfig {
                scene: spec.name.into(),
                split: Split::Train,
                episodes: 2,
                frames: 12,
                seed: 5,
                size: 32,
                samples: 1,
                shard_episodes: None,
                nuisance: Nuisance::new(level).unwrap(),
            };
            let dir = tmp.path().join(format!("{}-{level}", spec.name));
            let meta = write_dataset(&config, &dir, false, &|| {}).unwrap();
            assert_eq!(meta.nuisance.level(), level);
            by_level.push((meta.content_hash, read_all(&dir)));
        }
        let (hash0, (frames0, masks0, states0, actions0)) = &by_level[0];
        for (level, (hash, (frames, masks, states, actions))) in by_level.iter().enumerate() {
            assert_eq!(states, states0, "{} level {level}: states", spec.name);
            assert_eq!(actions, actions0, "{} level {level}: actions", spec.name);
            assert_eq!(masks, masks0, "{} level {level}: masks", spec.name);
            if level > 0 {
                assert_ne!(frames, frames0, "{} level {level}: frames", spec.name);
                assert_ne!(hash, hash0, "{} level {level}: content hash", spec.name);
            }
        }
        for a in 1..LEVELS.len() {
            for b in a + 1..LEVELS.len() {
                assert_ne!(by_level[a].1.0, by_level[b].1.0, "{} {a} vs {b}", spec.name);
            }
        }
    }
}

#[test]
fn a_level_written_twice_is_the_same_bits_and_level_zero_is_the_dataset_without_nuisance() {
    let tmp = tempfile::tempdir().unwrap();
    let config = GenerateConfig {
        scene: "occlusion".into(),
        split: Split::Train,
        episodes: 3,
        frames: 10,
        seed: 1,
        size: 32,
        samples: 1,
        shard_episodes: Some(2),
        nuisance: Nuisance::new(3).unwrap(),
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| write_dataset(&config, &tmp.path().join("a"), false, &|| {}).unwrap());
    let two = write_dataset(&config, &tmp.path().join("b"), false, &|| {}).unwrap();
    assert_eq!(one.content_hash, two.content_hash);
    // Level 0 leaves meta.json without the key: datasets made before nuisance read the same.
    let plain = GenerateConfig {
        nuisance: Nuisance::NONE,
        ..config
    };
    write_dataset(&plain, &tmp.path().join("c"), false, &|| {}).unwrap();
    let text = std::fs::read_to_string(tmp.path().join("c/meta.json")).unwrap();
    assert!(!text.contains("nuisance"), "{text}");
    let text = std::fs::read_to_string(tmp.path().join("a/meta.json")).unwrap();
    assert!(text.contains("\"nuisance\": 3"), "{text}");
}

/// Each movie of a suite, by (property, set id, member): its frames, masks and state bits.
type Movies = Vec<((String, u64, usize), Vec<u8>, Vec<u8>, Vec<u32>)>;

fn movies(dir: &Path) -> Movies {
    let suite = Suite::load(dir).unwrap();
    let mut out = Vec::new();
    for p in &suite.meta.properties {
        let pdir = dir.join(&p.dir);
        let meta = read_meta(&pdir).unwrap();
        let (frames, masks, states, _) = read_all(&pdir);
        let per = meta.frames * meta.size * meta.size;
        let per_states = states.len() / meta.episodes as usize;
        for r in suite.rows.iter().filter(|r| r.property == p.property) {
            let e = r.episode;
            out.push((
                (p.property.to_string(), r.set_id, r.member),
                frames[e * per * 3..(e + 1) * per * 3].to_vec(),
                masks[e * per..(e + 1) * per].to_vec(),
                states[e * per_states..(e + 1) * per_states].to_vec(),
            ));
        }
    }
    out
}

#[test]
fn the_suite_keeps_its_movies_physics_and_quadruplets_stay_made_of_their_possible_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let (frames, size) = (48, 32);
    let mut by_level = Vec::new();
    for level in [0, 3] {
        let config = SuiteConfig {
            seed: 4,
            sets: 1,
            frames,
            size,
            nuisance: Nuisance::new(level).unwrap(),
        };
        let dir = tmp.path().join(format!("suite-{level}"));
        let meta = write_suite(&config, &dir, false, &|| {}).unwrap();
        assert_eq!(meta.nuisance.level(), level);
        let suite = Suite::load(&dir).unwrap();
        by_level.push((movies(&dir), suite));
    }
    let (plain, _) = &by_level[0];
    let (noisy, suite) = &by_level[1];
    assert_eq!(plain.len(), noisy.len());
    for (a, b) in plain.iter().zip(noisy) {
        assert_eq!(a.0, b.0);
        assert_eq!(a.2, b.2, "{:?}: masks", a.0);
        assert_eq!(a.3, b.3, "{:?}: states", a.0);
        assert_ne!(a.1, b.1, "{:?}: frames", a.0);
    }
    // Every quadruplet, at both levels: pixel by pixel and frame by frame, {C, D} show what
    // {A, B} show (a spliced movie is made of its possible movies' frames, a matched one of
    // their pixels).
    let mut checked = 0;
    for movies in [plain, noisy] {
        for row in suite
            .rows
            .iter()
            .filter(|r| r.member == 0 && r.kind.members() == 4)
        {
            let member = |m: usize| {
                movies
                    .iter()
                    .find(|x| x.0 == (row.property.to_string(), row.set_id, m))
                    .map(|x| &x.1)
                    .unwrap()
            };
            let [a, b, c, d] = [0, 1, 2, 3].map(member);
            let px = |m: &Vec<u8>, i: usize| [m[i * 3], m[i * 3 + 1], m[i * 3 + 2]];
            let odd = (0..frames * size * size)
                .filter(|&i| {
                    let mut possible = [px(a, i), px(b, i)];
                    let mut impossible = [px(c, i), px(d, i)];
                    possible.sort();
                    impossible.sort();
                    possible != impossible
                })
                .count();
            assert_eq!(
                odd, 0,
                "{} set {}: {odd} pixels of C and D that A and B do not show",
                row.property, row.set_id
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked} quadruplets");
}

#[test]
fn planning_tasks_keep_their_episodes_and_verdicts_and_show_the_nuisance() {
    for task in moravec_sim::task::TASKS {
        let mut plain = task.episode(0, 1, 32).unwrap();
        let mut noisy = task
            .episode_at(0, 1, 32, Nuisance::new(2).unwrap())
            .unwrap();
        assert_ne!(plain.goal(), noisy.goal(), "{}: goal image", task.name);
        // Showing a frame twice shows it the same.
        assert_eq!(noisy.frame(), noisy.frame(), "{}", task.name);
        assert_ne!(plain.frame(), noisy.frame(), "{}", task.name);
        let action = vec![0.5; plain.action_dim()];
        for _ in 0..5 {
            let (a, b) = (plain.step(&action).unwrap(), noisy.step(&action).unwrap());
            assert_ne!(a, b, "{}: frames", task.name);
        }
        let (a, b) = (plain.judge(), noisy.judge());
        assert_eq!(a.success, b.success, "{}", task.name);
        assert_eq!(a.distance.to_bits(), b.distance.to_bits(), "{}", task.name);
        // The image oracle's futures are the frames stepping would show.
        let actions = vec![0.25; 3 * plain.action_dim()];
        let imagined = noisy.imagine_frames(&actions, 1).remove(0);
        let mut stepped = Vec::new();
        for a in actions.chunks(plain.action_dim()) {
            stepped.push(noisy.step(a).unwrap());
        }
        assert_eq!(imagined, stepped, "{}: imagined frames", task.name);
    }
}
