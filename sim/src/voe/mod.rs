//! The violation-of-expectation suite: matched sets of possible and impossible movies, one
//! physical property at a time.
//!
//! Every headline set is a [quadruplet](Kind::Quadruplet) of two possible movies A and B and
//! two impossible ones C and D, built so that {C, D} shows exactly what {A, B} shows and only
//! which goes with which tells them apart:
//!
//! - permanence, shape and colour constancy, continuity (IntPhys's): C = A[..t] + B[t..] and
//!   D = B[..t] + A[t..], so {C, D} holds exactly the frames of {A, B};
//! - gravity, support, solidity, inertia, collision ([`matched`]): A and B come from two worlds
//!   that differ in one physical cause (a bridge, a ledge, a doorway, a deflector, a striker's
//!   lane); C is A's world with the moving body following B's trajectory and D is B's world
//!   following A's, so each trajectory appears once where it is possible and once where not.
//!
//! The earlier dynamics [pairs](Kind::Pair) (one possible movie and one identical up to a
//! violation made in the simulation) stay as a diagnostic condition, [`Condition::Pair`]: frame
//! statistics decide them in either direction, so they are outside the headline.

mod matched;
mod pair;
mod quadruplet;
mod record;
mod sliced;
mod suite;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use sliced::{merge_suite, slices_dir, write_suite_slice};
pub use suite::{
    DEFAULT_FRAMES, DEFAULT_SETS, MIN_FRAMES, SETS_HEADER, SetRow, Suite, SuiteConfig, SuiteMeta,
    SuiteProperty, set_seed, upgrade_suite, write_suite,
};

use crate::episode::Episode;
use crate::error::{Result, SimError};
use crate::scene::SceneSpec;

/// A physical property the suite tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// An object does not vanish behind a screen, nor appear from nowhere.
    Permanence,
    /// An object keeps its shape while hidden.
    ShapeConstancy,
    /// An object keeps its colour while hidden.
    ColorConstancy,
    /// An object crosses the space between two screens instead of jumping it.
    Continuity,
    /// An unsupported object falls.
    Gravity,
    /// A supported object does not fall.
    Support,
    /// Objects do not pass through walls or each other.
    Solidity,
    /// An object keeps its velocity unless something acts on it.
    Inertia,
    /// A struck object reacts to the hit.
    Collision,
}

/// Where the violation happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// While the object is hidden: the splice frame is the same picture in A and B.
    Occluded,
    /// In plain view.
    Visible,
    /// A diagnostic pair: one possible movie and one identical up to a violation made in the
    /// simulation (not matched: frame statistics can decide it).
    Pair,
}

impl Condition {
    /// Whether its cells are the headline: the occluded sets are matched so that no frame
    /// statistic can decide them; the visible IntPhys sets test a discontinuity in view (a
    /// frame-difference detector passes them), and the pairs are not matched.
    pub fn is_headline(self) -> bool {
        self == Condition::Occluded
    }

    /// How sets of this condition are built.
    pub fn kind(self) -> Kind {
        match self {
            Condition::Pair => Kind::Pair,
            Condition::Occluded | Condition::Visible => Kind::Quadruplet,
        }
    }
}

/// How a set is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Two possible and two impossible movies made of the same frames.
    Quadruplet,
    /// One possible and one impossible movie, identical up to the violation frame.
    Pair,
}

/// A property's entry in the suite: its scene, conditions and builder.
pub struct PropertySpec {
    /// The property.
    pub property: Property,
    /// The scene its movies come from.
    pub scene: &'static SceneSpec,
    /// The conditions it has sets for.
    pub conditions: &'static [Condition],
    /// What a violation looks like.
    pub description: &'static str,
    /// The quadruplet builder (pairs are built by one builder for every property).
    build: fn(&SetRequest) -> Result<VoeSet>,
}

impl fmt::Debug for PropertySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PropertySpec")
            .field("property", &self.property)
            .field("scene", &self.scene.name)
            .field("conditions", &self.conditions)
            .finish()
    }
}

const BOTH: &[Condition] = &[Condition::Occluded, Condition::Visible];
const DYNAMICS: &[Condition] = &[Condition::Occluded, Condition::Pair];

/// Every property of the suite.
pub static PROPERTIES: &[PropertySpec] = &[
    PropertySpec {
        property: Property::Permanence,
        scene: &crate::scene::occlusion::SPEC,
        conditions: BOTH,
        description: "an object vanishes (behind a screen or in view), or appears from nowhere",
        build: quadruplet::build,
    },
    PropertySpec {
        property: Property::ShapeConstancy,
        scene: &crate::scene::occlusion::SPEC,
        conditions: BOTH,
        description: "an object changes shape while hidden or in view",
        build: quadruplet::build,
    },
    PropertySpec {
        property: Property::ColorConstancy,
        scene: &crate::scene::occlusion::SPEC,
        conditions: BOTH,
        description: "an object changes colour while hidden or in view",
        build: quadruplet::build,
    },
    PropertySpec {
        property: Property::Continuity,
        scene: &crate::scene::occlusion::SPEC,
        conditions: BOTH,
        description: "an object goes behind one screen and comes out of the other without crossing the gap (or jumps in view)",
        build: quadruplet::build,
    },
    PropertySpec {
        property: Property::Gravity,
        scene: &crate::scene::cart_platform::SPEC,
        conditions: DYNAMICS,
        description: "the cart pushed past the platform's end stays up with no bridge under it \
                      (and, where a bridge continues the platform, falls through it)",
        build: matched::build,
    },
    PropertySpec {
        property: Property::Support,
        scene: &crate::scene::cart_platform::SPEC,
        conditions: DYNAMICS,
        description: "the cart falling off the edge passes through a ledge below it (and, where \
                      there is no ledge, stops in mid-air)",
        build: matched::build,
    },
    PropertySpec {
        property: Property::Solidity,
        scene: &crate::scene::collision::SPEC,
        conditions: DYNAMICS,
        description: "a body passes through a panel across its lane (and, where there is none, \
                      comes back from nothing)",
        build: matched::build,
    },
    PropertySpec {
        property: Property::Inertia,
        scene: &crate::scene::collision::SPEC,
        conditions: DYNAMICS,
        description: "a rolling body turns away with nothing in its way (and, where a deflector \
                      stands in its lane, goes straight through it)",
        build: matched::build,
    },
    PropertySpec {
        property: Property::Collision,
        scene: &crate::scene::collision::SPEC,
        conditions: DYNAMICS,
        description: "a struck body stays put as if immovable (and a body nobody strikes moves \
                      off)",
        build: matched::build,
    },
];

impl Property {
    /// The property's name in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Property::Permanence => "permanence",
            Property::ShapeConstancy => "shape_constancy",
            Property::ColorConstancy => "color_constancy",
            Property::Continuity => "continuity",
            Property::Gravity => "gravity",
            Property::Support => "support",
            Property::Solidity => "solidity",
            Property::Inertia => "inertia",
            Property::Collision => "collision",
        }
    }

    /// The property's entry in [`PROPERTIES`].
    pub fn spec(self) -> &'static PropertySpec {
        PROPERTIES
            .iter()
            .find(|p| p.property == self)
            .expect("every property is registered")
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Property {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self> {
        PROPERTIES
            .iter()
            .map(|p| p.property)
            .find(|p| p.as_str() == s)
            .ok_or_else(|| SimError::OutOfRange {
                what: "property",
                value: s.to_owned(),
                expected: format!(
                    "one of {}",
                    PROPERTIES
                        .iter()
                        .map(|p| p.property.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }
}

impl Condition {
    /// The condition's name in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Occluded => "occluded",
            Condition::Visible => "visible",
            Condition::Pair => "pair",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Condition {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "occluded" => Ok(Condition::Occluded),
            "visible" => Ok(Condition::Visible),
            "pair" => Ok(Condition::Pair),
            _ => Err(SimError::OutOfRange {
                what: "condition",
                value: s.to_owned(),
                expected: "occluded, visible or pair".into(),
            }),
        }
    }
}

impl Kind {
    /// The kind's name in `sets.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Quadruplet => "quadruplet",
            Kind::Pair => "pair",
        }
    }

    /// How many movies a set of this kind has.
    pub fn members(self) -> u64 {
        match self {
            Kind::Quadruplet => 4,
            Kind::Pair => 2,
        }
    }
}

/// What to build: one set of one property and condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetRequest {
    /// The property.
    pub property: Property,
    /// The condition.
    pub condition: Condition,
    /// The set's seed (in [`crate::Split::Voe`]'s range); all its randomness comes from it.
    pub seed: u64,
    /// The set's index within its (property, condition) cell: quadruplets alternate short
    /// (even) and long (odd) occlusions.
    pub index: u64,
    /// Frames per movie.
    pub frames: usize,
    /// Image side, pixels.
    pub size: usize,
}

/// Whose motion a movie shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Motion {
    /// Possible movie A's (from the violation frame on).
    A,
    /// Possible movie B's (from the violation frame on).
    B,
    /// Its own: a pair's movies are not matched.
    Own,
}

impl Motion {
    /// Its name in `sets.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Motion::A => "A",
            Motion::B => "B",
            Motion::Own => "Own",
        }
    }
}

/// One movie of a set.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// Whether it obeys physics.
    pub possible: bool,
    /// Which possible movie's motion it shows: a quadruplet's {C, D} show B's and A's.
    pub motion: Motion,
    /// Its frames, actions and states, shaped as a dataset episode.
    pub episode: Episode,
    /// Every body's pose per frame (both worlds' bodies for a spliced movie), for 3D replay.
    pub bodies: crate::movie_bodies::MovieBodies,
}

/// One matched set of possible and impossible movies.
#[derive(Clone, Debug, PartialEq)]
pub struct VoeSet {
    /// What the request asked for.
    pub request: SetRequest,
    /// Quadruplet or pair.
    pub kind: Kind,
    /// First frame at which an impossible movie differs from its possible counterpart (the
    /// splice frame of a quadruplet; the first frame whose simulated state differs, for a pair).
    pub violation_frame: usize,
    /// The longest run of frames holding the splice on which A and B are the same picture (0 for
    /// pairs and visible sets): what a model must remember across to decide the set.
    pub occlusion_frames: usize,
    /// Mean share of the image the tracked object covers, over the frames it is visible.
    pub object_share: f32,
    /// A, B, C, D for quadruplets (A and B possible); possible then impossible for pairs.
    pub members: Vec<Member>,
}

/// Builds one set. The same request gives the same bits.
pub fn generate_set(request: &SetRequest) -> Result<VoeSet> {
    let spec = request.property.spec();
    if !spec.conditions.contains(&request.condition) {
        return Err(SimError::OutOfRange {
            what: "condition",
            value: request.condition.to_string(),
            expected: format!(
                "{} for {}",
                spec.conditions
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                request.property
            ),
        });
    }
    crate::episode::check_frames(request.frames)?;
    crate::camera::check_size("size", request.size)?;
    match request.condition.kind() {
        Kind::Pair => pair::build(request),
        Kind::Quadruplet => (spec.build)(request),
    }
}
