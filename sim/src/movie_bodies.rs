//! A movie's bodies: every body of the world (floors and screens too, not only the tracked
//! slots a dataset keeps), its shape and colour, and its pose in every frame.
//!
//! A 3D replay needs what the datasets leave out: the untracked bodies, and for a VoE movie
//! spliced from two worlds (IntPhys's C = A[..t] + B[t..]) the bodies of both, each shown only
//! in the frames that come from its world. [`MovieBodies`] holds exactly that, in plain data, so
//! that a viewer can replay any movie without knowing how it was made.

use crate::color::Rgb;
use crate::world::{BodyKind, ShapeDesc, World};

/// Position `[x, y, z]` then orientation quaternion `[x, y, z, w]`.
pub type Pose = [f32; 7];

/// One body of a movie: how it looks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MovieBody {
    /// Its collision shape (what the renderer draws).
    pub shape: ShapeDesc,
    /// Its colour in the renderer.
    pub color: Rgb,
    /// How it moved in its world.
    pub kind: BodyKind,
}

/// Every body of a movie and its pose per frame (`None`: not in that frame's world).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MovieBodies {
    bodies: Vec<MovieBody>,
    /// `[frames, bodies]`, row-major.
    poses: Vec<Option<Pose>>,
}

impl MovieBodies {
    /// The bodies of `world`, with no frame yet.
    pub fn of_world(world: &World) -> Self {
        Self {
            bodies: world
                .body_ids()
                .map(|id| MovieBody {
                    shape: world.shape(id),
                    color: world.color(id),
                    kind: world.kind(id),
                })
                .collect(),
            poses: Vec::new(),
        }
    }

    /// Appends a frame: the pose of every body of `world`, which must be the world these
    /// bodies were taken from (same bodies in the same order).
    pub fn record(&mut self, world: &World) {
        assert_eq!(
            world.len(),
            self.bodies.len(),
            "movie bodies record the world they were taken from"
        );
        self.poses.extend(world.body_ids().map(|id| {
            let s = world.body_state(id);
            Some([s[0], s[1], s[2], s[3], s[4], s[5], s[6]])
        }));
    }

    /// The bodies, in order.
    pub fn all(&self) -> &[MovieBody] {
        &self.bodies
    }

    /// Number of frames recorded.
    pub fn frames(&self) -> usize {
        if self.bodies.is_empty() {
            0
        } else {
            self.poses.len() / self.bodies.len()
        }
    }

    /// Pose of body `body` in frame `t`, or `None` where it is not part of that frame.
    pub fn pose(&self, t: usize, body: usize) -> Option<Pose> {
        assert!(t < self.frames() && body < self.bodies.len());
        self.poses[t * self.bodies.len() + body]
    }

    /// The movie `first[..t] + second[t..]`: the bodies of both, those of `first` shown in the
    /// frames before `t`, those of `second` from `t` on.
    pub fn splice(first: &MovieBodies, second: &MovieBodies, t: usize) -> MovieBodies {
        let frames = first.frames();
        assert_eq!(frames, second.frames(), "spliced movies have one length");
        assert!(t <= frames);
        let (n1, n2) = (first.bodies.len(), second.bodies.len());
        let mut poses = Vec::with_capacity(frames * (n1 + n2));
        for f in 0..frames {
            let a = &first.poses[f * n1..(f + 1) * n1];
            let b = &second.poses[f * n2..(f + 1) * n2];
            if f < t {
                poses.extend_from_slice(a);
                poses.extend(std::iter::repeat_n(None, n2));
            } else {
                poses.extend(std::iter::repeat_n(None, n1));
                poses.extend_from_slice(b);
            }
        }
        MovieBodies {
            bodies: [first.bodies.as_slice(), second.bodies.as_slice()].concat(),
            poses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{BodyDesc, BodyKind};

    fn ball_world(x: f32) -> World {
        let mut w = World::new();
        w.add_body(&BodyDesc::new(
            BodyKind::Dynamic,
            ShapeDesc::Ball { radius: 0.1 },
            [x, 1.0, 0.0],
            Rgb([1.0, 0.0, 0.0]),
        ));
        w
    }

    #[test]
    fn records_every_body_each_frame() {
        let mut w = ball_world(0.0);
        let mut bodies = MovieBodies::of_world(&w);
        for _ in 0..3 {
            bodies.record(&w);
            w.step();
        }
        assert_eq!(bodies.frames(), 3);
        assert_eq!(bodies.all().len(), 1);
        let (y0, y2) = (bodies.pose(0, 0).unwrap()[1], bodies.pose(2, 0).unwrap()[1]);
        assert!(y2 < y0, "the ball falls: {y0} -> {y2}");
    }

    #[test]
    fn splice_shows_each_world_on_its_side_of_the_cut() {
        let record = |x| {
            let w = ball_world(x);
            let mut s = MovieBodies::of_world(&w);
            for _ in 0..4 {
                s.record(&w);
            }
            s
        };
        let (a, b) = (record(-1.0), record(1.0));
        let c = MovieBodies::splice(&a, &b, 2);
        assert_eq!(c.all().len(), 2);
        assert_eq!(c.frames(), 4);
        assert_eq!(c.pose(1, 0).unwrap()[0], -1.0);
        assert_eq!(c.pose(1, 1), None);
        assert_eq!(c.pose(2, 0), None);
        assert_eq!(c.pose(2, 1).unwrap()[0], 1.0);
    }
}
