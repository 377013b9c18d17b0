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
