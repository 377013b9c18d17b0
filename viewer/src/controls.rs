//! The keyboard: arrows or WASD drive the pusher, space pauses, N single-steps, R resets,
//! [ and ] change the seed, Tab cycles the scenes, V cycles the scene's VoE variants and P the
//! property they test.

use bevy::prelude::*;

use crate::variants::Variants;
use crate::world_state::SimState;

/// The help line shown in the window's title and printed at start.
pub const HELP: &str = "arrows/WASD push | space pause | N step | R reset | [ ] seed | Tab scene | \
                        V VoE variant | P VoE property | mouse: left drag orbit, wheel zoom";

/// Applies the keys pressed this frame to the simulation.
pub fn keyboard(
    keys: Res<ButtonInput<KeyCode>>,
    mut sim: ResMut<SimState>,
    mut variants: ResMut<Variants>,
) {
    if keys.just_pressed(KeyCode::Space) {
        sim.paused = !sim.paused;
    }
    if keys.just_pressed(KeyCode::KeyN) {
        sim.paused = true;
        sim.step_once = true;
    }
    if keys.just_pressed(KeyCode::KeyR) {
        sim.reset();
    }
    for (key, delta) in [
        (KeyCode::BracketRight, 1u64),
        (KeyCode::BracketLeft, u64::MAX),
    ] {
        if keys.just_pressed(key) {
            let seed = sim.seed.wrapping_add(delta);
            sim.set_seed(seed);
            variants.refresh(&mut sim);
        }
    }
    if keys.just_pressed(KeyCode::Tab) {
        variants.leave();
        if let Err(e) = sim.next_scene() {
            error!("cannot switch scenes: {e}");
        }
    }
    if keys.just_pressed(KeyCode::KeyV) {
        variants.cycle(&mut sim);
    }
    if keys.just_pressed(KeyCode::KeyP) {
        variants.next_test(&mut sim);
    }
    let action = drive(&keys, sim.spec().max_action);
    for (a, v) in sim.action.iter_mut().zip(action) {
        *a = v;
    }
}

/// The pusher's planar velocity `[x, z]` from the held keys, at the scene's largest action:
/// right / D is +x, up / W is -z (away from the default cameras, which look along -z).
pub fn drive(keys: &ButtonInput<KeyCode>, max: f32) -> [f32; 2] {
    let held = |a: KeyCode, b: KeyCode| keys.pressed(a) || keys.pressed(b);
    let mut v = [0.0f32; 2];
    if held(KeyCode::ArrowRight, KeyCode::KeyD) {
        v[0] += max;
    }
    if held(KeyCode::ArrowLeft, KeyCode::KeyA) {
        v[0] -= max;
    }
    if held(KeyCode::ArrowUp, KeyCode::KeyW) {
        v[1] -= max;
    }
    if held(KeyCode::ArrowDown, KeyCode::KeyS) {
        v[1] += max;
    }
    v
}
