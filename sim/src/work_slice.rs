//! Shard I of N of a stage's work (`--shard I/N`): a deterministic slice of its units by index,
//! so that N machines can each take one and a merge can join them into exactly what one machine
//! would have written. Every unit (a dataset file of episodes, a VoE set, a movie, a planning
//! episode) is a pure function of the seed and its index, so which machine made it does not
//! show in its bits.

use std::fmt;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::dataset::atomic_dir::parent_of;
use crate::error::{Result, SimError};

/// Most slices a stage may be cut into.
pub const MAX_SLICES: u64 = 100_000;

/// Slice `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkSlice {
    index: u64,
    count: u64,
}

impl WorkSlice {
    /// Slice `index` of `count`: `1 <= index <= count <= MAX_SLICES`.
    pub fn new(index: u64, count: u64) -> Result<Self> {
        if count == 0 || count > MAX_SLICES || index == 0 || index > count {
            return Err(bad(&format!("{index}/{count}")));
        }
        Ok(Self { index, count })
    }

    /// The whole work as one slice.
    pub fn whole() -> Self {
        Self { index: 1, count: 1 }
    }

    /// Its index, from 1.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// How many slices the work is cut into.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The units of `total` this slice takes: contiguous, the slices' sizes differing by at most
    /// one, and together every unit once. A slice may be empty when there are fewer units than
    /// slices.
    pub fn range(&self, total: u64) -> Range<u64> {
        let cut = |i: u64| (u128::from(i) * u128::from(total) / u128::from(self.count)) as u64;
        cut(self.index - 1)..cut(self.index)
    }

    /// Every slice of `count`, in order.
    pub fn all(count: u64) -> Result<Vec<Self>> {
        WorkSlice::new(1, count)?;
        Ok((1..=count).map(|index| Self { index, count }).collect())
    }

    /// Its name in file names: `2-of-4`.
    pub fn file_label(&self) -> String {
        format!("{}-of-{}", self.index, self.count)
    }
}

impl fmt::Display for WorkSlice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for WorkSlice {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self> {
        let (i, n) = s.split_once('/').ok_or_else(|| bad(s))?;
        let parse = |v: &str| v.trim().parse::<u64>().map_err(|_| bad(s));
        WorkSlice::new(parse(i)?, parse(n)?)
    }
}

fn bad(value: &str) -> SimError {
    SimError::OutOfRange {
        what: "shard",
        value: value.to_owned(),
        expected: format!("I/N with 1 <= I <= N <= {MAX_SLICES}, for example 2/4"),
    }
}

// Markers: a shard that has finished its work leaves `slice-I-of-N.json` in the folder the
// shards share; a merge checks them (every slice of N there, none of another cut) before it
// joins anything.

/// The marker a finished `slice` leaves in the folder its shards share (`slice-2-of-4.json`).
pub fn marker_path(partial: &Path, slice: WorkSlice) -> PathBuf {
    partial.join(format!("slice-{}.json", slice.file_label()))
}

/// Writes `marker` as `slice`'s marker in `dir`, atomically (a temporary file renamed): the
/// last thing a shard does, so a marker is there only when its work is whole.
pub fn write_marker<T: serde::Serialize>(dir: &Path, slice: WorkSlice, marker: &T) -> Result<()> {
    let path = marker_path(dir, slice);
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_string_pretty(marker).expect("a marker serialises") + "\n";
    fs::write(&tmp, json).map_err(|e| SimError::io("cannot write", &tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| SimError::io("cannot write", &path, e))
}

/// Reads `slice`'s marker in `dir`, naming the file if it is not one.
pub fn read_marker<T: serde::de::DeserializeOwned>(dir: &Path, slice: WorkSlice) -> Result<T> {
    let path = marker_path(dir, slice);
    let text = fs::read_to_string(&path).map_err(|e| SimError::io("cannot read", &path, e))?;
    serde_json::from_str(&text).map_err(|e| SimError::BadDataset {
        path,
        reason: format!("not a shard marker: {e}"),
    })
}

/// The slice a file name marks, if it is a marker's (`slice-2-of-4.json`).
fn marked(name: &str) -> Option<WorkSlice> {
    let label = name.strip_prefix("slice-")?.strip_suffix(".json")?;
    let (i, n) = label.split_once("-of-")?;
    WorkSlice::new(i.parse().ok()?, n.parse().ok()?).ok()
}

/// The markers in `dir`, with their file names.
pub fn markers(dir: &Path) -> Result<Vec<(WorkSlice, String)>> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(SimError::io("cannot read", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| SimError::io("cannot read", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(slice) = marked(&name) {
            out.push((slice, name));
        }
    }
    out.sort();
    Ok(out)
}

/// Checks that `dir` holds the marker of every slice of `count` and of no other cut; returns
/// the slices. When some are missing, names the folders beside it (`.<out>.<kind>...`) that
/// hold slices of another config for the same output.
pub fn check_markers(dir: &Path, out: &Path, count: u64, kind: &str) -> Result<Vec<WorkSlice>> {
    let expected = WorkSlice::all(count)?;
    let found = markers(dir)?;
    let refuse = |reason: String| SimError::Shards {
        out: out.to_owned(),
        reason,
    };
    let other: Vec<&str> = found
        .iter()
        .filter(|(s, _)| s.count() != count)
        .map(|(_, name)| name.as_str())
        .collect();
    if !other.is_empty() {
        return Err(refuse(format!(
            "{} in {} are of another cut than {count} shards; merge with that count, or delete \
             them",
            other.join(", "),
            dir.display()
        )));
    }
    let missing: Vec<String> = expected
        .iter()
        .filter(|s| !found.iter().any(|(f, _)| f == *s))
        .map(|s| s.to_string())
        .collect();
    if !missing.is_empty() {
        let mut reason = format!(
            "shard(s) {} of {count} not done (no marker in {})",
            missing.join(", "),
            dir.display()
        );
        let foreign = foreign_slices(out, dir, kind)?;
        if !foreign.is_empty() {
            reason.push_str(&format!(
                "; shards of another config are in {} (another seed, size, count, scene, \
                 split or version)",
                foreign
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return Err(refuse(reason));
    }
    Ok(expected)
}

/// Folders beside `ours` named for the same output and `kind`, of another config, holding
/// markers.
fn foreign_slices(out: &Path, ours: &Path, kind: &str) -> Result<Vec<PathBuf>> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".into());
    let prefix = format!(".{name}.{kind}");
    let parent = parent_of(out);
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(&parent) else {
        return Ok(found);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with(&prefix) && path != ours && !markers(&path)?.is_empty() {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_every_unit_once_in_order_and_evenly() {
        for total in [0u64, 1, 3, 10, 11, 64] {
            for count in 1..=7 {
                let ranges: Vec<Range<u64>> = WorkSlice::all(count)
                    .unwrap()
                    .iter()
                    .map(|s| s.range(total))
                    .collect();
                let units: Vec<u64> = ranges.iter().flat_map(|r| r.clone()).collect();
                assert_eq!(units, (0..total).collect::<Vec<_>>(), "{total} in {count}");
                let sizes: Vec<u64> = ranges.iter().map(|r| r.end - r.start).collect();
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "{sizes:?}");
            }
        }
        assert_eq!(WorkSlice::whole().range(5), 0..5);
    }

    #[test]
    fn bad_slices_are_refused_naming_the_value() {
        for bad in [
            "0/4", "5/4", "1/0", "0/0", "a/4", "2", "2/x", "-1/4", "1/100001",
        ] {
            let err = bad.parse::<WorkSlice>().unwrap_err().to_string();
            assert!(err.contains(bad) && err.contains("I/N"), "{bad}: {err}");
        }
        let s: WorkSlice = "2/4".parse().unwrap();
        assert_eq!((s.index(), s.count()), (2, 4));
        assert_eq!(s.to_string(), "2/4");
        assert_eq!(s.file_label(), "2-of-4");
    }
}
