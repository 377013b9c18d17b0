//! The exploration policy produces the events the benchmark needs: carts pushed off the platform
//! and objects pushed off the table.

use moravec_sim::episode::generate_episode;
use moravec_sim::{EpisodeKey, Split, scene};

/// Share of episodes whose body in `slot` ends below `height`.
fn share_fallen(scene_name: &str, slot: usize, height: f32, episodes: u64, frames: usize) -> f64 {
    let spec = scene::find(scene_name).unwrap();
    let b = spec.slots.len();
    let fallen = (0..episodes)
        .filter(|&index| {
            let key = EpisodeKey {
                seed: 0,
                scene: spec.name,
                split: Split::Train,
                index,
            };
            let ep = generate_episode(spec, &key, frames, 16).unwrap();
            let last = &ep.states[(frames - 1) * b * 13..];
            (0..b)
                .filter(|&s| slot == usize::MAX || s == slot)
                .any(|s| ep.body_mask[s] == 1 && s != b - 1 && last[s * 13 + 1] < height)
        })
        .count();
    fallen as f64 / episodes as f64
}

#[test]
fn carts_do_fall_off_the_platform() {
    // The platform is at least 0.7 m high; a cart on the floor has its centre below 0.3 m.
    let share = share_fallen("cart_platform", 0, 0.3, 24, 150);
    assert!(share >= 0.25, "only {share} of carts fell in 5 s");
    assert!(
        share < 1.0,
        "every cart fell: no episode shows a cart staying put"
    );
}

#[test]
fn objects_do_fall_off_the_table() {
    // The table top is at 0.75 m; anything below 0.5 m has left it.
    let share = share_fallen("table_clearing", usize::MAX, 0.5, 16, 150);
    assert!(
        share >= 0.25,
        "only {share} of episodes pushed an object off the table"
    );
}
