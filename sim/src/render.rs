//! The renderer: one ray per pixel through the world's colliders, Lambert-shaded.
//!
//! [`render_reference`] is the definition: every pixel's ray goes through Rapier's query pipeline
//! and takes the nearest hit. [`Renderer`] computes the same picture faster, and the tests hold it
//! to the same bytes:
//!
//! - fixed bodies never move, so their picture (colour and depth per pixel) is traced once per
//!   [`World::static_key`] and reused for every frame;
//! - a moving collider can only be hit by rays through the pixels its bounding box projects to,
//!   so each frame casts, per moving collider, only the rays of that screen rectangle, against
//!   that collider's shape alone (the same shape ray cast the query pipeline runs at its leaves),
//!   keeping the nearest hit.
//!
//! Rows are traced in parallel with rayon; each pixel is computed alone, so the thread count
//! never changes a bit.
//!
//! With [`Camera::samples`] = s > 1 both trace the camera's ray camera (s x s rays per pixel, an
//! image s times as wide and high) and [`downsample`] averages each s x s block in integers.
//!
//! The same rays also say which body each pixel shows ([`Renderer::render_labelled`]): the body
//! of the nearest hit is kept beside its colour, so instance masks cost no extra ray.

use rapier3d::math::Vector;
use rapier3d::prelude::{Collider, Ray};
use rayon::prelude::*;

use crate::camera::{Basis, Camera, project_with};
use crate::color::Rgb;
use crate::world::{BodyId, BodyKind, World};

/// Share of a surface's colour that it keeps when turned away from the light.
const AMBIENT: f32 = 0.35;

/// Direction towards the light: above, a little right of and in front of the scenes' cameras.
const LIGHT: [f32; 3] = [0.3, 1.0, 0.55];

/// Pixels per rayon task: below this, a frame is traced on the calling thread.
const PIXELS_PER_TASK: usize = 4096;

/// The label of a pixel whose ray hits no body: the background.
pub const NO_BODY: u32 = u32::MAX;

/// An RGB8 image, rows from the top, three bytes per pixel in R, G, B order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Width, pixels.
    pub width: usize,
    /// Height, pixels.
    pub height: usize,
    /// `height * width * 3` bytes.
    pub data: Vec<u8>,
}

impl Frame {
    /// The colour of pixel `(x, y)`, counted from the top-left corner.
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }
}

/// Shades a hit: the collider's colour times ambient plus Lambert light on the hit normal.
fn shade(color: Rgb, normal: Vector) -> [u8; 3] {
    let light = Vector::from_array(LIGHT).normalize();
    let lambert = normal.dot(light).max(0.0);
    let k = AMBIENT + (1.0 - AMBIENT) * lambert;
    Rgb(color.0.map(|c| c * k)).to_u8()
}

/// Renders by casting every pixel's ray through Rapier's query pipeline: the definition the fast
/// [`Renderer`] is tested against. The world must have been stepped at least once (Rapier's
/// spatial index is empty before the first step).
pub fn render_reference(world: &World, camera: &Camera) -> Frame {
    let raster = camera.ray_camera();
    let basis = raster.basis();
    let dirs = raster.ray_directions();
    let query = world.query_pipeline();
    let background = camera.background.to_u8();
    let mut data = Vec::with_capacity(dirs.len() * 3);
    for dir in dirs {
        let ray = Ray::new(basis.eye, dir);
        let rgb = match query.cast_ray_and_get_normal(&ray, f32::MAX, true) {
            Some((handle, hit)) => {
                let collider = world
                    .collider_by_handle(handle)
                    .expect("the query pipeline returned a collider of this world");
                shade(Rgb::from_user_data(collider.user_data), hit.normal)
            }
            None => background,
        };
        data.extend_from_slice(&rgb);
    }
    Frame {
        width: camera.width,
        height: camera.height,
        data: downsample(data, camera),
    }
}

/// The picture of `camera` from its raster's `rgb`: each pixel the mean of its `samples` x
/// `samples` rays' colours per channel, rounded half up (integers, so no bit depends on the
/// order of the additions). One ray per pixel: the raster itself.
fn downsample(rgb: Vec<u8>, camera: &Camera) -> Vec<u8> {
    let s = camera.samples;
    if s == 1 {
        return rgb;
    }
    let (w, h) = (camera.width, camera.height);
    let n = (s * s) as u32;
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let mut sum = [0u32; 3];
            for sy in 0..s {
                let row = &rgb[((y * s + sy) * w * s + x * s) * 3..][..s * 3];
                for px in row.chunks_exact(3) {
                    for (acc, &c) in sum.iter_mut().zip(px) {
                        *acc += u32::from(c);
                    }
                }
            }
            out.extend(sum.map(|c| ((c + n / 2) / n) as u8));
        }
    }
    out
}

/// Renders one frame with a throwaway [`Renderer`]. Use a [`Renderer`] across frames to reuse the
/// static layer.
pub fn render(world: &World, camera: &Camera) -> Frame {
    Renderer::new(camera.clone()).render(world)
}

/// The body each ray of the raster hit, reduced to one label per pixel: the body most of the
/// pixel's `samples` x `samples` rays hit, the smallest [`BodyId`] on a tie ([`NO_BODY`], the
/// background, is the largest label). One ray per pixel: the raster itself.
fn downsample_labels(ids: Vec<u32>, camera: &Camera) -> Vec<u32> {
    let s = camera.samples;
    if s == 1 {
        return ids;
    }
    let (w, h) = (camera.width, camera.height);
    let mut out = Vec::with_capacity(w * h);
    let mut block = Vec::with_capacity(s * s);
    for y in 0..h {
        for x in 0..w {
            block.clear();
            for sy in 0..s {
                block.extend_from_slice(&ids[(y * s + sy) * w * s + x * s..][..s]);
            }
            block.sort_unstable();
            // The longest run of equal labels in sorted order; the first such run on a tie.
            let (mut best, mut best_len, mut i) = (block[0], 0, 0);
            while i < block.len() {
                let run = block[i..].iter().take_while(|&&v| v == block[i]).count();
                if run > best_len {
                    (best, best_len) = (block[i], run);
                }
                i += run;
            }
            out.push(best);
        }
    }
    out
}

/// The picture of the fixed bodies of one world: colour, ray length and body per pixel.
struct StaticLayer {
    key: u64,
    rgb: Vec<u8>,
    depth: Vec<f32>,
    ids: Vec<u32>,
}

/// A collider to trace, with the pixel rectangle outside which its rays cannot hit it.
struct Target<'a> {
    collider: &'a Collider,
    id: BodyId,
    color: Rgb,
    xs: std::ops::Range<usize>,
    ys: std::ops::Range<usize>,
}

/// A camera with its precomputed rays and a cache of the static layer.
pub struct Renderer {
    camera: Camera,
    /// The camera of the rays ([`Camera::ray_camera`]): what is traced, before [`downsample`].
    raster: Camera,
    basis: Basis,
    dirs: Vec<Vector>,
    layer: Option<StaticLayer>,
}

impl Renderer {
    /// A renderer for this camera.
    pub fn new(camera: Camera) -> Self {
        let raster = camera.ray_camera();
        Self {
            basis: raster.basis(),
            dirs: raster.ray_directions(),
            raster,
            camera,
            layer: None,
        }
    }

    /// The camera it renders with.
    pub fn camera(&self) -> &Camera {
        &self.camera
    }

    /// Renders the world as it is now.
    pub fn render(&mut self, world: &World) -> Frame {
        self.render_hiding(world, &[])
    }

    /// Renders the world as if the `hidden` bodies were not there: the picture of the same world
    /// without them, used to measure how much of a body is in view.
    pub fn render_hiding(&mut self, world: &World, hidden: &[BodyId]) -> Frame {
        let (rgb, _) = self.draw(world, hidden);
        Frame {
            width: self.camera.width,
            height: self.camera.height,
            data: downsample(rgb, &self.camera),
        }
    }

    /// Renders the world as it is now, with the body each pixel shows: row-major `height *
    /// width` labels, each a [`BodyId`]'s index or [`NO_BODY`] (see [`downsample_labels`] for
    /// a supersampled camera). The frame is the one [`Renderer::render`] gives.
    pub fn render_labelled(&mut self, world: &World) -> (Frame, Vec<u32>) {
        self.render_labelled_hiding(world, &[])
    }

    /// [`Renderer::render_labelled`] as if the `hidden` bodies were not there.
    pub fn render_labelled_hiding(
        &mut self,
        world: &World,
        hidden: &[BodyId],
    ) -> (Frame, Vec<u32>) {
        let (rgb, ids) = self.draw(world, hidden);
        let frame = Frame {
            width: self.camera.width,
            height: self.camera.height,
            data: downsample(rgb, &self.camera),
        };
        (frame, downsample_labels(ids, &self.camera))
    }

    /// The raster's colours and body labels, without the `hidden` bodies.
    fn draw(&mut self, world: &World, hidden: &[BodyId]) -> (Vec<u8>, Vec<u32>) {
        let hides_fixed = hidden.iter().any(|&id| world.kind(id) == BodyKind::Fixed);
        let fresh;
        let layer = if hides_fixed {
            fresh = self.trace_static(world, hidden);
            &fresh
        } else {
            if self
                .layer
                .as_ref()
                .is_none_or(|l| l.key != world.static_key())
            {
                self.layer = Some(self.trace_static(world, &[]));
            }
            self.layer.as_ref().expect("static layer was just built")
        };
        let mut rgb = layer.rgb.clone();
        let mut depth = layer.depth.clone();
        let mut ids = layer.ids.clone();
        let targets = self.targets(world, |id, kind| {
            kind != BodyKind::Fixed && !hidden.contains(&id)
        });
        self.trace(&targets, &mut rgb, &mut depth, &mut ids);
        (rgb, ids)
    }

    fn trace_static(&self, world: &World, hidden: &[BodyId]) -> StaticLayer {
        let n = self.dirs.len();
        let background = self.raster.background.to_u8();
        let mut rgb: Vec<u8> = background.iter().copied().cycle().take(n * 3).collect();
        let mut depth = vec![f32::MAX; n];
        let mut ids = vec![NO_BODY; n];
        let targets = self.targets(world, |id, kind| {
            kind == BodyKind::Fixed && !hidden.contains(&id)
        });
        self.trace(&targets, &mut rgb, &mut depth, &mut ids);
        StaticLayer {
            key: world.static_key(),
            rgb,
            depth,
            ids,
        }
    }

    /// The colliders kept by `keep` with the pixel rectangles their bounding boxes cover.
    fn targets<'w>(
        &self,
        world: &'w World,
        keep: impl Fn(BodyId, BodyKind) -> bool,
    ) -> Vec<Target<'w>> {
        let (w, h) = (self.raster.width, self.raster.height);
        world
            .colliders()
            .filter(|(id, kind, _)| keep(*id, *kind))
            .filter_map(|(id, _, collider)| {
                let (xs, ys) = self.screen_rect(collider)?;
                Some(Target {
                    collider,
                    id,
                    color: Rgb::from_user_data(collider.user_data),
                    xs: xs.start.min(w)..xs.end.min(w),
                    ys: ys.start.min(h)..ys.end.min(h),
                })
            })
            .collect()
    }

    /// The pixels whose centre rays may hit the collider: the bounding rectangle of its bounding
    /// box's projected corners, widened by one pixel against rounding. The whole image when a
    /// corner is behind the camera; `None` when the box is off screen.
    #[allow(clippy::type_complexity)]
    fn screen_rect(
        &self,
        collider: &Collider,
    ) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
        let (w, h) = (self.raster.width, self.raster.height);
        let aabb = collider.compute_aabb();
        let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
        for corner in aabb.vertices() {
            let Some(p) = project_with(&self.basis, w, h, corner) else {
                return Some((0..w, 0..h));
            };
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        // Pixel i's centre is i + 0.5: it lies in [lo, hi] for i in [lo - 0.5, hi - 0.5].
        let range = |lo: f32, hi: f32, n: usize| {
            let a = (lo - 1.5).ceil().max(0.0);
            let b = (hi + 0.5).floor() + 1.0;
            (b > 0.0 && a < n as f32).then(|| a as usize..(b as usize).min(n))
        };
        Some((range(lo[0], hi[0], w)?, range(lo[1], hi[1], h)?))
    }

    /// Casts each target's rays, keeping per pixel the nearest hit so far and its body.
    fn trace(&self, targets: &[Target<'_>], rgb: &mut [u8], depth: &mut [f32], ids: &mut [u32]) {
        if targets.is_empty() {
            return;
        }
        let w = self.raster.width;
        let rows_per_task = PIXELS_PER_TASK.div_ceil(w).max(1);
        rgb.par_chunks_mut(w * 3)
            .zip(depth.par_chunks_mut(w))
            .zip(ids.par_chunks_mut(w))
            .enumerate()
            .with_min_len(rows_per_task)
            .for_each(|(y, ((rgb_row, depth_row), id_row))| {
                for t in targets.iter().filter(|t| t.ys.contains(&y)) {
                    let shape = t.collider.shape();
                    let pose = t.collider.position();
                    for x in t.xs.clone() {
                        let ray = Ray::new(self.basis.eye, self.dirs[y * w + x]);
                        if let Some(hit) =
                            shape.cast_ray_and_get_normal(pose, &ray, depth_row[x], true)
                        {
                            depth_row[x] = hit.time_of_impact;
                            id_row[x] = t.id.0;
                            rgb_row[x * 3..x * 3 + 3].copy_from_slice(&shade(t.color, hit.normal));
                        }
                    }
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{BodyDesc, ShapeDesc};

    const BG: Rgb = Rgb::new(0.1, 0.2, 0.3);

    fn camera() -> Camera {
        Camera::new([0.0, 1.0, 5.0], [0.0, 0.5, 0.0], 45.0, BG)
    }

    fn sphere_world(center: [f32; 3]) -> World {
        let mut w = World::new();
        let mut ball = BodyDesc::new(
            BodyKind::Kinematic,
            ShapeDesc::Ball { radius: 0.3 },
            center,
            Rgb::new(0.9, 0.1, 0.1),
        );
        ball.linvel = [0.0; 3];
        w.add_body(&ball);
        w
    }

    #[test]
    fn a_sphere_shows_up_where_the_camera_projects_it() {
        for center in [[0.0, 0.5, 0.0], [0.8, 1.1, -0.5], [-1.2, 0.2, 1.0]] {
            let cam = camera();
            let frame = render(&sphere_world(center), &cam);
            let bg = BG.to_u8();
            let (mut sx, mut sy, mut n) = (0.0f64, 0.0f64, 0usize);
            for y in 0..frame.height {
                for x in 0..frame.width {
                    if frame.pixel(x, y) != bg {
                        sx += x as f64 + 0.5;
                        sy += y as f64 + 0.5;
                        n += 1;
                    }
                }
            }
            assert!(n > 20, "sphere at {center:?} covers only {n} pixels");
            let p = cam.project(center).unwrap();
            let (cx, cy) = (sx / n as f64, sy / n as f64);
            let err = ((cx - p[0] as f64).powi(2) + (cy - p[1] as f64).powi(2)).sqrt();
            assert!(
                err < 1.5,
                "centroid ({cx}, {cy}) vs projection {p:?}: {err} px"
            );
        }
    }

    #[test]
    fn a_ray_that_hits_nothing_gets_the_background() {
        let frame = render(&World::new(), &camera());
        assert!(frame.data.chunks(3).all(|p| p == BG.to_u8()));
        // And with a sphere in view, the corners still see nothing.
        let frame = render(&sphere_world([0.0, 0.5, 0.0]), &camera());
        assert_eq!(frame.pixel(0, 0), BG.to_u8());
        assert_eq!(frame.pixel(63, 63), BG.to_u8());
    }

    #[test]
    fn size_and_channel_order() {
        let cam = camera().with_size(48, 20).unwrap();
        let frame = render(&sphere_world([0.0, 0.5, 0.0]), &cam);
        assert_eq!((frame.width, frame.height), (48, 20));
        assert_eq!(frame.data.len(), 48 * 20 * 3);
        // The sphere is pure-ish red: at the image centre red dominates, in R, G, B order.
        let [r, g, b] = frame.pixel(24, 10);
        assert!(r > 3 * g.max(b) && r > 100, "centre pixel {:?}", [r, g, b]);
        // The background is (0.1, 0.2, 0.3): blue brightest, red darkest.
        assert_eq!(frame.pixel(0, 0), [26, 51, 77]);
        assert!(camera().with_size(15, 64).is_err());
        assert!(camera().with_size(64, 513).is_err());
        assert!(camera().with_size(16, 512).is_ok());
        assert!(camera().with_samples(0).is_err());
        assert!(camera().with_samples(9).is_err());
        assert_eq!(camera().with_samples(8).unwrap().samples, 8);
    }

    #[test]
    fn supersampling_averages_the_rays_of_each_pixel() {
        let w = sphere_world([0.1, 0.6, 0.0]);
        let one = camera().with_size(32, 32).unwrap();
        let four = one.clone().with_samples(4).unwrap();
        let frame = Renderer::new(four.clone()).render(&w);
        assert_eq!(
            (frame.width, frame.height, frame.data.len()),
            (32, 32, 32 * 32 * 3)
        );
        // Pixel (x, y) is the rounded mean of the raster's 4 x 4 block.
        let raster = render(&w, &one.ray_camera_of(4));
        for (x, y) in [(0, 0), (16, 14), (13, 17), (20, 11)] {
            let mut sum = [0u32; 3];
            for sy in 0..4 {
                for sx in 0..4 {
                    let p = raster.pixel(x * 4 + sx, y * 4 + sy);
                    (0..3).for_each(|c| sum[c] += u32::from(p[c]));
                }
            }
            assert_eq!(
                frame.pixel(x, y),
                sum.map(|c| ((c + 8) / 16) as u8),
                "({x}, {y})"
            );
        }
        // The sphere's rim blends it with the background: colours no single ray produces.
        let plain = render(&w, &one);
        let palette: std::collections::HashSet<[u8; 3]> =
            plain.data.chunks(3).map(|p| [p[0], p[1], p[2]]).collect();
        let blended = frame
            .data
            .chunks(3)
            .filter(|p| !palette.contains(&[p[0], p[1], p[2]]))
            .count();
        assert!(blended > 10, "only {blended} blended pixels");
    }

    #[test]
    fn supersampling_shows_a_move_of_a_fraction_of_a_pixel() {
        // A pixel is about 0.13 m at this distance; a box (flat faces: one shade per face)
        // moves 2 mm (a 65th of a pixel) per step. The red-weighted centroid of the
        // supersampled picture follows most steps (an edge crosses a column of rays every eighth
        // of a pixel), never going back; the one-ray picture mostly does not change.
        let one = camera().with_size(32, 32).unwrap();
        let eight = one.clone().with_samples(8).unwrap();
        let box_at = |x: f32| {
            let mut w = World::new();
            let mut b = BodyDesc::new(
                BodyKind::Kinematic,
                ShapeDesc::Cuboid {
                    half: [0.3, 0.2, 0.3],
                },
                [x, 0.6, 0.0],
                Rgb::new(0.9, 0.1, 0.1),
            );
            b.linvel = [0.0; 3];
            w.add_body(&b);
            w
        };
        let frames = |cam: &Camera| -> Vec<Frame> {
            (0..11)
                .map(|i| render(&box_at(0.002 * i as f32), cam))
                .collect()
        };
        let centroid = |f: &Frame| {
            let (mut sx, mut s) = (0f64, 0f64);
            for y in 0..f.height {
                for x in 0..f.width {
                    let r = f64::from(f.pixel(x, y)[0]);
                    sx += r * (x as f64 + 0.5);
                    s += r;
                }
            }
            sx / s
        };
        let fine: Vec<f64> = frames(&eight).iter().map(centroid).collect();
        let rises = fine.windows(2).filter(|c| c[1] > c[0]).count();
        assert!(
            fine.windows(2).all(|c| c[1] >= c[0]) && rises >= 6,
            "centroids {fine:?}"
        );
        let coarse = frames(&one);
        let still = coarse.windows(2).filter(|f| f[0] == f[1]).count();
        assert!(
            still >= 7,
            "the one-ray picture changed in {} of 10 moves",
            10 - still
        );
    }

    /// A fixed floor, a ball and a box the ball partly hides, at hand-placed poses.
    fn labelled_world() -> (World, [BodyId; 3]) {
        let mut w = World::new();
        let floor = w.add_body(&BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [3.0, 0.1, 3.0],
            },
            [0.0, -0.2, 0.0],
            Rgb::new(0.5, 0.5, 0.5),
        ));
        let mut ball = BodyDesc::new(
            BodyKind::Kinematic,
            ShapeDesc::Ball { radius: 0.35 },
            [0.2, 0.5, 1.0],
            Rgb::new(0.9, 0.1, 0.1),
        );
        ball.linvel = [0.0; 3];
        let ball = w.add_body(&ball);
        let mut block = BodyDesc::new(
            BodyKind::Kinematic,
            ShapeDesc::Cuboid {
                half: [0.4, 0.3, 0.3],
            },
            [-0.3, 0.4, 0.0],
            Rgb::new(0.1, 0.8, 0.2),
        );
        block.linvel = [0.0; 3];
        let block = w.add_body(&block);
        (w, [floor, ball, block])
    }

    #[test]
    fn each_pixel_is_labelled_with_the_body_hiding_it_would_take_away() {
        let (w, [floor, ball, block]) = labelled_world();
        let cam = camera().with_size(48, 48).unwrap();
        let mut r = Renderer::new(cam.clone());
        let (frame, labels) = r.render_labelled(&w);
        assert_eq!(frame, render(&w, &cam), "the labelled frame is the frame");
        assert_eq!(labels.len(), 48 * 48);
        for id in [ball, block] {
            let without = r.render_hiding(&w, &[id]);
            let changed: Vec<bool> = frame
                .data
                .chunks(3)
                .zip(without.data.chunks(3))
                .map(|(a, b)| a != b)
                .collect();
            let labelled: Vec<bool> = labels.iter().map(|&l| l == id.0).collect();
            assert!(labelled.iter().filter(|&&b| b).count() > 30, "{id:?}");
            assert_eq!(labelled, changed, "{id:?}: labels and hiding disagree");
        }
        // The rest is floor or background, told apart by the floor's colour.
        for (p, &l) in labels.iter().enumerate() {
            let shown = frame.pixel(p % 48, p / 48);
            if l == NO_BODY {
                assert_eq!(shown, BG.to_u8(), "pixel {p}");
            } else if l != ball.0 && l != block.0 {
                assert_eq!(l, floor.0, "pixel {p}");
                assert_ne!(shown, BG.to_u8(), "pixel {p}");
            }
        }
        assert!(labels.contains(&floor.0) && labels.contains(&NO_BODY));
    }

    #[test]
    fn a_supersampled_pixel_takes_the_label_most_of_its_rays_hit() {
        let (w, _) = labelled_world();
        let cam = camera().with_size(24, 24).unwrap();
        let (_, labels) = Renderer::new(cam.clone().with_samples(3).unwrap()).render_labelled(&w);
        let (_, rays) = Renderer::new(cam.ray_camera_of(3)).render_labelled(&w);
        let mut mixed = 0;
        for y in 0..24 {
            for x in 0..24 {
                let mut count = std::collections::BTreeMap::new();
                for sy in 0..3 {
                    for sx in 0..3 {
                        *count
                            .entry(rays[(y * 3 + sy) * 72 + x * 3 + sx])
                            .or_insert(0) += 1;
                    }
                }
                mixed += usize::from(count.len() > 1);
                let most = *count.values().max().unwrap();
                let first = count.iter().find(|(_, n)| **n == most).unwrap().0;
                assert_eq!(labels[y * 24 + x], *first, "({x}, {y}): rays {count:?}");
            }
        }
        assert!(mixed > 10, "only {mixed} pixels straddle an edge");
        // Ties go to the smaller label, and the background is the largest.
        let mut one = camera();
        (one.width, one.height, one.samples) = (2, 2, 2);
        assert_eq!(
            downsample_labels(
                vec![
                    7, 3, NO_BODY, 2, 3, 7, NO_BODY, 2, 5, 5, 5, 1, 9, 9, NO_BODY, NO_BODY
                ],
                &one
            ),
            [3, 2, 5, NO_BODY]
        );
    }

    #[test]
    fn static_cache_follows_the_fixed_bodies() {
        let cam = camera();
        let mut r = Renderer::new(cam.clone());
        let mut w = sphere_world([0.0, 0.5, 0.0]);
        let before = r.render(&w);
        w.add_body(&BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [3.0, 0.1, 3.0],
            },
            [0.0, -0.2, 0.0],
            Rgb::new(0.5, 0.5, 0.5),
        ));
        let after = r.render(&w);
        assert_ne!(before, after, "a new fixed floor must appear");
        assert_eq!(after, render(&w, &cam));
    }
}
