//! Rendering cost per 64x64 frame: the fast renderer (static cache + screen-space culling)
//! against the reference that casts every ray through Rapier's query pipeline, and a whole
//! episode step (physics + render). Run with `cargo bench -p moravec-sim --bench render`.

#![allow(missing_docs)]

use moravec_sim::{Environment, Renderer, SCENES, render_reference};

fn main() {
    divan::main();
}

/// An environment of `scene` after 20 frames of a steady push.
fn warmed(scene: &str) -> Box<dyn Environment> {
    let spec = moravec_sim::scene::find(scene).unwrap();
    let mut env = spec.make(64).unwrap();
    env.reset(1);
    let push = vec![0.8; spec.action_dim];
    for _ in 0..20 {
        env.step(&push).unwrap();
    }
    env
}

const NAMES: [&str; 4] = ["cart_platform", "occlusion", "table_clearing", "collision"];

#[divan::bench(args = NAMES)]
fn fast_frame(bencher: divan::Bencher, scene: &str) {
    let env = warmed(scene);
    let mut renderer = Renderer::new(env.camera().clone());
    renderer.render(env.world());
    bencher.bench_local(|| renderer.render(divan::black_box(env.world())));
}

#[divan::bench(args = NAMES)]
fn reference_frame(bencher: divan::Bencher, scene: &str) {
    let env = warmed(scene);
    bencher.bench_local(|| render_reference(divan::black_box(env.world()), env.camera()));
}

#[divan::bench(args = NAMES)]
fn env_step(bencher: divan::Bencher, scene: &str) {
    let mut env = warmed(scene);
    let push = vec![0.3; SCENES.iter().find(|s| s.name == scene).unwrap().action_dim];
    bencher.bench_local(|| env.step(divan::black_box(&push)).unwrap());
}
