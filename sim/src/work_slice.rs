//! Shard I of N of a stage's work (`--shard I/N`): a deterministic slice of its units by index,
//! so that N machines can each take one and a merge can join them into exactly what one machine
//! would have written. Every unit (a dataset file of episodes, a VoE set, a movie, a planning
//! episode) is a pure function of the seed and its index, so which machine made it does not
//! show in its bits.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

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
