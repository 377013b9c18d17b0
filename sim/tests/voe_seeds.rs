//! Every seed builds: no suite seed may make a cell of the suite fail at the shortest movies any
//! preset uses. The full sweep (500 seeds of every property and condition at 32x32 and 64x64)
//! takes minutes and runs on request:
//! `cargo test --release -p moravec-sim --test voe_seeds -- --ignored`;
//! a few seeds of it run with every test run.

use moravec_sim::voe::{PROPERTIES, SetRequest, generate_set, set_seed};
use rayon::prelude::*;

/// The shortest VoE movies of any preset (the harness's tests check that none is shorter).
const SHORTEST_FRAMES: usize = 48;

/// Builds set `seed` (index `seed`, so that short and long occlusions alternate) of every
/// property and condition for each seed, and names every one that fails.
fn build_all(seeds: std::ops::Range<u64>, size: usize) {
    let requests: Vec<SetRequest> = PROPERTIES
        .iter()
        .flat_map(|spec| {
            let seeds = seeds.clone();
            spec.conditions.iter().flat_map(move |&condition| {
                seeds.clone().map(move |seed| SetRequest {
                    property: spec.property,
                    condition,
                    seed: set_seed(seed, spec.property, condition, seed),
                    index: seed,
                    frames: SHORTEST_FRAMES,
                    size,
                })
            })
        })
        .collect();
    let failed: Vec<String> = requests
        .par_iter()
        .filter_map(|r| generate_set(r).err().map(|e| e.to_string()))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} sets failed at {size}x{size}: {failed:#?}",
        failed.len(),
        requests.len()
    );
}

#[test]
fn a_few_seeds_build_at_the_shortest_movies() {
    build_all(0..4, 32);
}

#[test]
#[ignore = "minutes: run with --ignored (see the module's doc)"]
fn five_hundred_seeds_build_at_32_pixels() {
    build_all(0..500, 32);
}

#[test]
#[ignore = "minutes: run with --ignored (see the module's doc)"]
fn five_hundred_seeds_build_at_64_pixels() {
    build_all(0..500, 64);
}
