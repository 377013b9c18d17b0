//! How far must a body move before a model's distance to the goal notices? The planning
//! objective can only stop the cart where the distance between encodings ranks a cart 5 cm from
//! its goal (the task's tolerance) above one 10 or 20 cm away, and it weighs the pusher, which
//! the goal image shows too, against the cart. For starts of the cart platform (everything at
//! rest), the cart, then the pusher, is moved by d along x (across the picture) and along z
//! (towards the camera, which sees the platform from a shallow angle), the other body left where
//! it was, and the distances between the encodings of the moved and the unmoved frames (mean
//! over the latent's entries, as planning scores them: L2 and L1) are printed beside the pixel
//! L2, averaged over starts and over the two directions.
//! `cargo run --release -p moravec-agents --example latent_resolution -- CHECKPOINT [STARTS] [SAMPLES]`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use candle_core::{Device, Tensor};
use moravec_agents::models::WorldModel;
use moravec_agents::planning::frames_tensor;
use moravec_agents::train::load_checkpoint;
use moravec_sim::Raster;
use moravec_sim::env::{EnvSnapshot, Environment, Scene, SceneEnv};
use moravec_sim::render::Frame;
use moravec_sim::scene::CartPlatform;
use moravec_sim::world::{BodyId, DT};

/// Displacements probed, metres.
const MOVES: [f32; 9] = [0.0, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3];

/// Sums over starts of what one displacement did.
#[derive(Clone, Copy, Default)]
struct Cell {
    moved: f64,
    latent_l2: f64,
    latent_l1: f64,
    pixels: f64,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(checkpoint) = args.next().map(PathBuf::from) else {
        bail!("usage: latent_resolution CHECKPOINT [STARTS] [SAMPLES]");
    };
    let starts: u64 = match args.next() {
        Some(n) => n
            .parse()
            .with_context(|| format!("STARTS {n}: expected a count"))?,
        None => 20,
    };
    let samples: usize = match args.next() {
        Some(n) => n
            .parse()
            .with_context(|| format!("SAMPLES {n}: expected 1 to 8"))?,
        None => 1,
    };
    let device = Device::Cpu;
    let built = load_checkpoint(&checkpoint, &device)
        .with_context(|| format!("cannot load {}", checkpoint.display()))?;
    let model = &*built.model;
    let raster = Raster::new(built.config.size, samples)?;
    // [body][axis][move]
    let mut cells = [[[Cell::default(); MOVES.len()]; 2]; 2];
    for seed in 0..starts {
        let mut env = SceneEnv::<CartPlatform>::new(raster)?;
        env.reset(1000 + seed);
        let cart = env.scene().cart();
        let pusher = env.scene().pusher().expect("a pusher");
        // Kinematic, the cart goes exactly where its velocity takes it in one step.
        env.world_mut().make_kinematic(cart);
        let start = env.snapshot();
        let base_frame = env.observe().frame;
        let base = model.targets(&frames_tensor(&[&base_frame], &device)?)?;
        let probe = Probe {
            model,
            device: &device,
            start: &start,
            base: &base,
            base_frame: &base_frame,
        };
        for (which, (body, other)) in [(cart, pusher), (pusher, cart)].into_iter().enumerate() {
            for (axis, dim) in [0usize, 2].into_iter().enumerate() {
                for (k, &d) in MOVES.iter().enumerate() {
                    for sign in [1.0, -1.0] {
                        let got = probe.moved(&mut env, body, other, dim, sign * d)?;
                        let cell = &mut cells[which][axis][k];
                        cell.moved += got.moved;
                        cell.latent_l2 += got.latent_l2;
                        cell.latent_l1 += got.latent_l1;
                        cell.pixels += got.pixels;
                    }
                }
            }
        }
    }
    let n = 2.0 * starts as f64;
    println!(
        "{} at {}x{} ({} ray(s) per pixel side), {starts} starts: mean distance to the unmoved frame",
        model.name(),
        raster.size,
        raster.size,
        raster.samples
    );
    for (which, body) in ["cart", "pusher"].iter().enumerate() {
        for (axis, name) in ["x (across)", "z (depth)"].iter().enumerate() {
            println!("  {body} along {name}");
            for cell in &cells[which][axis] {
                println!(
                    "    moved {:6.3} m   latent L2 {:9.6}   latent L1 {:9.6}   pixel L2 {:9.6}",
                    cell.moved / n,
                    cell.latent_l2 / n,
                    cell.latent_l1 / n,
                    cell.pixels / n
                );
            }
        }
    }
    Ok(())
}

/// One start and its encoding.
struct Probe<'a> {
    model: &'a dyn WorldModel,
    device: &'a Device,
    start: &'a EnvSnapshot<CartPlatform>,
    base: &'a Tensor,
    base_frame: &'a Frame,
}

impl Probe<'_> {
    /// The start with `body` moved by `d` along axis `dim` (`other` held still).
    fn moved(
        &self,
        env: &mut SceneEnv<CartPlatform>,
        body: BodyId,
        other: BodyId,
        dim: usize,
        d: f32,
    ) -> anyhow::Result<Cell> {
        env.restore(self.start);
        let from = env.world().position(body);
        let mut v = [0f32; 3];
        v[dim] = d / DT;
        env.world_mut().set_linvel(body, v);
        env.world_mut().set_linvel(other, [0.0; 3]);
        env.world_mut().step();
        let to = env.world().position(body);
        let frame = env.observe().frame;
        let z = self
            .model
            .targets(&frames_tensor(&[&frame], self.device)?)?;
        let diff = (z - self.base)?;
        let pixels = frame
            .data
            .iter()
            .zip(&self.base_frame.data)
            .map(|(&a, &b)| ((f32::from(a) - f32::from(b)) / 255.0).powi(2))
            .sum::<f32>()
            / frame.data.len() as f32;
        Ok(Cell {
            moved: f64::from((to[dim] - from[dim]).abs()),
            latent_l2: f64::from(diff.sqr()?.mean_all()?.to_scalar::<f32>()?),
            latent_l1: f64::from(diff.abs()?.mean_all()?.to_scalar::<f32>()?),
            pixels: f64::from(pixels),
        })
    }
}
