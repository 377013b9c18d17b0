//! A model's surprise curve along a replayed VoE movie, read from a run's `curves.csv`, and its
//! picture: the curve, the violation frame and a cursor at the frame shown. The panel that shows
//! the picture is [`curve_panel`](crate::curve_panel).

use std::path::Path;

use anyhow::{Context, bail};
use moravec_sim::results::CURVES_HEADER;
use moravec_sim::voe::Property;

/// The model tried first when `--model` is not given.
pub const DEFAULT_MODEL: &str = "jepa-vicreg";

/// One model's surprise along one movie: `(first target frame, surprise)` per window.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The model (or control) that was surprised.
    pub model: String,
    /// The windows, in frame order.
    pub points: Vec<(usize, f64)>,
}

impl Curve {
    /// The surprise of the last window that starts predicting at or before frame `t`.
    pub fn at(&self, t: usize) -> Option<f64> {
        self.points
            .iter()
            .take_while(|(f, _)| *f <= t)
            .last()
            .map(|&(_, v)| v)
    }
}

/// The curve of movie `episode` of `property` in the run at `run` (a `results/<run-id>`
/// directory), for `model` (by default [`DEFAULT_MODEL`], else the first model of the file).
pub fn load(
    run: &Path,
    model: Option<&str>,
    property: Property,
    episode: u64,
) -> anyhow::Result<Curve> {
    let path = run.join("curves.csv");
    let mut reader = csv::Reader::from_path(&path).with_context(|| {
        format!(
            "--run {}: cannot read {} (a results directory of `bench run` holds it)",
            run.display(),
            path.display()
        )
    })?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}", path.display()))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header != CURVES_HEADER {
        bail!(
            "{}: columns {header:?}, expected {CURVES_HEADER:?}",
            path.display()
        );
    }
    let mut models: Vec<String> = Vec::new();
    let mut rows: Vec<(String, usize, f64)> = Vec::new();
    let (property, episode) = (property.as_str(), episode.to_string());
    for (line, record) in reader.records().enumerate() {
        let r = record.with_context(|| format!("{} row {}", path.display(), line + 2))?;
        if !models.iter().any(|m| m == &r[1]) {
            models.push(r[1].to_owned());
        }
        if &r[2] == property && r[3] == episode {
            let bad = || format!("{} row {}: {:?}", path.display(), line + 2, r);
            let frame: usize = r[4].parse().with_context(bad)?;
            let surprise: f64 = r[5].parse().with_context(bad)?;
            // A frame past any movie, or a surprise that is no number, is a damaged file.
            if frame > moravec_sim::episode::MAX_FRAMES || !surprise.is_finite() {
                bail!(
                    "{}: frame {frame} and surprise {surprise}, expected a frame up to {} and a \
                     finite surprise",
                    bad(),
                    moravec_sim::episode::MAX_FRAMES
                );
            }
            rows.push((r[1].to_owned(), frame, surprise));
        }
    }
    let model = match model {
        Some(m) if models.iter().any(|x| x == m) => m.to_owned(),
        Some(m) => bail!(
            "--model {m}: {} has no curves of it; it has {}",
            path.display(),
            models.join(", ")
        ),
        None if models.iter().any(|x| x == DEFAULT_MODEL) => DEFAULT_MODEL.to_owned(),
        None => models
            .first()
            .cloned()
            .with_context(|| format!("{} holds no curves", path.display()))?,
    };
    let mut points: Vec<(usize, f64)> = rows
        .into_iter()
        .filter(|(m, _, _)| *m == model)
        .map(|(_, f, v)| (f, v))
        .collect();
    if points.is_empty() {
        bail!(
            "{} has no curve of {model} for {property} episode {episode}: was the run scored on \
             the suite this movie comes from?",
            path.display()
        );
    }
    points.sort_by_key(|p| p.0);
    Ok(Curve { model, points })
}

/// Width and height of the curve panel's image, pixels.
pub const WIDTH: usize = 256;
/// Height of the curve panel's image, pixels.
pub const HEIGHT: usize = 96;

const BACKGROUND: [u8; 4] = [24, 24, 28, 255];
const LINE: [u8; 4] = [250, 210, 60, 255];
const VIOLATION: [u8; 4] = [220, 60, 60, 255];
/// The cursor at the frame shown.
pub const CURSOR: [u8; 4] = [90, 220, 120, 255];

/// The panel's picture of `curve` over a movie of `frames` frames, with the violation frame and
/// a cursor at frame `t`: RGBA rows, [`WIDTH`] x [`HEIGHT`].
pub fn draw(curve: &Curve, frames: usize, violation: Option<usize>, t: usize) -> Vec<u8> {
    let mut img: Vec<u8> = BACKGROUND.repeat(WIDTH * HEIGHT);
    // Frames past the movie's end are drawn at its end.
    let last = frames.saturating_sub(1).max(1);
    let x_of = |f: usize| (f.min(last) * (WIDTH - 1)) / last;
    let (lo, hi) = curve
        .points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, v)| {
            (lo.min(v), hi.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    // A margin of 4 pixels above and below the curve.
    let y_of = |v: f64| 4 + ((1.0 - (v - lo) / span) * (HEIGHT - 9) as f64).round() as usize;
    let mut put = |img: &mut Vec<u8>, x: usize, y: usize, c: [u8; 4]| {
        if x < WIDTH && y < HEIGHT {
            img[(y * WIDTH + x) * 4..(y * WIDTH + x) * 4 + 4].copy_from_slice(&c);
        }
    };
    if let Some(v) = violation {
        for y in (0..HEIGHT).step_by(2) {
            put(&mut img, x_of(v), y, VIOLATION);
        }
    }
    let pts: Vec<(usize, usize)> = curve
        .points
        .iter()
        .map(|&(f, v)| (x_of(f), y_of(v)))
        .collect();
    for w in pts.windows(2) {
        line(&mut img, w[0], w[1], &mut put);
    }
    if let [p] = pts.as_slice() {
        put(&mut img, p.0, p.1, LINE);
    }
    for y in 0..HEIGHT {
        put(&mut img, x_of(t.min(frames.saturating_sub(1))), y, CURSOR);
    }
    img
}

/// A straight line in the curve's colour (Bresenham).
fn line(
    img: &mut Vec<u8>,
    (x0, y0): (usize, usize),
    (x1, y1): (usize, usize),
    put: &mut impl FnMut(&mut Vec<u8>, usize, usize, [u8; 4]),
) {
    let (x0, y0, x1, y1) = (x0 as i64, y0 as i64, x1 as i64, y1 as i64);
    let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
    let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
    let (mut x, mut y, mut err) = (x0, y0, dx + dy);
    loop {
        put(img, x as usize, y as usize, LINE);
        if x == x1 && y == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += sx;
        }
        if e2 <= dx {
            err += dx;
            y += sy;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(img: &[u8], x: usize, y: usize) -> [u8; 4] {
        img[(y * WIDTH + x) * 4..(y * WIDTH + x) * 4 + 4]
            .try_into()
            .unwrap()
    }

    #[test]
    fn the_cursor_follows_the_frame_and_the_curve_peaks_where_surprise_does() {
        let curve = Curve {
            model: "m".into(),
            points: vec![(8, 0.1), (9, 0.1), (10, 0.9), (11, 0.1)],
        };
        let img = draw(&curve, 21, Some(10), 5);
        // Frame 5 of 21 is column 5 * 255 / 20 = 63.
        assert!((0..HEIGHT).all(|y| pixel(&img, 63, y) == CURSOR));
        assert_ne!(pixel(&img, 64, 0), CURSOR);
        // The peak at frame 10 (column 127) is drawn near the top, the rest near the bottom.
        assert_eq!(pixel(&img, 127, 4), LINE);
        assert_eq!(pixel(&img, 102, HEIGHT - 5), LINE);
        assert_eq!(pixel(&img, 127, 1), BACKGROUND);
        let later = draw(&curve, 21, Some(10), 20);
        assert!((0..HEIGHT).all(|y| pixel(&later, WIDTH - 1, y) == CURSOR));
        assert_eq!(curve.at(9), Some(0.1));
        assert_eq!(curve.at(10), Some(0.9));
        assert_eq!(curve.at(3), None);
    }

    /// Damaged copies of a good `curves.csv`, each a pure function of its case number: no panic,
    /// no hang (a frame index of 10^18 once drew a line that long), and every error names the
    /// file.
    #[test]
    fn a_damaged_curves_file_is_refused_by_name_and_never_panics() {
        use rand::{RngExt, SeedableRng};
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("curves.csv");
        let mut good = CURVES_HEADER.join(",") + "\n";
        for model in ["jepa-vicreg", "pixel-ae"] {
            for f in 0..10 {
                good.push_str(&format!(
                    "r,{model},permanence,3,{},{}\n",
                    8 + 4 * f,
                    0.1 * f as f64
                ));
            }
        }
        std::fs::write(&path, &good).unwrap();
        let read = || load(tmp.path(), None, Property::Permanence, 3);
        assert_eq!(read().unwrap().points.len(), 10);
        let extreme: [&[u8]; 5] = [
            b"18446744073709551615",
            b"99999999999",
            b"-1",
            b"NaN",
            b"inf",
        ];
        let (mut refused, mut read_ok) = (0, 0);
        for case in 0..600u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(case);
            let mut b = good.clone().into_bytes();
            match case % 4 {
                0 => {
                    let i = rng.random_range(0..b.len());
                    b[i] ^= 1 << rng.random_range(0..8);
                }
                1 => b.truncate(rng.random_range(0..b.len())),
                2 => {
                    let a = rng.random_range(0..b.len());
                    b.drain(a..(a + rng.random_range(1..16)).min(b.len()));
                }
                _ => {
                    let digits: Vec<usize> =
                        (0..b.len()).filter(|&i| b[i].is_ascii_digit()).collect();
                    let i = digits[rng.random_range(0..digits.len())];
                    let mut e = i;
                    while e < b.len() && b[e].is_ascii_digit() {
                        e += 1;
                    }
                    b.splice(
                        i..e,
                        extreme[rng.random_range(0..extreme.len())].iter().copied(),
                    );
                }
            }
            std::fs::write(&path, &b).unwrap();
            let started = std::time::Instant::now();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read().map(|c| {
                    draw(&c, 48, Some(20), 47);
                })
            }));
            assert!(started.elapsed().as_secs() < 5, "case {case} took too long");
            match result {
                Err(_) => panic!("case {case} panicked"),
                Ok(Err(e)) => {
                    refused += 1;
                    let e = format!("{e:#}");
                    assert!(e.contains("curves.csv"), "case {case}: {e}");
                }
                Ok(Ok(())) => read_ok += 1,
            }
        }
        assert!(
            refused > 100 && read_ok > 10,
            "{refused} refused, {read_ok} read"
        );
    }
}
