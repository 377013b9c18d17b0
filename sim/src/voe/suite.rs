//! The whole suite on disk, written and read here only: one dataset directory per property (same
//! format as training datasets), `sets.csv` saying which movies form which set, and a `meta.json`
//! for the suite. [`write_suite`] writes it; [`Suite::load`] reads it back for the harness and
//! the replay, so that the format has one owner.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Condition, Kind, PROPERTIES, Property, SetRequest, VoeSet, generate_set};
use crate::dataset::SCHEMA_VERSION;
use crate::dataset::atomic_dir::{RemoveOnError, check_output, move_into_place, parent_of};
use crate::dataset::read::Shard;
use crate::dataset::shard_writer::ShardWriter;
use crate::error::{Result, SimError};
use crate::nuisance::{Nuisance, nuisance_seed};
use crate::seed::{EpisodeKey, Split};

/// Sets per (property, condition) by default: the IntPhys dev set has 60 per property.
pub const DEFAULT_SETS: u64 = 60;
/// Frames per movie by default.
pub const DEFAULT_FRAMES: usize = 64;
/// Fewest frames a VoE movie may have: context before the violation and time to see it.
pub const MIN_FRAMES: usize = 32;

/// Frame bytes per shard.
const SHARD_BYTES: usize = 64 << 20;

/// Columns of `sets.csv`.
pub const SETS_HEADER: [&str; 12] = [
    "set_id",
    "property",
    "condition",
    "kind",
    "member",
    "possible",
    "motion",
    "violation_frame",
    "occlusion_frames",
    "seed",
    "episode",
    "object_share",
];

/// What suite to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuiteConfig {
    /// Global seed.
    pub seed: u64,
    /// Sets per (property, condition).
    pub sets: u64,
    /// Frames per movie.
    pub frames: usize,
    /// Image side, pixels.
    pub size: usize,
    /// Pixel detail drawn over every movie that carries no physics ([`crate::nuisance`]): every
    /// member of a set gets the same nuisance on the same frame, so that a spliced movie is
    /// still made of its possible movies' frames.
    pub nuisance: Nuisance,
}

/// One property's part of the suite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteProperty {
    /// The property.
    pub property: Property,
    /// The scene its movies come from.
    pub scene: String,
    /// Its conditions.
    pub conditions: Vec<Condition>,
    /// Its dataset directory, relative to the suite's.
    pub dir: String,
    /// Number of sets.
    pub sets: u64,
    /// Number of movies.
    pub episodes: u64,
    /// The content hash of its dataset.
    pub content_hash: String,
}

/// The suite's `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteMeta {
    /// Layout version.
    pub schema_version: u32,
    /// Crate and version that wrote it.
    pub generator: String,
    /// Global seed.
    pub seed: u64,
    /// Sets per (property, condition).
    pub sets_per_cell: u64,
    /// Frames per movie.
    pub frames: usize,
    /// Image side, pixels.
    pub size: usize,
    /// Inclusive range of the set seeds: the VoE split's, disjoint from every training split's.
    pub env_seeds: [u64; 2],
    /// The properties.
    pub properties: Vec<SuiteProperty>,
    /// The movies' nuisance level ([`crate::nuisance`]); left out at level 0.
    #[serde(default, skip_serializing_if = "Nuisance::is_none")]
    pub nuisance: Nuisance,
}

impl SuiteConfig {
    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        if !(1..=100_000).contains(&self.sets) {
            return Err(SimError::OutOfRange {
                what: "sets",
                value: self.sets.to_string(),
                expected: "1 to 100000 per property and condition".into(),
            });
        }
        if !(MIN_FRAMES..=crate::episode::MAX_FRAMES).contains(&self.frames) {
            return Err(SimError::OutOfRange {
                what: "frames",
                value: self.frames.to_string(),
                expected: format!(
                    "{MIN_FRAMES} to {} for VoE movies",
                    crate::episode::MAX_FRAMES
                ),
            });
        }
        crate::camera::check_size("size", self.size)
    }

    /// Number of sets in the whole suite.
    pub fn total_sets(&self) -> u64 {
        PROPERTIES
            .iter()
            .map(|p| p.conditions.len() as u64)
            .sum::<u64>()
            * self.sets
    }

    /// Number of movies in the whole suite (what scoring cuts into shards).
    pub fn total_movies(&self) -> u64 {
        self.movies_where(|_| true)
    }

    /// Number of movies of the headline sets (what a learning-curve point scores).
    pub fn headline_movies(&self) -> u64 {
        self.movies_where(|c| c.is_headline())
    }

    fn movies_where(&self, keep: impl Fn(super::Condition) -> bool) -> u64 {
        PROPERTIES
            .iter()
            .flat_map(|p| p.conditions)
            .filter(|c| keep(**c))
            .map(|c| c.kind().members())
            .sum::<u64>()
            * self.sets
    }
}

/// The seed of set `index` of a (property, condition) cell: derived like an episode seed, in the
/// VoE split's range.
pub fn set_seed(seed: u64, property: Property, condition: Condition, index: u64) -> u64 {
    let tag = format!("voe/{property}/{condition}");
    EpisodeKey {
        seed,
        scene: &tag,
        split: Split::Voe,
        index,
    }
    .seeds()
    .env
}

/// Generates the suite into `out` (same rules as datasets: `out` must be absent or empty unless
/// `force`; everything is built in a hidden sibling and renamed into place when complete).
/// `on_set` is called once per finished set, from any thread.
pub fn write_suite(
    config: &SuiteConfig,
    out: &Path,
    force: bool,
    on_set: &(dyn Fn() + Sync),
) -> Result<SuiteMeta> {
    config.validate()?;
    write_sets(config, out, force, |spec| {
        let requests: Vec<SetRequest> = requests(config)
            .into_iter()
            .filter(|r| r.property == spec.property)
            .collect();
        generate_sets(&requests, config.nuisance, on_set)
    })
}

/// Every set request of the suite, in its order: by property, then condition, then index.
pub(crate) fn requests(config: &SuiteConfig) -> Vec<SetRequest> {
    PROPERTIES
        .iter()
        .flat_map(|spec| {
            spec.conditions.iter().flat_map(move |&condition| {
                (0..config.sets).map(move |index| SetRequest {
                    property: spec.property,
                    condition,
                    seed: set_seed(config.seed, spec.property, condition, index),
                    index,
                    frames: config.frames,
                    size: config.size,
                })
            })
        })
        .collect()
}

/// A set as the suite records it: its rows of `sets.csv` but for the numbers the suite gives
/// (set id, episode), beside its members' movies, which travel in a [`Shard`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetRecord {
    pub(crate) property: Property,
    pub(crate) condition: Condition,
    pub(crate) kind: Kind,
    pub(crate) seed: u64,
    pub(crate) violation_frame: usize,
    pub(crate) occlusion_frames: usize,
    pub(crate) object_share: f32,
    /// Each member's (possible, motion).
    pub(crate) members: Vec<(bool, super::Motion)>,
}

/// Generates `requests` in parallel: their records and their members' movies, in order, with
/// the nuisance of each set's seed drawn over every member alike.
pub(crate) fn generate_sets(
    requests: &[SetRequest],
    nuisance: Nuisance,
    on_set: &(dyn Fn() + Sync),
) -> Result<(Vec<SetRecord>, Shard)> {
    let sets: Vec<VoeSet> = requests
        .par_iter()
        .map(|r| {
            let mut set = generate_set(r)?;
            let seed = nuisance_seed(r.seed);
            for member in &mut set.members {
                let ep = &mut member.episode;
                nuisance.apply_movie(seed, &mut ep.frames, &ep.masks, r.size, r.size);
            }
            on_set();
            Ok(set)
        })
        .collect::<Result<_>>()?;
    let records = sets
        .iter()
        .map(|set| SetRecord {
            property: set.request.property,
            condition: set.request.condition,
            kind: set.kind,
            seed: set.request.seed,
            violation_frame: set.violation_frame,
            occlusion_frames: set.occlusion_frames,
            object_share: set.object_share,
            members: set.members.iter().map(|m| (m.possible, m.motion)).collect(),
        })
        .collect();
    // Each movie is freed once copied, so the property's movies are held once, not twice.
    let mut movies = Shard::from_episodes(std::iter::empty());
    for set in sets {
        for member in set.members {
            movies.push_episode(&member.episode);
        }
    }
    Ok((records, movies))
}

/// Writes the suite into `out` from each property's sets, which `sets_of` gives (generated, or
/// read back from the shards of a sliced run): the one writer of the suite's files.
pub(crate) fn write_sets(
    config: &SuiteConfig,
    out: &Path,
    force: bool,
    mut sets_of: impl FnMut(&super::PropertySpec) -> Result<(Vec<SetRecord>, Shard)>,
) -> Result<SuiteMeta> {
    check_output(out, force)?;
    let parent = parent_of(out);
    fs::create_dir_all(&parent).map_err(|e| SimError::io("cannot create", &parent, e))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "voe".into());
    let partial = parent.join(format!(".{name}.partial-voe"));
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(|e| SimError::io("cannot remove", &partial, e))?;
    }
    fs::create_dir_all(&partial).map_err(|e| SimError::io("cannot write into", &parent, e))?;
    let guard = RemoveOnError(Some(partial.clone()));

    let sets_path = partial.join("sets.csv");
    let mut sets_csv = csv::Writer::from_path(&sets_path)
        .map_err(|e| SimError::io("cannot create", &sets_path, std::io::Error::other(e)))?;
    sets_csv
        .write_record(SETS_HEADER)
        .map_err(|e| SimError::io("cannot write", &sets_path, std::io::Error::other(e)))?;

    let mut properties = Vec::new();
    let mut set_id = 0u64;
    for spec in PROPERTIES {
        let (records, movies) = sets_of(spec)?;
        let dir = partial.join(spec.property.as_str());
        let mut writer = ShardWriter::create(&dir, spec.scene, config.frames, config.size)?;
        writer.nuisance = config.nuisance;
        let per_episode = config.frames * config.size * config.size * 3;
        let shard_len = (SHARD_BYTES / per_episode).max(1);
        let (mut first, mut episode) = (0usize, 0usize);
        for set in &records {
            for (m, (possible, motion)) in set.members.iter().enumerate() {
                sets_csv
                    .write_record([
                        set_id.to_string(),
                        set.property.to_string(),
                        set.condition.to_string(),
                        set.kind.as_str().to_owned(),
                        m.to_string(),
                        possible.to_string(),
                        motion.as_str().to_owned(),
                        set.violation_frame.to_string(),
                        set.occlusion_frames.to_string(),
                        set.seed.to_string(),
                        episode.to_string(),
                        format!("{:.5}", set.object_share),
                    ])
                    .map_err(|e| {
                        SimError::io("cannot write", &sets_path, std::io::Error::other(e))
                    })?;
                episode += 1;
                if episode - first == shard_len {
                    writer.push(&movies.episodes_range(first, shard_len))?;
                    first = episode;
                }
            }
            set_id += 1;
        }
        if episode != movies.episodes {
            return Err(SimError::BadDataset {
                path: dir,
                reason: format!("{} movies for sets of {episode} members", movies.episodes),
            });
        }
        if episode > first {
            writer.push(&movies.episodes_range(first, episode - first))?;
        }
        let meta = writer.finish(Split::Voe, config.seed, shard_len as u64)?;
        properties.push(SuiteProperty {
            property: spec.property,
            scene: spec.scene.name.to_owned(),
            conditions: spec.conditions.to_vec(),
            dir: spec.property.as_str().to_owned(),
            sets: records.len() as u64,
            episodes: meta.episodes,
            content_hash: meta.content_hash,
        });
    }
    let mut inner = sets_csv
        .into_inner()
        .map_err(|e| SimError::io("cannot write", &sets_path, e.into_error()))?;
    inner
        .flush()
        .map_err(|e| SimError::io("cannot write", &sets_path, e))?;

    let meta = SuiteMeta {
        schema_version: SCHEMA_VERSION,
        generator: format!("moravec-sim {}", env!("CARGO_PKG_VERSION")),
        seed: config.seed,
        sets_per_cell: config.sets,
        frames: config.frames,
        size: config.size,
        env_seeds: Split::Voe.seed_range(),
        properties,
        nuisance: config.nuisance,
    };
    let meta_path = partial.join("meta.json");
    let json = serde_json::to_string_pretty(&meta).expect("SuiteMeta serialises");
    fs::write(&meta_path, json + "\n").map_err(|e| SimError::io("cannot write", &meta_path, e))?;
    move_into_place(&partial, out, force)?;
    guard.disarm();
    Ok(meta)
}

/// One row of the suite's `sets.csv` (columns [`SETS_HEADER`]): one movie and its set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRow {
    /// Set number, over the whole suite.
    pub set_id: u64,
    /// Property.
    pub property: Property,
    /// Condition.
    pub condition: Condition,
    /// Quadruplet or pair.
    pub kind: Kind,
    /// Member index (A, B, C, D or possible, impossible).
    pub member: usize,
    /// Whether the movie is possible.
    pub possible: bool,
    /// Which possible movie's motion it shows (see [`super::Motion`]).
    pub motion: super::Motion,
    /// First frame of the violation.
    pub violation_frame: usize,
    /// Frames around the splice on which A and B are the same picture (see [`VoeSet::occlusion_frames`]).
    pub occlusion_frames: usize,
    /// Set seed.
    pub seed: u64,
    /// Episode index in the property's dataset.
    pub episode: usize,
    /// Mean image share of the object.
    pub object_share: f64,
}

/// A generated suite on disk, as [`write_suite`] left it.
#[derive(Clone, Debug)]
pub struct Suite {
    /// Its folder.
    pub dir: PathBuf,
    /// Its `meta.json`.
    pub meta: SuiteMeta,
    /// Its `sets.csv`, in file order.
    pub rows: Vec<SetRow>,
}

impl Suite {
    /// Reads a suite folder: its `meta.json` and every row of its `sets.csv`, whose header must
    /// be [`SETS_HEADER`] exactly. The properties' datasets are not read (see
    /// [`Suite::property_dir`] and [`crate::dataset::read_meta`]).
    pub fn load(dir: &Path) -> Result<Suite> {
        let meta_path = dir.join("meta.json");
        let text = fs::read_to_string(&meta_path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                SimError::BadDataset {
                    path: meta_path.clone(),
                    reason: format!("missing: {} is not a VoE suite folder", dir.display()),
                }
            } else {
                SimError::io("cannot read", &meta_path, e)
            }
        })?;
        let meta: SuiteMeta = serde_json::from_str(&text).map_err(|e| SimError::BadDataset {
            path: meta_path.clone(),
            reason: format!("not a VoE suite's meta.json: {e}"),
        })?;
        if meta.schema_version != SCHEMA_VERSION {
            return Err(SimError::BadDataset {
                path: meta_path,
                reason: format!(
                    "schema_version {} but this build reads {SCHEMA_VERSION} (a run's stage cache \
                     upgrades its suite; `bench generate --voe` makes one afresh)",
                    meta.schema_version
                ),
            });
        }
        let sets_path = dir.join("sets.csv");
        let bad = |reason: String| SimError::BadDataset {
            path: sets_path.clone(),
            reason,
        };
        let mut reader = csv::Reader::from_path(&sets_path)
            .map_err(|e| SimError::io("cannot read", &sets_path, std::io::Error::other(e)))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| bad(format!("unreadable header: {e}")))?
            .iter()
            .map(str::to_owned)
            .collect();
        if header != SETS_HEADER {
            return Err(bad(format!("header {header:?}, expected {SETS_HEADER:?}")));
        }
        let rows = reader
            .deserialize()
            .collect::<std::result::Result<Vec<SetRow>, _>>()
            .map_err(|e| bad(format!("bad row: {e}")))?;
        Ok(Suite {
            dir: dir.to_owned(),
            meta,
            rows,
        })
    }

    /// The dataset folder of `property`'s movies; an error naming the suite's folder when the
    /// suite has none.
    pub fn property_dir(&self, property: Property) -> Result<PathBuf> {
        let p = self
            .meta
            .properties
            .iter()
            .find(|p| p.property == property)
            .ok_or_else(|| SimError::BadDataset {
                path: self.dir.clone(),
                reason: format!("the suite has no {property} movies"),
            })?;
        Ok(self.dir.join(&p.dir))
    }
}

/// Brings the suite in `dir`, made by `config`, up to the current layout, as
/// [`crate::dataset::upgrade_dataset`] does a dataset: from layout 1 (no instance masks) it is
/// made again beside the old one and swapped in only if every property's frames, actions and
/// states and the whole `sets.csv` are the old ones, so that scores of the old suite stay
/// valid. False if it is in the current layout already.
pub fn upgrade_suite(config: &SuiteConfig, dir: &Path, on_set: &(dyn Fn() + Sync)) -> Result<bool> {
    use crate::dataset::upgrade::{
        check_same_content, layout_1_meta, replace_contents, upgrade_sibling,
    };
    let Some(old) = layout_1_meta(dir)? else {
        return Ok(false);
    };
    let fresh = upgrade_sibling(dir);
    if fresh.exists() {
        fs::remove_dir_all(&fresh).map_err(|e| SimError::io("cannot remove", &fresh, e))?;
    }
    write_suite(config, &fresh, false, on_set)?;
    let checked = (|| -> Result<()> {
        let properties = old["properties"].as_array().cloned().unwrap_or_default();
        for p in &properties {
            let sub = p["dir"].as_str().unwrap_or_default();
            let hash = p["content_hash"].as_str().unwrap_or_default();
            check_same_content(&dir.join(sub), &fresh.join(sub), hash)?;
        }
        let sets = |d: &Path| {
            fs::read(d.join("sets.csv"))
                .map_err(|e| SimError::io("cannot read", d.join("sets.csv"), e))
        };
        if properties.is_empty() || sets(dir)? != sets(&fresh)? {
            return Err(SimError::BadDataset {
                path: dir.to_owned(),
                reason: "made again, its sets.csv or properties differ from the cached suite's: \
                         it was not made by this config; delete the folder to make it afresh"
                    .into(),
            });
        }
        Ok(())
    })();
    if let Err(e) = checked {
        let _ = fs::remove_dir_all(&fresh);
        return Err(e);
    }
    replace_contents(&fresh, dir)?;
    Ok(true)
}
