//! The V key: the scene's VoE variants. A set of the suite (a quadruplet: possible A and B,
//! impossible C and D, spliced as IntPhys's or, for the dynamics properties, each world showing
//! the other's motion; or a diagnostic pair) is built for the shown seed, and V steps through
//! its movies, then back to the live scene. P picks which of the scene's properties and
//! conditions the set tests.

use bevy::prelude::*;
use moravec_sim::SceneSpec;
use moravec_sim::voe::{
    Condition, DEFAULT_FRAMES, PROPERTIES, Property, SetRequest, VoeSet, generate_set, set_seed,
};

use crate::movie::Movie;
use crate::world_state::SimState;

/// Which variant is shown.
#[derive(Resource, Default)]
pub struct Variants {
    /// Index into the scene's tests ([`tests`]).
    pub test: usize,
    /// The movie of the set shown, `None` while the scene runs live.
    pub member: Option<usize>,
    /// The set, built on the first V and kept while scene, test and seed stay.
    set: Option<VoeSet>,
}

/// The (property, condition) pairs the suite tests in `spec`'s scene.
pub fn tests(spec: &SceneSpec) -> Vec<(Property, Condition)> {
    PROPERTIES
        .iter()
        .filter(|p| p.scene.name == spec.name)
        .flat_map(|p| p.conditions.iter().map(move |&c| (p.property, c)))
        .collect()
}

impl Variants {
    /// V: the next movie of the set (the first after the live scene; after the last, live).
    pub fn cycle(&mut self, sim: &mut SimState) {
        let next = match self.member {
            None => 0,
            Some(m) => m + 1,
        };
        self.show(sim, next);
    }

    /// P: the scene's next test; shows its first movie.
    pub fn next_test(&mut self, sim: &mut SimState) {
        self.test += 1;
        self.set = None;
        self.show(sim, 0);
    }

    /// The seed changed: the set is built again, and shown from its first movie if a variant
    /// was shown.
    pub fn refresh(&mut self, sim: &mut SimState) {
        self.set = None;
        if self.member.is_some() {
            self.show(sim, 0);
        }
    }

    /// Leaves the variants for the live scene.
    pub fn leave(&mut self) {
        self.member = None;
        self.set = None;
    }

    fn show(&mut self, sim: &mut SimState, member: usize) {
        let tests = tests(sim.spec());
        if tests.is_empty() {
            warn!("{} has no VoE variants", sim.spec().name);
            return;
        }
        let (property, condition) = tests[self.test % tests.len()];
        if self.set.is_none() {
            let request = SetRequest {
                property,
                condition,
                seed: set_seed(0, property, condition, sim.seed),
                index: sim.seed,
                frames: DEFAULT_FRAMES,
                size: sim.size,
            };
            match generate_set(&request) {
                Ok(set) => self.set = Some(set),
                Err(e) => {
                    error!("cannot build the {property} {condition} set: {e}");
                    return;
                }
            }
        }
        let set = self.set.as_ref().expect("built above");
        if member >= set.members.len() {
            self.member = None;
            sim.stop_movie();
        } else {
            self.member = Some(member);
            sim.play(Movie::from_set(set, member));
        }
    }
}
