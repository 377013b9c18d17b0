//! IntPhys-style quadruplets in the `occlusion` scene: permanence, shape and colour constancy,
//! continuity.
//!
//! A possible movie A is an object sliding past one screen (two for continuity); B is the same
//! world edited: without the object (permanence), with another shape of the same height (shape),
//! another colour (colour), or shifted ahead by the distance between the screens (continuity).
//! The impossible movies splice them at frame t: C = A[..t] + B[t..], D = B[..t] + A[t..].
//! Layouts are drawn until the splice frame meets the condition: in the occluded condition the
//! object is wholly hidden at t in both movies, so A[t] and B[t] are the same picture; in the
//! visible condition it shows whole in both (or in A, where B has none).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::record::{Recording, identical_stretch, record, splice};
use super::{Condition, Kind, Member, Motion, Property, SetRequest, VoeSet};
use crate::color::random_color;
use crate::env::SceneEnv;
use crate::error::{Result, SimError};
use crate::movie_bodies::MovieBodies;
use crate::scene::occlusion::{
    ObjectLayout, Occlusion, OcclusionLayout, ScreenLayout, ScreenMotion, object_shape,
};
use crate::scene::parts::{sign, uniform};

/// Layouts drawn before giving up on a request. Most cells accept most draws; continuity's
/// occluded sets at the shortest movies (48 frames) accept about one in eighty, so the budget
/// is set for them: no seed of 500 fails at any preset's frame count (tested).
const MAX_TRIES: usize = 4000;
/// Frames of context the splice leaves before it.
const MIN_BEFORE: usize = 8;
/// Longest occlusion of a `short` set, and shortest of a `long` one, in frames.
const SHORT_MAX: usize = 4;
const LONG_MIN: usize = 10;
/// Fewest frames on which A and B of a `long` set are the same picture.
const LONG_IDENTICAL_MIN: usize = 11;

/// Builds a quadruplet.
pub(super) fn build(req: &SetRequest) -> Result<VoeSet> {
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    let long = req.index % 2 == 1;
    for _ in 0..MAX_TRIES {
        let (a_layout, b_layout) = layouts(&mut rng, req, long);
        let a = run(&a_layout, req)?;
        let b = run(&b_layout, req)?;
        let Some((t, occlusion_frames)) = choose_splice(req, &a, &b, long) else {
            continue;
        };
        let object_share = a.mean_share();
        let (ea, eb) = (a.episode, b.episode);
        let c = splice(&ea, &eb, t, req.frames);
        let d = splice(&eb, &ea, t, req.frames);
        let (sa, sb) = (a.bodies, b.bodies);
        let (sc, sd) = (
            MovieBodies::splice(&sa, &sb, t),
            MovieBodies::splice(&sb, &sa, t),
        );
        let member = |possible, motion, episode, bodies| Member {
            possible,
            motion,
            episode,
            bodies,
        };
        return Ok(VoeSet {
            request: *req,
            kind: Kind::Quadruplet,
            violation_frame: t,
            occlusion_frames,
            object_share,
            members: vec![
                member(true, Motion::A, ea, sa),
                member(true, Motion::B, eb, sb),
                member(false, Motion::B, c, sc),
                member(false, Motion::A, d, sd),
            ],
        });
    }
    Err(SimError::OutOfRange {
        what: "VoE set",
        value: format!("{} {} seed {}", req.property, req.condition, req.seed),
        expected: format!(
            "a layout meeting the condition within {MAX_TRIES} draws at {} frames (try more frames)",
            req.frames
        ),
    })
}

/// Runs one layout, watching its object (slot `object0`) if it has one.
fn run(layout: &OcclusionLayout, req: &SetRequest) -> Result<Recording> {
    let (world, scene) = Occlusion::from_layout(layout);
    let watch = (!layout.objects.is_empty())
        .then(|| crate::env::Scene::slots(&scene)[0].expect("object0 is the first object"));
    let mut env = SceneEnv::from_world(req.size, world, scene)?;
    record(&mut env, req.frames, watch, |_, _| Vec::new())
}

/// How much nearer the camera the screens are than the objects' lane: a screen of width w casts
/// a shadow of width w / perspective() on the lane (lane 0 lies at z = -0.1).
fn perspective() -> f32 {
    let eye_z = <Occlusion as crate::env::Scene>::camera().eye[2];
    (eye_z - crate::scene::occlusion::SCREEN_Z) / (eye_z + 0.1)
}

/// Draws the layouts of A and B.
fn layouts(
    rng: &mut ChaCha8Rng,
    req: &SetRequest,
    long: bool,
) -> (OcclusionLayout, OcclusionLayout) {
    let property = req.property;
    let mut base = OcclusionLayout::sample(rng);
    // Continuity hides the object twice: two screens and a gap must fit in view.
    let two_screens = property == Property::Continuity && req.condition == Condition::Occluded;
    // One object on the lane nearest the screens, sliding fast enough to cross within the movie.
    let mut object = ObjectLayout::sample(rng, 0);
    let side = sign(rng);
    let (speed, size) = if two_screens {
        ((0.75, 1.15), (0.31, 0.38))
    } else {
        ((1.6, 2.6), (0.3, 0.42))
    };
    object.shape = object_shape(shape_kind(&object.shape), uniform(rng, size.0, size.1));
    object.position[1] = object.shape.half_height();
    object.position[0] = side * uniform(rng, 1.5, 1.9);
    let v = uniform(rng, speed.0, speed.1);
    object.velocity = [-side * v, 0.0, 0.0];
    // The screen's width follows from the occlusion wanted: the object's width plus the distance
    // it slides while hidden, seen from the camera.
    let hidden = if long {
        uniform(rng, 10.5, 15.0)
    } else {
        uniform(rng, 1.5, 4.0)
    };
    let width = 2.0 * object.shape.half_width();
    let frame_dt = crate::world::DT * crate::env::SUBSTEPS as f32;
    let half_x = 0.5 * perspective() * (width + hidden * v * frame_dt);
    let half = [half_x, uniform(rng, 0.6, 0.7), 0.03];
    let color = random_color(rng);
    let screen = |x| ScreenLayout {
        x,
        half,
        color,
        motion: ScreenMotion::Still,
    };
    base.screens = if two_screens {
        // Centre to centre: both screens, plus room to see the object whole between them.
        let gap = 2.0 * half[0] + perspective() * width + uniform(rng, 0.15, 0.3);
        vec![screen(-gap / 2.0), screen(gap / 2.0)]
    } else if property == Property::Continuity {
        // The jump in view needs room for both objects whole: the screen stands on the far side.
        vec![screen(-side * uniform(rng, 0.7, 1.0))]
    } else {
        vec![screen(uniform(rng, -0.3, 0.3))]
    };
    let mut other = object.clone();
    match property {
        Property::ShapeConstancy => {
            let kind = shape_kind(&object.shape);
            let new_kind = kind + rng.random_range(1..3u32);
            other.shape = object_shape(new_kind, object.shape.half_height());
        }
        Property::ColorConstancy => loop {
            let c = random_color(rng);
            let d: f32 =
                c.0.iter()
                    .zip(object.color.0)
                    .map(|(a, b)| (a - b).abs())
                    .sum();
            if d > 0.6 {
                other.color = c;
                break;
            }
        },
        Property::Continuity => {
            // Behind the second screen when A is behind the first; in view, a jump ahead.
            let jump = if two_screens {
                // Between the screens' shadows on the object's lane, not the screens.
                (base.screens[1].x - base.screens[0].x) / perspective()
            } else {
                uniform(rng, 0.45, 0.65)
            };
            other.position[0] += jump * object.velocity[0].signum();
        }
        _ => {}
    }
    let mut a = base.clone();
    a.objects = vec![object];
    let mut b = base;
    b.objects = if property == Property::Permanence {
        Vec::new()
    } else {
        vec![other]
    };
    (a, b)
}

fn shape_kind(shape: &crate::world::ShapeDesc) -> u32 {
    match shape {
        crate::world::ShapeDesc::Ball { .. } => 0,
        crate::world::ShapeDesc::Cuboid { .. } => 1,
        crate::world::ShapeDesc::Cylinder { .. } => 2,
    }
}

/// The splice frame and the occlusion length, if this pair of movies admits one.
fn choose_splice(
    req: &SetRequest,
    a: &Recording,
    b: &Recording,
    long: bool,
) -> Option<(usize, usize)> {
    let frames = req.frames;
    let frame_len = a.episode.frames.len() / frames;
    let same_frame = |t: usize| {
        a.episode.frames[t * frame_len..(t + 1) * frame_len]
            == b.episode.frames[t * frame_len..(t + 1) * frame_len]
    };
    let b_has_object = req.property != Property::Permanence;
    let runs = a.hidden_runs();
    let first_run = runs.first().cloned();
    match req.condition {
        Condition::Occluded => {
            let run = first_run?;
            let len = run.len();
            let class_ok = if long {
                len >= LONG_MIN
            } else {
                len <= SHORT_MAX
            };
            // The object is seen (at least in part) before it goes in, and whole after.
            let seen_before = (0..run.start).filter(|&t| a.visible[t] > 0).count();
            let seen_after = (run.end..frames).filter(|&t| a.fully_visible(t)).count();
            if !class_ok || seen_before < 3 || seen_after < 4 || run.start < MIN_BEFORE {
                return None;
            }
            // Middle-most frame of the run where B hides its object too and the pictures agree.
            let mid = run.start + len / 2;
            let mut candidates: Vec<usize> = run.clone().collect();
            candidates.sort_by_key(|&t| t.abs_diff(mid));
            let t = candidates
                .into_iter()
                .find(|&t| t >= MIN_BEFORE && (!b_has_object || b.hidden(t)) && same_frame(t))?;
            let stretch = identical_stretch(t, frames, same_frame);
            // A long set is one no window of the default models (8 context and 4 target frames:
            // C + K - 2 = 10) can see across, so that half the sets of a cell are `memory` sets.
            if long && stretch < LONG_IDENTICAL_MIN {
                return None;
            }
            Some((t, stretch))
        }
        Condition::Visible => {
            let ok = |t: usize| a.fully_visible(t) && (!b_has_object || b.fully_visible(t));
            let candidates: Vec<usize> = (MIN_BEFORE + 2..frames.saturating_sub(8))
                .filter(|&t| ok(t) && ok(t - 1))
                .collect();
            let t = *candidates.get(candidates.len() / 2)?;
            // The change must show: the pictures at t differ (so no identical stretch holds t).
            if same_frame(t) {
                return None;
            }
            Some((t, 0))
        }
        Condition::Pair => None,
    }
}
