//! Helpers shared by the agents' integration tests.

use moravec_agents::data::Clips;
use moravec_sim::episode::generate_episode;
use moravec_sim::{EpisodeKey, Split, scene};

/// `episodes` episodes of `frames` frames of a scene at 32x32, in memory.
pub fn clips(scene_name: &str, split: Split, seed: u64, episodes: u64, frames: usize) -> Clips {
    let spec = scene::find(scene_name).unwrap();
    let mut c = Clips {
        frames: Vec::new(),
        masks: Vec::new(),
        actions: Vec::new(),
        episodes: episodes as usize,
        length: frames,
        size: 32,
        action_dim: spec.action_dim,
    };
    for index in 0..episodes {
        let key = EpisodeKey {
            seed,
            scene: spec.name,
            split,
            index,
        };
        let ep = generate_episode(spec, &key, frames, 32).unwrap();
        c.frames.extend_from_slice(&ep.frames);
        c.masks.extend_from_slice(&ep.masks);
        c.actions.extend_from_slice(&ep.actions);
    }
    c
}
