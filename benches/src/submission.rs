//! Surprise scores from outside the harness: a model trained anywhere (PyTorch, JAX) scores the
//! suite's movies and hands back one number per movie, or one per window or frame, in a CSV
//! (IntPhys's protocol: the benchmark hands out the movies, a participant returns plausibility
//! scores, the benchmark computes the metrics). [`read_surprise`] checks such a file against the
//! suite and turns it into the curves the harness's own models leave, so every metric is
//! computed by the same code.
//!
//! Two layouts, told apart by the header:
//! - one number per movie: `property,set_id,member,surprise`;
//! - one per window or frame: `property,set_id,member,frame,surprise` (the mean and the max over
//!   a movie's rows are then its two aggregations).
//!
//! An optional first line `# suite <id>` ([`suite_id`]) ties the file to one suite: scores of
//! another suite are refused.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use moravec_sim::voe::{Property, Suite};
use sha2::{Digest, Sha256};

use crate::error::{HarnessError, Result};
use crate::surprise::Curves;

/// Header of a file with one surprise per movie.
pub const MOVIE_HEADER: [&str; 4] = ["property", "set_id", "member", "surprise"];

/// Header of a file with one surprise per window or frame of each movie.
pub const FRAME_HEADER: [&str; 5] = ["property", "set_id", "member", "frame", "surprise"];

/// The suite's identity: the SHA-256 of its properties' content hashes, one per line in
/// `meta.json`'s order (the Python reader computes the same).
pub fn suite_id(suite: &Suite) -> String {
    let mut h = Sha256::new();
    for p in &suite.meta.properties {
        h.update(p.content_hash.as_bytes());
        h.update(b"\n");
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Reads `path` and checks it against `suite`: the header is one of the two layouts, every
/// movie of `sets.csv` appears (once, or once per frame), every number is finite, and nothing
/// names a movie the suite lacks. Every error names the file and the row.
pub fn read_surprise(path: &Path, suite: &Suite) -> Result<Curves> {
    let bad = |message: String| HarnessError::Schema {
        path: path.to_owned(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| HarnessError::io("cannot read", path, e))?;
    let mut text = String::new();
    let mut reader = BufReader::new(file);
    let mut first = String::new();
    reader
        .read_line(&mut first)
        .map_err(|e| HarnessError::io("cannot read", path, e))?;
    if let Some(id) = first.trim_end().strip_prefix("# suite ") {
        let expected = suite_id(suite);
        if id != expected {
            return Err(bad(format!(
                "scores of the suite {id}, not of {} ({expected})",
                suite.dir.display()
            )));
        }
    } else {
        text.push_str(&first);
    }
    std::io::Read::read_to_string(&mut reader, &mut text)
        .map_err(|e| HarnessError::io("cannot read", path, e))?;
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| bad(format!("unreadable header: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let per_frame = if header == FRAME_HEADER {
        true
    } else if header == MOVIE_HEADER {
        false
    } else {
        return Err(bad(format!(
            "header {header:?}, expected {MOVIE_HEADER:?} (one surprise per movie) or \
             {FRAME_HEADER:?} (one per window or frame)"
        )));
    };
    let movies: HashMap<(Property, u64, usize), usize> = suite
        .rows
        .iter()
        .map(|r| ((r.property, r.set_id, r.member), r.episode))
        .collect();
    let mut curves: Curves = suite
        .meta
        .properties
        .iter()
        .map(|p| (p.property, vec![Vec::new(); p.episodes as usize]))
        .collect();
    // The row (1-based, header = row 1) each movie, or movie and frame, first appeared on.
    let mut seen: HashMap<(Property, u64, usize, usize), usize> = HashMap::new();
    for (i, record) in csv.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| bad(format!("row {line}: {e}")))?;
        let field = |k: usize| record.get(k).unwrap_or("");
        let property: Property = field(0)
            .parse()
            .map_err(|e| bad(format!("row {line}: {e}")))?;
        let number = |k: usize, what: &str| {
            field(k).parse::<u64>().map_err(|_| {
                bad(format!(
                    "row {line}: {what} = {:?}, expected a whole number",
                    field(k)
                ))
            })
        };
        let set_id = number(1, "set_id")?;
        let member = number(2, "member")? as usize;
        let frame = if per_frame {
            number(3, "frame")? as usize
        } else {
            0
        };
        let raw = field(header.len() - 1);
        let surprise: f64 = raw
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                bad(format!(
                    "row {line}: surprise = {raw:?}, expected a finite number"
                ))
            })?;
        let Some(&episode) = movies.get(&(property, set_id, member)) else {
            return Err(bad(format!(
                "row {line}: no movie {property} set {set_id} member {member} in the suite {}",
                suite.dir.display()
            )));
        };
        if let Some(earlier) = seen.insert((property, set_id, member, frame), line) {
            let what = if per_frame {
                format!("{property} set {set_id} member {member} frame {frame}")
            } else {
                format!("{property} set {set_id} member {member}")
            };
            return Err(bad(format!(
                "row {line}: {what} again (first on row {earlier})"
            )));
        }
        curves.get_mut(&property).expect("every property")[episode].push((frame, surprise));
    }
    let missing: Vec<String> = suite
        .rows
        .iter()
        .filter(|r| curves[&r.property][r.episode].is_empty())
        .map(|r| format!("{} set {} member {}", r.property, r.set_id, r.member))
        .collect();
    if let Some(first) = missing.first() {
        return Err(bad(format!(
            "{} movie(s) of the suite have no score, the first {first}",
            missing.len()
        )));
    }
    for episodes in curves.values_mut() {
        for curve in episodes {
            curve.sort_by_key(|&(frame, _)| frame);
        }
    }
    Ok(curves)
}
