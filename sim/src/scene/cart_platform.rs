//! `cart_platform`: a cart on a raised platform, a pusher behind it, the platform's edge ahead.
//! Pushed far enough, the cart loses its support and falls to the floor.

use rand_chacha::ChaCha8Rng;

use super::parts::{confine_to_view, floor, pusher, uniform};
use crate::camera::Camera;
use crate::color::{Rgb, random_color, random_grey};
use crate::env::{Outcome, Scene, SceneSpec, drive_pusher, make_env};
use crate::world::{BodyDesc, BodyId, BodyKind, ShapeDesc, World};

/// The registry entry of this scene.
pub static SPEC: SceneSpec = SceneSpec {
    name: "cart_platform",
    description: "a pusher drives a cart along a raised platform; pushed over the edge it falls (support, gravity)",
    action_dim: 2,
    max_action: 1.5,
    slots: &["cart", "pusher"],
    max_steps: 300,
    extent: 12.0,
    max_speed: 60.0,
    make: make_env::<CartPlatform>,
};

/// The scene's state beyond the world: which body is which, and the platform's geometry.
#[derive(Clone, Debug)]
pub struct CartPlatform {
    slots: [Option<BodyId>; 2],
    floor: BodyId,
    cart: BodyId,
    pusher: BodyId,
    platform: BodyId,
    /// Height of the platform's top face.
    top: f32,
    /// x of the platform's right edge.
    edge: f32,
    /// The pusher's allowed region, x and z.
    lo: [f32; 2],
    hi: [f32; 2],
    landed: bool,
}

impl CartPlatform {
    /// The cart.
    pub fn cart(&self) -> BodyId {
        self.cart
    }

    /// The platform.
    pub fn platform(&self) -> BodyId {
        self.platform
    }

    /// The floor.
    pub fn floor(&self) -> BodyId {
        self.floor
    }

    /// x of the platform's right edge, past which the cart loses support.
    pub fn edge(&self) -> f32 {
        self.edge
    }

    /// Height of the platform's top face.
    pub fn top(&self) -> f32 {
        self.top
    }

    /// Where the pusher may go: `(lo, hi)`, each `[x, z]`.
    pub fn pusher_region(&self) -> ([f32; 2], [f32; 2]) {
        (self.lo, self.hi)
    }

    /// Narrows the pusher's region to where the camera sees the whole pusher, and says whether
    /// any of it is left. Only the planning tasks confine the pusher; the training data and the
    /// VoE suite keep the whole platform.
    ///
    /// Why: the camera looks at the platform's edge, where the cart falls, and a long platform's
    /// far end lies outside the picture. A pusher driven there vanishes, and a planner scoring
    /// images against a goal image finds that hiding the pusher is the cheapest way to be rid
    /// of one mismatch: with a perfect model of the scene (the simulator's own frames) it
    /// drove the pusher out of the picture in three of six `reach` episodes and never came
    /// back. A task whose goal is given as an image must keep what it asks for in the image.
    pub fn confine_pusher_to_view(&mut self) -> bool {
        confine_to_view(&Self::camera(), self.top, &mut self.lo, &mut self.hi)
    }
}

impl Scene for CartPlatform {
    fn spec() -> &'static SceneSpec {
        &SPEC
    }

    fn camera() -> Camera {
        Camera::new(
            [0.2, 1.95, 3.2],
            [0.3, 0.78, 0.0],
            50.0,
            Rgb::new(0.08, 0.09, 0.14),
        )
    }

    fn build(rng: &mut ChaCha8Rng) -> (World, Self) {
        let mut world = World::new();
        let floor = floor(&mut world, rng, 8.0, 5.0, 0.6);

        let height = uniform(rng, 0.9, 1.2);
        let (hx, hz) = (uniform(rng, 0.9, 1.25), uniform(rng, 0.55, 0.8));
        let cx = uniform(rng, -0.9, -0.6);
        let platform = BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [hx, height * 0.5, hz],
            },
            [cx, height * 0.5, 0.0],
            random_grey(rng, 0.25, 0.4),
        );
        let platform = world.add_body(&platform);
        let edge = cx + hx;

        let half = [
            uniform(rng, 0.28, 0.38),
            uniform(rng, 0.16, 0.24),
            uniform(rng, 0.2, 0.28),
        ];
        let cart_x = edge - uniform(rng, 0.35, 0.8);
        let cart_z = uniform(rng, -0.3, 0.3) * hz;
        let mut cart = BodyDesc::new(
            BodyKind::Dynamic,
            ShapeDesc::Cuboid { half },
            [cart_x, height + half[1], cart_z],
            random_color(rng),
        );
        cart.density = uniform(rng, 300.0, 1500.0);
        cart.friction = uniform(rng, 0.2, 0.6);
        let cart = world.add_body(&cart);

        let px = cart_x - half[0] - uniform(rng, 0.25, 0.6);
        let pz = cart_z + uniform(rng, -0.12, 0.12);
        let pusher = pusher(&mut world, px, height, pz);
        let lo = [cx - hx + 0.1, -hz + 0.1];
        let hi = [edge + 0.3, hz - 0.1];
        (
            world,
            Self {
                slots: [Some(cart), Some(pusher)],
                floor,
                cart,
                pusher,
                platform,
                top: height,
                edge,
                lo,
                hi,
                landed: false,
            },
        )
    }

    fn slots(&self) -> &[Option<BodyId>] {
        &self.slots
    }

    fn drive(&mut self, world: &mut World, action: &[f32], _frame: u64) {
        drive_pusher(world, self.pusher, action, self.lo, self.hi);
    }

    fn outcome(&mut self, world: &World) -> Outcome {
        let on_floor = world.in_contact(self.cart, self.floor);
        let reward = if on_floor && !self.landed { 1.0 } else { 0.0 };
        self.landed |= on_floor;
        Outcome {
            reward,
            terminated: self.landed,
        }
    }

    fn pusher(&self) -> Option<BodyId> {
        Some(self.pusher)
    }

    fn exploration_target(&self, world: &World) -> Option<[f32; 2]> {
        let p = world.position(self.cart);
        Some([p[0], p[2]])
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::world::{DT, GRAVITY};

    fn build(seed: u64) -> (World, CartPlatform) {
        CartPlatform::build(&mut ChaCha8Rng::seed_from_u64(seed))
    }

    /// Least-squares second derivative of `ys` sampled every `dt`: twice the quadratic coefficient.
    fn fitted_acceleration(ys: &[f64], dt: f64) -> f64 {
        let n = ys.len() as f64;
        let ts: Vec<f64> = (0..ys.len()).map(|i| i as f64 * dt).collect();
        // Normal equations for y = a + b t + c t^2.
        let s = |k: i32| ts.iter().map(|t| t.powi(k)).sum::<f64>();
        let sy = |k: i32| ts.iter().zip(ys).map(|(t, y)| t.powi(k) * y).sum::<f64>();
        let m = [[n, s(1), s(2)], [s(1), s(2), s(3)], [s(2), s(3), s(4)]];
        let r = [sy(0), sy(1), sy(2)];
        let det = |m: [[f64; 3]; 3]| {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        };
        let mut mc = m;
        for i in 0..3 {
            mc[i][2] = r[i];
        }
        2.0 * det(mc) / det(m)
    }

    #[test]
    fn a_cart_leaving_the_edge_falls_with_g() {
        for seed in 0..4 {
            let (mut world, scene) = build(seed);
            world.set_linvel(scene.cart(), [5.0, 0.0, 0.0]);
            let mut free = false;
            let mut ys = Vec::new();
            for _ in 0..240 {
                world.step();
                let touching = world.in_contact(scene.cart(), scene.platform())
                    || world.in_contact(scene.cart(), scene.floor());
                let past_edge = world.aabb(scene.cart()).0[0] > scene.edge();
                if !free && past_edge && !touching {
                    free = true;
                }
                if free {
                    assert!(
                        !touching,
                        "seed {seed}: the cart touched something in flight"
                    );
                    ys.push(world.position(scene.cart())[1] as f64);
                    // 0.3 s of flight: 18 steps after the first free sample.
                    if ys.len() == 19 {
                        break;
                    }
                }
            }
            assert_eq!(ys.len(), 19, "seed {seed}: the cart never flew 0.3 s");
            let a = fitted_acceleration(&ys, DT as f64);
            let rel = (a + GRAVITY as f64).abs() / GRAVITY as f64;
            assert!(
                rel < 0.02,
                "seed {seed}: fitted acceleration {a}, off by {rel}"
            );
        }
    }

    #[test]
    fn a_cart_at_rest_on_the_platform_stays_put() {
        for seed in 0..4 {
            let (mut world, scene) = build(seed);
            let start = world.position(scene.cart());
            for _ in 0..(5.0 / DT) as usize {
                world.step();
            }
            let end = world.position(scene.cart());
            let drift = start
                .iter()
                .zip(end)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f32>()
                .sqrt();
            assert!(drift < 1e-3, "seed {seed}: drifted {drift} m in 5 s");
        }
    }

    #[test]
    fn pushing_the_cart_forward_makes_it_fall_and_land() {
        let (mut world, mut scene) = build(1);
        let mut landed = false;
        for frame in 0..150 {
            scene.drive(&mut world, &[1.2, 0.0], frame);
            world.step();
            world.step();
            landed |= scene.outcome(&world).terminated;
        }
        assert!(landed, "the pushed cart never reached the floor");
        assert!(world.position(scene.cart())[1] < scene.top());
    }
}
