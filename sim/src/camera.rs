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
/// Most rays per pixel side the renderer accepts (64 rays per pixel).
pub const MAX_SAMPLES: usize = 8;

/// How a scene's frames are rasterised: the image side and the rays cast per pixel side. A bare
/// side converts to one ray per pixel, the renderer's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raster {
    /// Image side, pixels ([`MIN_SIZE`] to [`MAX_SIZE`]).
    pub size: usize,
    /// Rays per pixel side (1 to [`MAX_SAMPLES`]); see [`Camera::samples`].
    pub samples: usize,
}

impl Raster {
    /// Checks both numbers.
    pub fn new(size: usize, samples: usize) -> Result<Self> {
        check_size("size", size)?;
        check_samples(samples)?;
        Ok(Self { size, samples })
    }
}

impl From<usize> for Raster {
    fn from(size: usize) -> Self {
        Self { size, samples: 1 }
    }
}

/// A pinhole camera looking from `eye` at `target`, world up = +y. Pixel `(x, y)` counts from the
/// top-left corner; its ray goes through the pixel's centre `(x + 0.5, y + 0.5)`, or, with
/// `samples` = s > 1, s x s rays go through the centres of an s x s grid of sub-pixels and the
/// pixel is their mean colour (box-filtered supersampling).
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
    /// Rays per pixel side. With one ray per pixel an edge that moves less than a pixel leaves
    /// the image unchanged, so a goal image cannot tell apart states a pixel apart (a tenth of a
    /// metre on the cart platform at 32x32); averaging s x s rays makes edges' pixels shade with
    /// the share of the pixel an object covers. Absent in files written before it existed: 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub samples: usize,
}

fn one() -> usize {
    1
}

fn is_one(v: &usize) -> bool {
    *v == 1
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
            samples: 1,
        }
    }

    /// The same camera with a square image and rays per pixel as `raster` says.
    pub fn with_raster(self, raster: Raster) -> Result<Self> {
        self.with_size(raster.size, raster.size)?
            .with_samples(raster.samples)
    }

    /// The same camera casting `samples` x `samples` rays per pixel (1 to [`MAX_SAMPLES`]).
    pub fn with_samples(mut self, samples: usize) -> Result<Self> {
        check_samples(samples)?;
        self.samples = samples;
        Ok(self)
    }

    /// The camera of the rays themselves: one ray per pixel of an image `samples` times as wide
    /// and as high. The renderer traces it and averages each `samples` x `samples` block.
    pub(crate) fn ray_camera(&self) -> Camera {
        self.ray_camera_of(self.samples)
    }

    /// One ray per pixel of an image `samples` times as wide and high.
    pub(crate) fn ray_camera_of(&self, samples: usize) -> Camera {
        Camera {
            width: self.width * samples,
            height: self.height * samples,
            samples: 1,
            ..self.clone()
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

/// Checks rays per pixel side against 1..=[`MAX_SAMPLES`].
pub fn check_samples(value: usize) -> Result<()> {
    if (1..=MAX_SAMPLES).contains(&value) {
        Ok(())
    } else {
        Err(SimError::OutOfRange {
            what: "rays per pixel side",
            value: value.to_string(),
            expected: format!("1 to {MAX_SAMPLES}"),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn camera() -> Camera {
        Camera::new(
            [0.0, 1.0, 5.0],
            [0.0, 0.5, 0.0],
            45.0,
            Rgb::new(0.1, 0.2, 0.3),
        )
    }

    #[test]
    fn one_ray_per_pixel_is_written_as_before_and_read_from_old_files() {
        // Dataset metadata written before supersampling has no `samples`: it reads as one ray.
        let text = serde_json::to_string(&camera()).unwrap();
        assert!(!text.contains("samples"), "{text}");
        let back: Camera = serde_json::from_str(&text).unwrap();
        assert_eq!(back.samples, 1);
        let four = camera().with_samples(4).unwrap();
        let back: Camera = serde_json::from_str(&serde_json::to_string(&four).unwrap()).unwrap();
        assert_eq!(back, four);
    }

    #[test]
    fn the_raster_has_one_ray_per_sub_pixel() {
        let cam = camera().with_size(32, 16).unwrap().with_samples(3).unwrap();
        let r = cam.ray_camera();
        assert_eq!((r.width, r.height, r.samples), (96, 48, 1));
        assert_eq!(r.ray_directions().len(), 96 * 48);
        // The same view: a world point lands on the same place of the picture.
        let p = [0.3, 0.7, -0.2];
        let (a, b) = (cam.project(p).unwrap(), r.project(p).unwrap());
        assert!((a[0] * 3.0 - b[0]).abs() < 1e-3 && (a[1] * 3.0 - b[1]).abs() < 1e-3);
    }
}
