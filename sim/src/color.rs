//! Colours of bodies and backgrounds.

use serde::{Deserialize, Serialize};

/// An sRGB-free linear colour with channels in `[0, 1]`; the renderer shades and then quantises it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rgb(pub [f32; 3]);

impl Rgb {
    /// Builds a colour from three channels in `[0, 1]`.
    pub const fn new(r: f32, g: f32, b: f32) -> Self {
        Self([r, g, b])
    }

    /// Packs the colour into a collider's `user_data`, so that the renderer needs nothing but the
    /// physics world to shade a hit.
    pub fn to_user_data(self) -> u128 {
        let [r, g, b] = self.0.map(|c| u128::from(c.to_bits()));
        r | (g << 32) | (b << 64)
    }

    /// The inverse of [`Rgb::to_user_data`].
    pub fn from_user_data(data: u128) -> Self {
        let ch = |shift: u32| f32::from_bits(((data >> shift) & 0xffff_ffff) as u32);
        Self([ch(0), ch(32), ch(64)])
    }

    /// Quantises to 8 bits per channel (round to nearest, clamped).
    pub fn to_u8(self) -> [u8; 3] {
        self.0.map(|c| (c.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
    }
}

/// A random saturated colour: hue uniform, saturation and value high enough to stand out from the
/// grey floors and dark backgrounds of the scenes.
pub fn random_color(rng: &mut impl rand::Rng) -> Rgb {
    use rand::RngExt;
    let h: f32 = rng.random_range(0.0..6.0);
    let s: f32 = rng.random_range(0.55..0.95);
    let v: f32 = rng.random_range(0.65..1.0);
    let c = v * s;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    Rgb::new(r + m, g + m, b + m)
}

/// A random grey in `[lo, hi)`, for floors, tables and walls.
pub fn random_grey(rng: &mut impl rand::Rng, lo: f32, hi: f32) -> Rgb {
    use rand::RngExt;
    let g: f32 = rng.random_range(lo..hi);
    Rgb::new(g, g * 0.97, g * 0.92)
}
