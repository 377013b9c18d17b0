//! Nuisance: pixel detail that carries no physics, at levels 0 to 3.
//!
//! The argument the benchmark tests is that a model trained to predict every pixel spends its
//! capacity on detail nobody can predict (leaves in the wind, the texture of a carpet, flicker),
//! while a joint-embedding model can learn to ignore it. A simulator can turn that detail up
//! while holding the physics fixed bit for bit, and this module is how: a pure function of the
//! rendered frame, its instance mask, a seed and the frame's index, applied after the physics
//! and the renderer have done their work. States, actions and trajectories never see it.
//!
//! - level 0: nothing (the frames as rendered);
//! - level 1: a fresh random texture on the floor, the platforms and the backdrop every frame
//!   (every pixel the mask gives to no body slot);
//! - level 2: level 1, plus flicker of the light (a gain on the whole picture, bodies too) and
//!   a colour cast of the static surfaces, both drawn afresh every frame;
//! - level 3: level 2, plus distractor particles that drift at random across the static surfaces
//!   and the backdrop; bodies pass in front of them and never touch them.
//!
//! Moving bodies keep their pixels at every level (only the flicker's gain reaches them), so they
//! stay visible. Every draw comes from a ChaCha stream keyed by (seed, frame index): the same
//! seed and index give the same nuisance in any movie, so two movies given the same seed show
//! the same nuisance on the same frames, and a movie spliced from two such movies (the VoE
//! suite's quadruplets) is still made of their frames.

use std::fmt;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SimError};
use crate::mask::NO_SLOT;

/// How far the texture moves a static pixel's brightness, either way (of 255).
const TEXTURE: f32 = 40.0;
/// How far the flicker moves the light's gain, either way.
const FLICKER: f32 = 0.2;
/// How far the colour cast moves each channel of the static surfaces, either way (of 255).
const CAST: f32 = 24.0;
/// Pixels per particle at a 64-pixel side (scaled with the side).
const PIXELS_PER_PARTICLE: usize = 256;
/// Velocity kept from one frame to the next: the particles drift rather than jump.
const DRIFT_MEMORY: f32 = 0.85;
/// Largest random kick to a particle's velocity per frame, pixels of a 64-pixel image.
const KICK: f32 = 0.6;
/// Fastest a particle drifts, pixels of a 64-pixel image per frame.
const MAX_DRIFT: f32 = 2.0;

/// A nuisance level, 0 (none) to [`Nuisance::MAX`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct Nuisance(u8);

impl Nuisance {
    /// No nuisance: the frames as rendered.
    pub const NONE: Nuisance = Nuisance(0);
    /// The highest level.
    pub const MAX: u8 = 3;

    /// The level `level`, or an error naming it.
    pub fn new(level: u8) -> Result<Self> {
        if level <= Self::MAX {
            Ok(Self(level))
        } else {
            Err(SimError::OutOfRange {
                what: "nuisance",
                value: level.to_string(),
                expected: format!("a level from 0 to {}", Self::MAX),
            })
        }
    }

    /// Its number.
    pub fn level(self) -> u8 {
        self.0
    }

    /// The level as cache keys record it: None at level 0, whose keys predate nuisance.
    pub fn key(self) -> Option<u8> {
        (!self.is_none()).then_some(self.0)
    }

    /// Whether it leaves frames as rendered.
    pub fn is_none(&self) -> bool {
        self.0 == 0
    }

    /// What the level adds, in words.
    pub fn describe(self) -> &'static str {
        match self.0 {
            0 => "none",
            1 => "a fresh random texture on the static surfaces every frame",
            2 => "texture, flicker of the light and a colour cast of the static surfaces",
            _ => "texture, flicker, colour cast and drifting distractor particles",
        }
    }

    /// The nuisance of one movie of `width` x `height` frames: call
    /// [`NuisanceStream::apply`] on its frames in order.
    pub fn stream(self, seed: u64, width: usize, height: usize) -> NuisanceStream {
        NuisanceStream::new(self, seed, width, height)
    }

    /// Applies the nuisance of `seed` to a whole movie in place: `frames` `[T, H, W, 3]`, its
    /// instance `masks` `[T, H, W]`.
    pub fn apply_movie(
        self,
        seed: u64,
        frames: &mut [u8],
        masks: &[u8],
        width: usize,
        height: usize,
    ) {
        if self.is_none() {
            return;
        }
        let mut stream = self.stream(seed, width, height);
        for (rgb, mask) in frames
            .chunks_exact_mut(width * height * 3)
            .zip(masks.chunks_exact(width * height))
        {
            stream.apply(rgb, mask);
        }
    }
}

impl TryFrom<u8> for Nuisance {
    type Error = SimError;

    fn try_from(level: u8) -> Result<Self> {
        Self::new(level)
    }
}

impl From<Nuisance> for u8 {
    fn from(n: Nuisance) -> u8 {
        n.0
    }
}

impl fmt::Display for Nuisance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The seed of a movie's nuisance from the seed of what the movie shows (an episode's or a VoE
/// set's): mixed so that the nuisance's draws share nothing with the scene's.
pub fn nuisance_seed(seed: u64) -> u64 {
    // SplitMix64's finaliser over the seed and a tag.
    let mut z = seed ^ 0x6e75_6973_616e_6365; // "nuisance"
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One frame's draws: the texture's cells, the light's gain, the colour cast.
struct Draws {
    texture: Vec<f32>,
    gain: f32,
    cast: [f32; 3],
}

/// A distractor particle: position and velocity in pixels, and its colour.
#[derive(Clone, Debug)]
struct Particle {
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
    rgb: [u8; 3],
}

/// The nuisance of one movie, frame after frame: the particles' drift is carried from frame to
/// frame, everything else is drawn afresh from (seed, frame index).
#[derive(Clone, Debug)]
pub struct NuisanceStream {
    level: Nuisance,
    seed: u64,
    width: usize,
    height: usize,
    /// Index of the next frame.
    t: u64,
    /// Pixels per texture cell (a 64-pixel image has cells of 2 pixels); a particle is a square
    /// of two cells.
    cell: usize,
    particles: Vec<Particle>,
}

impl NuisanceStream {
    fn new(level: Nuisance, seed: u64, width: usize, height: usize) -> Self {
        let cell = (width.min(height) / 32).max(1);
        let scale = width.min(height) as f32 / 64.0;
        let mut particles = Vec::new();
        if level.0 >= 3 {
            // The particles' start has its own stream, after every frame's.
            let mut rng = rng(seed, u64::MAX);
            let count = ((width * height) / PIXELS_PER_PARTICLE).max(4);
            for _ in 0..count {
                let speed = KICK * scale;
                particles.push(Particle {
                    x: rng.random_range(0.0..width as f32),
                    y: rng.random_range(0.0..height as f32),
                    vx: rng.random_range(-speed..speed),
                    vy: rng.random_range(-speed..speed),
                    rgb: [
                        rng.random_range(0..=255u8),
                        rng.random_range(0..=255u8),
                        rng.random_range(0..=255u8),
                    ],
                });
            }
        }
        Self {
            level,
            seed,
            width,
            height,
            t: 0,
            cell,
            particles,
        }
    }

    /// Index of the frame the next [`NuisanceStream::apply`] changes.
    pub fn frame(&self) -> u64 {
        self.t
    }

    /// Applies the nuisance of frame `t` (whichever frame the stream is at: an environment may
    /// show a frame twice, or return to an earlier one): the particles are where `t` frames of
    /// drift from the start put them.
    pub fn apply_at(&mut self, t: u64, rgb: &mut [u8], mask: &[u8]) {
        if t < self.t {
            *self = Self::new(self.level, self.seed, self.width, self.height);
        }
        while self.t < t {
            self.draws();
        }
        self.apply(rgb, mask);
    }

    /// Applies the nuisance of the next frame to `rgb` (`H * W * 3` bytes) whose instance mask
    /// is `mask` (`H * W`, [`NO_SLOT`] where no body slot shows).
    pub fn apply(&mut self, rgb: &mut [u8], mask: &[u8]) {
        let (w, h) = (self.width, self.height);
        assert_eq!(rgb.len(), w * h * 3, "a frame of {w}x{h} pixels");
        assert_eq!(mask.len(), w * h, "a mask of {w}x{h} pixels");
        let Some(Draws {
            texture,
            gain,
            cast,
        }) = self.draws()
        else {
            return;
        };
        let cw = w.div_ceil(self.cell);
        let side = self.cell;
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let px = &mut rgb[i * 3..i * 3 + 3];
                if mask[i] == NO_SLOT {
                    let n = texture[(y / side) * cw + x / side];
                    for (c, d) in px.iter_mut().zip(cast) {
                        *c = to_u8(f32::from(*c) + n + d);
                    }
                    if let Some(p) = self.particles.iter().find(|p| covers(p, x, y, 2 * side)) {
                        px.copy_from_slice(&p.rgb);
                    }
                }
                if gain != 1.0 {
                    for c in px.iter_mut() {
                        *c = to_u8(f32::from(*c) * gain);
                    }
                }
            }
        }
    }

    /// The next frame's draws (None at level 0), the particles moved to it.
    fn draws(&mut self) -> Option<Draws> {
        let (w, h) = (self.width, self.height);
        let t = self.t;
        self.t += 1;
        if self.level.is_none() {
            return None;
        }
        let mut rng = rng(self.seed, t);
        // Level 1: a texture of cells, each cell's brightness moved by its own draw.
        let (cw, ch) = (w.div_ceil(self.cell), h.div_ceil(self.cell));
        let texture: Vec<f32> = (0..cw * ch)
            .map(|_| rng.random_range(-TEXTURE..=TEXTURE))
            .collect();
        // Level 2: the light's gain and the static surfaces' colour cast.
        let (gain, cast) = if self.level.0 >= 2 {
            let gain = 1.0 + rng.random_range(-FLICKER..=FLICKER);
            let cast = [(); 3].map(|_| rng.random_range(-CAST..=CAST));
            (gain, cast)
        } else {
            (1.0, [0.0; 3])
        };
        if self.level.0 >= 3 {
            self.drift(&mut rng);
        }
        Some(Draws {
            texture,
            gain,
            cast,
        })
    }

    /// Moves every particle one frame: a random kick to its velocity, which decays, and around
    /// the edges of the picture.
    fn drift(&mut self, rng: &mut ChaCha8Rng) {
        let scale = self.width.min(self.height) as f32 / 64.0;
        let (kick, max) = (KICK * scale, MAX_DRIFT * scale);
        let (w, h) = (self.width as f32, self.height as f32);
        for p in &mut self.particles {
            p.vx = (DRIFT_MEMORY * p.vx + rng.random_range(-kick..=kick)).clamp(-max, max);
            p.vy = (DRIFT_MEMORY * p.vy + rng.random_range(-kick..=kick)).clamp(-max, max);
            p.x = (p.x + p.vx).rem_euclid(w);
            p.y = (p.y + p.vy).rem_euclid(h);
        }
    }
}

/// Whether particle `p`, a square of `side` pixels from its position, covers pixel (x, y).
fn covers(p: &Particle, x: usize, y: usize, side: usize) -> bool {
    let (px, py) = (p.x as usize, p.y as usize);
    x >= px && x < px + side && y >= py && y < py + side
}

/// The draws of frame `t` of the nuisance of `seed`: one ChaCha stream per frame.
fn rng(seed: u64, t: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(t);
    rng
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: usize, h: usize) -> (Vec<u8>, Vec<u8>) {
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 200 + 20) as u8).collect();
        // A body in slot 0 over the left quarter, the rest static.
        let mask: Vec<u8> = (0..w * h)
            .map(|i| if i % w < w / 4 { 0 } else { NO_SLOT })
            .collect();
        (rgb, mask)
    }

    #[test]
    fn levels_out_of_range_are_refused_by_name() {
        assert!(Nuisance::new(3).is_ok());
        let e = Nuisance::new(4).unwrap_err().to_string();
        assert!(
            e.contains("nuisance") && e.contains('4') && e.contains("0 to 3"),
            "{e}"
        );
        let parsed: std::result::Result<Nuisance, _> = serde_json::from_str("7");
        assert!(parsed.is_err());
        assert_eq!(
            serde_json::to_string(&Nuisance::new(2).unwrap()).unwrap(),
            "2"
        );
    }

    #[test]
    fn level_zero_changes_nothing() {
        let (rgb, mask) = picture(32, 32);
        let mut out = rgb.clone();
        let mut stream = Nuisance::NONE.stream(9, 32, 32);
        stream.apply(&mut out, &mask);
        assert_eq!(out, rgb);
    }

    #[test]
    fn bodies_keep_their_pixels_but_for_the_flicker() {
        let (w, h) = (64, 48);
        let (rgb, mask) = picture(w, h);
        for level in 1..=3 {
            let mut out = rgb.clone();
            Nuisance::new(level)
                .unwrap()
                .stream(5, w, h)
                .apply(&mut out, &mask);
            let body: Vec<usize> = (0..w * h).filter(|&i| mask[i] != NO_SLOT).collect();
            let stat: Vec<usize> = (0..w * h).filter(|&i| mask[i] == NO_SLOT).collect();
            let changed = |ix: &[usize]| {
                ix.iter()
                    .filter(|&&i| out[i * 3..i * 3 + 3] != rgb[i * 3..i * 3 + 3])
                    .count()
            };
            if level == 1 {
                assert_eq!(changed(&body), 0, "level 1 touched a body");
            } else {
                // One gain for the whole frame: each body pixel is the same multiple of its
                // colour.
                let i = body[10];
                let g = f32::from(out[i * 3]) / f32::from(rgb[i * 3]);
                assert!((g - 1.0).abs() <= FLICKER + 0.05, "{g}");
            }
            assert!(
                changed(&stat) > stat.len() / 2,
                "level {level} changed {} of {} static pixels",
                changed(&stat),
                stat.len()
            );
        }
    }

    #[test]
    fn the_same_seed_and_frame_give_the_same_bits_and_frames_differ() {
        let (w, h) = (32, 32);
        let (rgb, mask) = picture(w, h);
        let level = Nuisance::new(3).unwrap();
        let run = |seed| {
            let mut s = level.stream(seed, w, h);
            (0..3)
                .map(|_| {
                    let mut f = rgb.clone();
                    s.apply(&mut f, &mask);
                    f
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        let frames = run(1);
        assert_ne!(frames[0], frames[1], "a fresh texture every frame");
    }

    #[test]
    fn particles_drift_and_stay_behind_bodies() {
        let (w, h) = (64, 64);
        // A uniform grey static picture, so that only the particles make colours far from
        // grey; bodies (slot 1) on the top rows.
        let rgb = vec![128u8; w * h * 3];
        let mask: Vec<u8> = (0..w * h)
            .map(|i| if i / w < 8 { 1 } else { NO_SLOT })
            .collect();
        let level = Nuisance::new(3).unwrap();
        let mut s = level.stream(3, w, h);
        let mut starts = Vec::new();
        for _ in 0..20 {
            starts.push(s.particles.iter().map(|p| (p.x, p.y)).collect::<Vec<_>>());
            let mut f = rgb.clone();
            s.apply(&mut f, &mask);
        }
        assert_ne!(starts[0], starts[19], "the particles move");
        assert_eq!(s.particles.len(), 16);
        // Level 3 draws what level 2 draws, then the particles: the two differ on the
        // particles' pixels alone, every one of them static (bodies hide the particles).
        let mut two = Nuisance::new(2).unwrap().stream(3, w, h);
        let mut three = level.stream(3, w, h);
        let mut shown = 0;
        for _ in 0..20 {
            let (mut a, mut b) = (rgb.clone(), rgb.clone());
            two.apply(&mut a, &mask);
            three.apply(&mut b, &mask);
            for i in 0..w * h {
                if a[i * 3..i * 3 + 3] != b[i * 3..i * 3 + 3] {
                    assert_eq!(mask[i], NO_SLOT, "a particle in front of a body");
                    shown += 1;
                }
            }
        }
        assert!(shown > 20 * 16, "{shown} particle pixels in 20 frames");
    }

    #[test]
    fn apply_movie_is_the_stream_frame_by_frame() {
        let (w, h) = (32, 32);
        let (rgb, mask) = picture(w, h);
        let mut frames: Vec<u8> = [rgb.clone(), rgb.clone()].concat();
        let masks: Vec<u8> = [mask.clone(), mask.clone()].concat();
        let level = Nuisance::new(2).unwrap();
        level.apply_movie(8, &mut frames, &masks, w, h);
        let mut s = level.stream(8, w, h);
        let (mut a, mut b) = (rgb.clone(), rgb.clone());
        s.apply(&mut a, &mask);
        s.apply(&mut b, &mask);
        assert_eq!(frames, [a, b].concat());
    }
}
