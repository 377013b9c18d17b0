//! Controls: scorers that know nothing of physics, whose window surprise is a statistic of the
//! target frames alone. On a sound suite they sit at chance on every headline cell; one off
//! chance means the cell can be decided without physics.

use crate::error::{HarnessError, Result};

/// A control: a scorer that knows nothing of physics, whose window surprise is a statistic of
/// the target frames alone. Integer statistics summed exactly, so that on a quadruplet, whose
/// impossible movies hold at every frame index the same pictures as its possible ones, the
/// totals tie exactly.
pub struct ControlSpec {
    /// Registry name (a model column in the results).
    pub name: &'static str,
    /// What it measures.
    pub description: &'static str,
    /// The statistic of one RGB frame.
    pub statistic: fn(&[u8]) -> u64,
}

impl std::fmt::Debug for ControlSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Every control.
pub static CONTROLS: &[ControlSpec] = &[
    ControlSpec {
        name: "frame-stats",
        description: "sum of the target frames' pixel values (the frame-statistics control)",
        statistic: brightness,
    },
    ControlSpec {
        name: "object-pixels",
        description: "number of saturated (object or screen) pixels in the target frames",
        statistic: saturated_pixels,
    },
];

/// The control with this name, or an error listing them.
pub fn find_control(name: &str) -> Result<&'static ControlSpec> {
    CONTROLS.iter().find(|c| c.name == name).ok_or_else(|| {
        HarnessError::unknown("score.controls", name, CONTROLS.iter().map(|c| c.name))
    })
}

/// Sum of every byte of the frame.
fn brightness(frame: &[u8]) -> u64 {
    frame.iter().map(|&b| u64::from(b)).sum()
}

/// Pixels whose colour is saturated: objects and screens are drawn in saturated colours, floors,
/// walls and backgrounds in greys and dark blue-greys (saturation below 0.45).
fn saturated_pixels(frame: &[u8]) -> u64 {
    frame
        .chunks_exact(3)
        .filter(|p| {
            let max = u32::from(p[0].max(p[1]).max(p[2]));
            let min = u32::from(p[0].min(p[1]).min(p[2]));
            max >= 64 && (max - min) * 2 > max
        })
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_by_hand() {
        assert_eq!(brightness(&[1, 2, 3, 250, 0, 0]), 256);
        // Grey, dark saturated, bright saturated, dark blue-grey background.
        let frame = [128, 124, 118, 40, 0, 0, 200, 30, 60, 26, 26, 41];
        assert_eq!(saturated_pixels(&frame), 1);
    }
}
