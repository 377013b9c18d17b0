//! `bench preview`: an animated GIF of one episode, to look at a scene.

use std::fs::File;
use std::io::BufWriter;

use anyhow::{Context, ensure};
use moravec_sim::episode::generate_episode;
use moravec_sim::{EpisodeKey, scene};

use crate::cli::PreviewArgs;

/// Runs `bench preview`.
pub fn run(args: &PreviewArgs) -> anyhow::Result<()> {
    let spec = scene::find(&args.scene)?;
    ensure!(
        (1..=8).contains(&args.scale),
        "--scale {} is out of range: expected 1 to 8",
        args.scale
    );
    let key = EpisodeKey {
        seed: args.seed,
        scene: spec.name,
        split: args.split,
        index: args.episode,
    };
    let episode = generate_episode(spec, &key, args.frames, args.size)?;
    let side = args.size * args.scale;
    ensure!(side <= u16::MAX as usize, "GIF side {side} is too large");

    let dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = crate::output::temp_file_in(&dir)?;
    {
        let file = File::create(tmp.path())
            .with_context(|| format!("cannot write {}", tmp.path().display()))?;
        let mut enc = gif::Encoder::new(BufWriter::new(file), side as u16, side as u16, &[])?;
        enc.set_repeat(gif::Repeat::Infinite)?;
        let frame_len = args.size * args.size * 3;
        for rgb in episode.frames.chunks(frame_len) {
            let big = upscale(rgb, args.size, args.scale);
            let mut frame = gif::Frame::from_rgb_speed(side as u16, side as u16, &big, 10);
            // Frames are 1/30 s apart; GIF delays count hundredths.
            frame.delay = 3;
            enc.write_frame(&frame)?;
        }
    }
    tmp.persist(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{}: {} episode {} ({} frames, {}x{} shown at {side}x{side})",
        args.out.display(),
        spec.name,
        args.episode,
        args.frames,
        args.size,
        args.size
    );
    Ok(())
}

/// Nearest-neighbour upscaling of a square RGB image.
fn upscale(rgb: &[u8], size: usize, scale: usize) -> Vec<u8> {
    let side = size * scale;
    let mut out = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        for x in 0..side {
            let i = ((y / scale) * size + x / scale) * 3;
            out.extend_from_slice(&rgb[i..i + 3]);
        }
    }
    out
}
