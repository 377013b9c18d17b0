//! A pinhole camera: where each pixel's ray goes, and where a world point lands on the image.

use rapier3d::math::Vector;
use serde::{Deserialize, Serialize};

use crate::color::Rgb;
use crate::error::{Result, SimError};

/// Smallest image side the renderer accepts.
pub const MIN_SIZE: usize = 16;
/// Largest image side the renderer accepts.
pub const MAX_SIZE: usize = 512;
/// The default image side: the size world models are trained on.
pub const DEFAULT_SIZE: usize = 64;

/// A pinhole camera looking from `eye` at `target`, world up = +y. Pixel `(x, y)` counts from the
/// top-left corner; its ray goes through the pixel's centre `(x + 0.5, y + 0.5)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// Camera position, metres.
    pub eye: [f32; 3],
    /// The point the camera looks at.
    pub target: [f32; 3],
    /// Vertical field of view, degrees.
    pub fov_y_deg: f32,
    /// Image width, pixels.
    pub width: usize,
    /// Image height, pixels.
    pub height: usize,
    /// Colour of pixels whose ray hits nothing.
    pub background: Rgb,
}

/// The camera's orthonormal frame and the half extents of the image plane at unit depth.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Basis {
    pub eye: Vector,
    pub right: Vector,
    pub up: Vector,
    pub forward: Vector,
    pub tan_x: f32,
    pub tan_y: f32,
}

impl Camera {
    /// A [`DEFAULT_SIZE`] square camera.
    pub fn new(eye: [f32; 3], target: [f32; 3], fov_y_deg: f32, background: Rgb) -> Self {
        Self {
            eye,
            target,
            fov_y_deg,
            width: DEFAULT_SIZE,
            height: DEFAULT_SIZE,
            background,
        }
    }

    /// The same camera with another image size; each side must lie in
    /// [`MIN_SIZE`]..=[`MAX_SIZE`].
    pub fn with_size(mut self, width: usize, height: usize) -> Result<Self> {
        for (what, v) in [("image width", width), ("image height", height)] {
            check_size(what, v)?;
        }
        self.width = width;
        self.height = height;
        Ok(self)
    }

    pub(crate) fn basis(&self) -> Basis {
        let eye = Vector::from_array(self.eye);
        let forward = (Vector::from_array(self.target) - eye).normalize();
        let right = forward.cross(Vector::Y).normalize();
        let up = right.cross(forward);
        let tan_y = (self.fov_y_deg.to_radians() * 0.5).tan();
        let tan_x = tan_y * self.width as f32 / self.height as f32;
        Basis {
            eye,
            right,
            up,
            forward,
            tan_x,
            tan_y,
        }
    }

    /// Unit direction of the ray through the centre of every pixel, row by row from the top.
    pub(crate) fn ray_directions(&self) -> Vec<Vector> {
        let b = self.basis();
        let (w, h) = (self.width, self.height);
        let mut dirs = Vec::with_capacity(w * h);
        for y in 0..h {
            let sy = 1.0 - 2.0 * (y as f32 + 0.5) / h as f32;
            for x in 0..w {
                let sx = 2.0 * (x as f32 + 0.5) / w as f32 - 1.0;
                let d = b.forward + b.right * (sx * b.tan_x) + b.up * (sy * b.tan_y);
                dirs.push(d.normalize());
            }
        }
        dirs
    }

    /// Where a world point lands on the image, in continuous pixel coordinates (pixel `(i, j)`
    /// spans `[i, i + 1) x [j, j + 1)`), or `None` if it is not in front of the camera.
    pub fn project(&self, point: [f32; 3]) -> Option<[f32; 2]> {
        project_with(
            &self.basis(),
            self.width,
            self.height,
            Vector::from_array(point),
        )
    }
}

impl Camera {
    /// Whether a world point lands inside the image (in front of the camera, within its
    /// borders).
    pub fn sees(&self, point: [f32; 3]) -> bool {
        self.project(point).is_some_and(|[x, y]| {
            (0.0..=self.width as f32).contains(&x) && (0.0..=self.height as f32).contains(&y)
        })
    }
}

pub(crate) fn project_with(b: &Basis, w: usize, h: usize, p: Vector) -> Option<[f32; 2]> {
    let d = p - b.eye;
    let z = d.dot(b.forward);
    if z <= 1e-3 {
        return None;
    }
    let sx = d.dot(b.right) / (z * b.tan_x);
    let sy = d.dot(b.up) / (z * b.tan_y);
    Some([(sx + 1.0) * 0.5 * w as f32, (1.0 - sy) * 0.5 * h as f32])
}

/// Checks one image side against [`MIN_SIZE`]..=[`MAX_SIZE`].
pub fn check_size(what: &'static str, value: usize) -> Result<()> {
    if (MIN_SIZE..=MAX_SIZE).contains(&value) {
        Ok(())
    } else {
        Err(SimError::OutOfRange {
            what,
            value: value.to_string(),
            expected: format!("{MIN_SIZE} to {MAX_SIZE} pixels"),
        })
    }
}
