//! `bench preview`: an animated GIF of one episode, or of a VoE set side by side (possible movies
//! framed green, impossible ones red; a strip at the bottom shows time, the violation frame
//! marked in yellow), for people to check by eye what a scene or a violation looks like.

use std::path::Path;

use anyhow::ensure;
use moravec_bench::files;
use moravec_sim::episode::generate_episode;
use moravec_sim::voe::{Kind, SetRequest, generate_set, set_seed};
use moravec_sim::{EpisodeKey, Raster, scene};

use crate::cli::PreviewArgs;

/// Border around each panel of a VoE preview, in output pixels.
const BORDER: usize = 3;
/// Height of the time strip under a VoE preview, in output pixels.
const STRIP: usize = 6;
const GREEN: [u8; 3] = [40, 200, 70];
const RED: [u8; 3] = [220, 40, 40];

/// One movie to show, with the colour of its frame.
struct Panel<'a> {
    frames: &'a [u8],
    border: Option<[u8; 3]>,
}

/// Runs `bench preview`.
pub fn run(args: &PreviewArgs) -> anyhow::Result<()> {
    ensure!(
        (1..=8).contains(&args.scale),
        "--scale {} is out of range: expected 1 to 8",
        args.scale
    );
    if args.voe {
        return voe(args);
    }
    let spec = scene::find(args.scene.as_deref().expect("clap requires --scene"))?;
    let frames = args.frames.unwrap_or(90);
    let key = EpisodeKey {
        seed: args.seed,
        scene: spec.name,
        split: args.split,
        index: args.episode,
    };
    let episode = generate_episode(spec, &key, frames, Raster::new(args.size, args.samples)?)?;
    let panels = [Panel {
        frames: &episode.frames,
        border: None,
    }];
    write_gif(&args.out, &panels, 1, frames, args.size, args.scale, None)?;
    println!(
        "{}: {} episode {} ({frames} frames, {}x{} shown {}x larger)",
        args.out.display(),
        spec.name,
        args.episode,
        args.size,
        args.size,
        args.scale
    );
    Ok(())
}

/// `bench preview --voe`: one set of a property and condition.
fn voe(args: &PreviewArgs) -> anyhow::Result<()> {
    let property = args.property.expect("clap requires --property");
    let condition = args.condition.expect("clap requires --condition");
    let frames = args.frames.unwrap_or(moravec_sim::voe::DEFAULT_FRAMES);
    let request = SetRequest {
        property,
        condition,
        seed: set_seed(args.seed, property, condition, args.episode),
        index: args.episode,
        frames,
        size: args.size,
    };
    let set = generate_set(&request)?;
    let panels: Vec<Panel<'_>> = set
        .members
        .iter()
        .map(|m| Panel {
            frames: &m.episode.frames,
            border: Some(if m.possible { GREEN } else { RED }),
        })
        .collect();
    write_gif(
        &args.out,
        &panels,
        2,
        frames,
        args.size,
        args.scale,
        Some(set.violation_frame),
    )?;
    let layout = match set.kind {
        Kind::Quadruplet => "top: possible A, B; bottom: impossible C (B's motion), D (A's)",
        Kind::Pair => "left: possible; right: impossible",
    };
    println!(
        "{}: {property} {condition} set {} ({layout}); violation at frame {}, hidden {} frames, object share {:.1}%",
        args.out.display(),
        args.episode,
        set.violation_frame,
        set.occlusion_frames,
        100.0 * set.object_share
    );
    Ok(())
}

/// Writes panels in a grid of `cols` columns as an animated GIF (atomically).
fn write_gif(
    out: &Path,
    panels: &[Panel<'_>],
    cols: usize,
    frames: usize,
    size: usize,
    scale: usize,
    violation: Option<usize>,
) -> anyhow::Result<()> {
    let framed = panels.iter().any(|p| p.border.is_some());
    let border = if framed { BORDER } else { 0 };
    let cell = size * scale + 2 * border;
    let rows = panels.len().div_ceil(cols);
    let width = cell * cols.min(panels.len());
    let strip = if violation.is_some() { STRIP } else { 0 };
    let height = cell * rows + strip;
    let frame_len = size * size * 3;
    files::write_gif(out, width, height, frames, &mut |t| {
        let mut canvas = vec![0u8; width * height * 3];
        for (k, panel) in panels.iter().enumerate() {
            let (ox, oy) = ((k % cols) * cell, (k / cols) * cell);
            let rgb = &panel.frames[t * frame_len..(t + 1) * frame_len];
            for y in 0..cell {
                for x in 0..cell {
                    let inner = (border..cell - border).contains(&x)
                        && (border..cell - border).contains(&y);
                    let px = if inner {
                        let (sx, sy) = ((x - border) / scale, (y - border) / scale);
                        let i = (sy * size + sx) * 3;
                        [rgb[i], rgb[i + 1], rgb[i + 2]]
                    } else {
                        panel.border.unwrap_or([0; 3])
                    };
                    let o = ((oy + y) * width + ox + x) * 3;
                    canvas[o..o + 3].copy_from_slice(&px);
                }
            }
        }
        if let Some(v) = violation {
            // Time so far in grey, the violation frame in yellow.
            let at = |f: usize| f * width / frames;
            for y in cell * rows..height {
                for x in 0..width {
                    let px = if x >= at(v) && x < at(v + 1).max(at(v) + 2) {
                        [250, 220, 40]
                    } else if x <= at(t) {
                        [150, 150, 150]
                    } else {
                        [30, 30, 30]
                    };
                    let o = (y * width + x) * 3;
                    canvas[o..o + 3].copy_from_slice(&px);
                }
            }
        }
        canvas
    })?;
    Ok(())
}
