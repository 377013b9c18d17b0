//! The keyboard: arrows or WASD drive the pusher, space pauses, N single-steps, R resets,
//! [ and ] change the seed, Tab cycles the scenes.

use bevy::prelude::*;

use crate::sim::SimState;

/// The help line shown in the window's title and printed at start.
pub const HELP: &str = "arrows/WASD push | space pause | N step | R reset | [ ] seed | Tab scene | \
                        mouse: left drag orbit, wheel zoom";

/// Applies the keys pressed this frame to the simulation.
pub fn keyboard(keys: Res<ButtonInput<KeyCode>>, mut sim: ResMut<SimState>) {
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
    if keys.just_pressed(KeyCode::BracketRight) {
        let seed = sim.seed.wrapping_add(1);
        sim.set_seed(seed);
    }
    if keys.just_pressed(KeyCode::BracketLeft) {
        let seed = sim.seed.wrapping_sub(1);
        sim.set_seed(seed);
    }
    if keys.just_pressed(KeyCode::Tab)
        && let Err(e) = sim.next_scene()
    {
        error!("cannot switch scenes: {e}");
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
