//! The fast renderer (static cache, screen-space culling) gives the same bytes as the reference
//! that casts every ray through Rapier's query pipeline.

use moravec_sim::{Raster, SCENES, render_reference};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn fast_renderer_matches_the_query_pipeline_reference_on_every_scene() {
    for spec in SCENES {
        let rasters = [(16, 1), (64, 1), (100, 1), (16, 3), (32, 2)];
        for (size, samples) in rasters {
            let mut env = spec.make(Raster::new(size, samples).unwrap()).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            for seed in 0..3 {
                env.reset(seed);
                for t in 0..60 {
                    let a: Vec<f32> = (0..spec.action_dim)
                        .map(|_| rng.random_range(-1.5..1.5))
                        .collect();
                    let step = env.step(&a).unwrap();
                    if t % 15 == 0 {
                        let reference = render_reference(env.world(), env.camera());
                        let differing = step
                            .obs
                            .frame
                            .data
                            .chunks(3)
                            .zip(reference.data.chunks(3))
                            .filter(|(a, b)| a != b)
                            .count();
                        assert!(
                            step.obs.frame == reference,
                            "{} size {size} x {samples} rays seed {seed} frame {t}: {differing} \
                             pixels differ",
                            spec.name
                        );
                    }
                }
            }
        }
    }
}

/// Instance masks in every scene: the pixels a slot's mask marks are exactly those that change
/// when that slot's body is left out of the picture, and every other pixel (background, fixed
/// bodies) is 255. Each slot's body is found by its state, which the observation carries.
#[test]
fn every_scenes_masks_mark_exactly_the_pixels_each_slot_shows() {
    use moravec_sim::mask::NO_SLOT;
    use moravec_sim::{BodyKind, Renderer};
    for spec in SCENES {
        let mut env = spec.make(48).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut marked = vec![0usize; spec.slots.len()];
        for seed in 0..3 {
            let mut obs = env.reset(seed);
            for t in 0..40 {
                if t % 8 == 0 {
                    let world = env.world();
                    let mut renderer = Renderer::new(env.camera().clone());
                    let mut slotted = vec![false; obs.mask.len()];
                    for (k, state) in obs.states.iter().enumerate() {
                        let Some(state) = state else {
                            assert!(
                                !obs.mask.contains(&(k as u8)),
                                "{} empty slot {k}",
                                spec.name
                            );
                            continue;
                        };
                        let id = world
                            .body_ids()
                            .find(|&id| world.body_state(id) == *state)
                            .expect("a slot's state is one body's");
                        let without = renderer.render_hiding(world, &[id]);
                        let changed: Vec<bool> = obs
                            .frame
                            .data
                            .chunks(3)
                            .zip(without.data.chunks(3))
                            .map(|(a, b)| a != b)
                            .collect();
                        let mine: Vec<bool> = obs.mask.iter().map(|&m| m == k as u8).collect();
                        if world.kind(id) == BodyKind::Fixed {
                            assert!(!mine.contains(&true), "{} fixed slot {k}", spec.name);
                            continue;
                        }
                        assert_eq!(
                            mine, changed,
                            "{} seed {seed} frame {t} slot {k}: mask and hiding disagree",
                            spec.name
                        );
                        marked[k] += mine.iter().filter(|&&m| m).count();
                        slotted.iter_mut().zip(&mine).for_each(|(s, m)| *s |= m);
                    }
                    for (p, &m) in obs.mask.iter().enumerate() {
                        assert_eq!(m == NO_SLOT, !slotted[p], "{} pixel {p}", spec.name);
                    }
                    assert!(env.observation_space().contains(&obs));
                }
                let a: Vec<f32> = (0..spec.action_dim)
                    .map(|_| rng.random_range(-1.5..1.5))
                    .collect();
                obs = env.step(&a).unwrap().obs;
            }
        }
        assert!(
            marked.iter().all(|&n| n > 0),
            "{}: slots never seen in a mask: {marked:?}",
            spec.name
        );
    }
}
