//! One recorded movie of a dataset, ready to replay in 3D: its frames from the file and its
//! [`MovieBodies`] (every body's shape and pose) from regenerating it.
//!
//! A dataset keeps only the tracked bodies' states, not the floors, screens or the shapes of a
//! VoE layout, so the bodies come from running the movie again from its seeds. Generation is
//! deterministic, and the regenerated frames are checked bit for bit against the file's: a
//! replay never shows a world other than the one whose pictures the dataset holds.

use std::path::{Path, PathBuf};

use crate::camera::Raster;
use crate::dataset::read::{read_meta, read_shard};
use crate::episode::{Episode, run_episode_with_bodies};
use crate::error::{Result, SimError};
use crate::movie_bodies::MovieBodies;
use crate::scene::{self, SceneSpec};
use crate::seed::{EpisodeKey, Split};
use crate::voe::{Condition, Property, SetRequest, Suite, generate_set, set_seed};

/// Where a VoE movie sits in its suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoeMovie {
    /// The property it tests.
    pub property: Property,
    /// Occluded or visible.
    pub condition: Condition,
    /// Its set's id in `sets.csv`.
    pub set_id: u64,
    /// Its place in the set (A, B, C, D for quadruplets; possible, impossible for pairs).
    pub member: usize,
    /// Whether it obeys physics.
    pub possible: bool,
    /// The first frame where the set's impossible movies differ from the possible ones.
    pub violation_frame: usize,
}

/// A movie to replay.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The dataset directory it comes from.
    pub dir: PathBuf,
    /// Its episode index in the dataset.
    pub episode: u64,
    /// Its scene.
    pub scene: &'static SceneSpec,
    /// Frames in the movie.
    pub frames: usize,
    /// Image side, pixels.
    pub size: usize,
    /// The movie as the dataset holds it.
    pub movie: Episode,
    /// Every body's pose per frame.
    pub bodies: MovieBodies,
    /// Its set, for a movie of the VoE suite.
    pub voe: Option<VoeMovie>,
}

impl Replay {
    /// Frame `t` of the movie, RGB rows.
    pub fn frame(&self, t: usize) -> &[u8] {
        let len = self.size * self.size * 3;
        &self.movie.frames[t * len..(t + 1) * len]
    }
}

/// Loads episode `episode` of the dataset at `dir` (a training split, or one property's
/// directory of a VoE suite) and regenerates its bodies.
pub fn load(dir: &Path, episode: u64) -> Result<Replay> {
    let meta = read_meta(dir)?;
    let spec = scene::find(&meta.scene)?;
    if episode >= meta.episodes {
        return Err(SimError::OutOfRange {
            what: "episode",
            value: episode.to_string(),
            expected: format!(
                "0 to {} ({} holds {} episodes)",
                meta.episodes.saturating_sub(1),
                dir.display(),
                meta.episodes
            ),
        });
    }
    let info = meta
        .shards
        .iter()
        .find(|s| (s.first_episode..s.first_episode + s.episodes).contains(&episode))
        .ok_or_else(|| SimError::BadDataset {
            path: dir.join("meta.json"),
            reason: format!("no shard holds episode {episode}"),
        })?;
    let shard = read_shard(dir, &meta, info)?;
    let i = (episode - info.first_episode) as usize;
    let per = |len: usize| len / shard.episodes;
    let take_u8 = |v: &[u8]| v[i * per(v.len())..(i + 1) * per(v.len())].to_vec();
    let take_f32 = |v: &[f32]| v[i * per(v.len())..(i + 1) * per(v.len())].to_vec();
    let movie = Episode {
        frames: take_u8(&shard.frames),
        actions: take_f32(&shard.actions),
        states: take_f32(&shard.states),
        body_mask: take_u8(&shard.body_mask),
        masks: take_u8(&shard.masks),
    };

    let (regenerated, bodies, voe) = if meta.split == Split::Voe {
        regenerate_voe(dir, episode)?
    } else {
        let key = EpisodeKey {
            seed: meta.seed,
            scene: spec.name,
            split: meta.split,
            index: episode,
        };
        let mut env = spec.make(Raster::new(meta.size, meta.camera.samples)?)?;
        let (ep, bodies) = run_episode_with_bodies(env.as_mut(), &key, meta.frames)?;
        (ep, bodies, None)
    };
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    if regenerated.frames != movie.frames || bits(&regenerated.states) != bits(&movie.states) {
        return Err(SimError::BadDataset {
            path: dir.to_owned(),
            reason: format!(
                "episode {episode} does not regenerate bit for bit (written by {}, this is \
                 moravec-sim {}): a 3D replay would not show its frames",
                meta.generator,
                env!("CARGO_PKG_VERSION")
            ),
        });
    }
    Ok(Replay {
        dir: dir.to_owned(),
        episode,
        scene: spec,
        frames: meta.frames,
        size: meta.size,
        movie,
        bodies,
        voe,
    })
}

/// Regenerates movie `episode` of one property's directory of a VoE suite.
fn regenerate_voe(dir: &Path, episode: u64) -> Result<(Episode, MovieBodies, Option<VoeMovie>)> {
    let suite_dir = dir.parent().unwrap_or(Path::new("."));
    let suite = Suite::load(suite_dir)?;
    let suite_meta = &suite.meta;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let property = suite_meta
        .properties
        .iter()
        .find(|p| p.dir == name)
        .ok_or_else(|| SimError::BadDataset {
            path: suite_dir.join("meta.json"),
            reason: format!("the suite lists no property in directory {name:?}"),
        })?
        .property;
    let sets_path = suite_dir.join("sets.csv");
    let bad = |reason: String| SimError::BadDataset {
        path: sets_path.clone(),
        reason,
    };
    let row = suite
        .rows
        .iter()
        .find(|row| row.property == property && row.episode as u64 == episode)
        .ok_or_else(|| bad(format!("no row for {property} episode {episode}")))?;
    let index = (0..suite_meta.sets_per_cell)
        .find(|&i| set_seed(suite_meta.seed, property, row.condition, i) == row.seed)
        .ok_or_else(|| bad(format!("set seed {} is not one of the suite's", row.seed)))?;
    let mut set = generate_set(&SetRequest {
        property,
        condition: row.condition,
        seed: row.seed,
        index,
        frames: suite_meta.frames,
        size: suite_meta.size,
    })?;
    if row.member >= set.members.len() {
        return Err(bad(format!(
            "member {} of a set of {}",
            row.member,
            set.members.len()
        )));
    }
    let member = set.members.swap_remove(row.member);
    let voe = VoeMovie {
        property: row.property,
        condition: row.condition,
        set_id: row.set_id,
        member: row.member,
        possible: row.possible,
        violation_frame: row.violation_frame,
    };
    Ok((member.episode, member.bodies, Some(voe)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::generate::{GenerateConfig, write_dataset};
    use crate::voe::{SuiteConfig, write_suite};

    #[test]
    fn a_training_episode_regenerates_with_its_bodies() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        let config = GenerateConfig {
            scene: "cart_platform".into(),
            split: Split::Train,
            episodes: 3,
            frames: 6,
            seed: 5,
            size: 16,
            samples: 1,
            shard_episodes: Some(2),
            nuisance: Default::default(),
        };
        write_dataset(&config, &dir, false, &|| {}).unwrap();
        let r = load(&dir, 2).unwrap();
        assert_eq!((r.frames, r.size, r.episode), (6, 16, 2));
        assert_eq!(r.bodies.frames(), 6);
        assert!(r.voe.is_none());
        // The movie's bodies are more than the tracked slots: the platform and floor too.
        assert!(r.bodies.all().len() > r.movie.body_mask.len());
        assert!(matches!(
            load(&dir, 3),
            Err(SimError::OutOfRange {
                what: "episode",
                ..
            })
        ));
    }

    #[test]
    fn a_voe_movie_regenerates_with_both_worlds_of_its_splice() {
        let tmp = tempfile::tempdir().unwrap();
        let suite = tmp.path().join("voe");
        let config = SuiteConfig {
            seed: 1,
            sets: 1,
            frames: 48,
            size: 32,
            nuisance: Default::default(),
        };
        write_suite(&config, &suite, false, &|| {}).unwrap();
        // Permanence occluded: A, B, C, D are episodes 0 to 3; C = A[..t] + B[t..].
        let a = load(&suite.join("permanence"), 0).unwrap();
        let c = load(&suite.join("permanence"), 2).unwrap();
        let voe = c.voe.unwrap();
        assert_eq!(voe.property, Property::Permanence);
        assert_eq!(voe.member, 2);
        assert!(!voe.possible);
        let t = voe.violation_frame;
        let n = a.bodies.all().len();
        assert_eq!(c.bodies.all().len(), n + a.bodies.all().len() - 1);
        assert_eq!(c.bodies.pose(t - 1, 0), a.bodies.pose(t - 1, 0));
        assert_eq!(c.bodies.pose(t, 0), None);
        assert_eq!(c.frame(0), a.frame(0));
    }
}
