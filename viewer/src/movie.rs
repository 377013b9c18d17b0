//! A recorded movie played in place of the live simulation: a dataset episode (`--replay`) or
//! one movie of a VoE set (the V key). Bodies come from its [`MovieBodies`], the model panel shows
//! its own frames, and its surprise curve, when a run gave one, is drawn under it.

use bevy::prelude::*;
use moravec_sim::Frame;
use moravec_sim::movie_bodies::MovieBodies;
use moravec_sim::replay::Replay;
use moravec_sim::voe::VoeSet;

use crate::curve::Curve;

/// Links an entity to a body of the movie (an index into [`MovieBodies::all`]).
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MovieBodyLink(pub usize);

/// A movie and where the playback is.
#[derive(Clone, Debug)]
pub struct Movie {
    /// Every body's shape and pose per frame.
    pub bodies: MovieBodies,
    /// Frames, `[T, size, size, 3]`.
    frames: Vec<u8>,
    /// Image side, pixels.
    pub size: usize,
    /// Number of frames.
    pub len: usize,
    /// The frame shown.
    pub t: usize,
    /// What it is, for the title.
    pub label: String,
    /// The first frame of a VoE set's violation, if any.
    pub violation: Option<usize>,
    /// A model's surprise along the movie, if a run was given.
    pub curve: Option<Curve>,
}

impl Movie {
    /// A dataset episode.
    pub fn from_replay(replay: Replay, curve: Option<Curve>) -> Self {
        let name = replay
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| replay.dir.display().to_string());
        let mut label = format!("replay {name} episode {}", replay.episode);
        if let Some(v) = &replay.voe {
            label += &format!(
                " ({} {}, set {} movie {}, {})",
                v.property,
                v.condition,
                v.set_id,
                member_name(v.member),
                if v.possible { "possible" } else { "impossible" }
            );
        }
        Self {
            bodies: replay.bodies,
            frames: replay.movie.frames,
            size: replay.size,
            len: replay.frames,
            t: 0,
            label,
            violation: replay.voe.map(|v| v.violation_frame),
            curve,
        }
    }

    /// Movie `member` of a VoE set.
    pub fn from_set(set: &VoeSet, member: usize) -> Self {
        let r = &set.request;
        let m = &set.members[member];
        Self {
            bodies: m.bodies.clone(),
            frames: m.episode.frames.clone(),
            size: r.size,
            len: r.frames,
            t: 0,
            label: format!(
                "VoE {} {} (set seed {}): movie {} of {}, {}",
                r.property,
                r.condition,
                r.index,
                member_name(member),
                set.members.len(),
                if m.possible { "possible" } else { "impossible" }
            ),
            violation: Some(set.violation_frame),
            curve: None,
        }
    }

    /// The frame shown, as the model camera saw it.
    pub fn frame(&self) -> Frame {
        let len = self.size * self.size * 3;
        Frame {
            width: self.size,
            height: self.size,
            data: self.frames[self.t * len..(self.t + 1) * len].to_vec(),
        }
    }

    /// Moves to the next frame, after the last back to the first.
    pub fn advance(&mut self) {
        self.t = (self.t + 1) % self.len;
    }
}

/// A, B, C, D: the names IntPhys gives a quadruplet's movies (a pair's are A and B).
pub fn member_name(member: usize) -> char {
    (b'A' + (member % 26) as u8) as char
}
