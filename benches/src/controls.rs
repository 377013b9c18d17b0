//! Controls: scorers that know nothing of physics, whose window surprise is a statistic of the
//! window's frames alone. On a sound suite they sit at chance on every headline cell; one off
//! chance means the cell can be decided without physics.

use crate::error::{HarnessError, Result};

/// A control: a scorer that knows nothing of physics, whose window surprise is an integer
/// statistic of the window's frames, summed exactly, so that equal pictures give equal bits and
/// sets tie exactly where their movies show the same frames.
pub struct ControlSpec {
    /// Registry name (a model column in the results).
    pub name: &'static str,
    /// What it measures.
    pub description: &'static str,
    /// A window's surprise from its last context frame and its target frames (RGB bytes, one
    /// slice per frame).
    pub window: fn(last_context: &[u8], targets: &[&[u8]]) -> u64,
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
        window: |_, targets| targets.iter().map(|t| brightness(t)).sum(),
    },
    ControlSpec {
        name: "object-pixels",
        description: "number of saturated (object or screen) pixels in the target frames",
        window: |_, targets| targets.iter().map(|t| saturated_pixels(t)).sum(),
    },
    ControlSpec {
        name: "frame-diff",
        description: "absolute difference of each target frame from the last context frame \
                      (copy-last in pixels: the simplest detector of visible change)",
        window: |last, targets| targets.iter().map(|t| abs_difference(last, t)).sum(),
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

/// Sum of the absolute differences of two frames' bytes: the L1 error of predicting `b` by
/// `a` (the window's mean absolute difference, times its fixed number of bytes).
fn abs_difference(a: &[u8], b: &[u8]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum()
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
        assert_eq!(abs_difference(&[10, 200, 7], &[13, 100, 7]), 103);
    }

    #[test]
    fn frame_diff_compares_each_target_with_the_last_context_frame() {
        let diff = find_control("frame-diff").unwrap();
        let (last, t1, t2) = ([5u8, 5, 5], [5u8, 6, 5], [0u8, 5, 9]);
        assert_eq!((diff.window)(&last, &[&t1, &t2]), 1 + 5 + 4);
        // A still picture is no surprise, whatever it shows.
        assert_eq!((diff.window)(&t2, &[&t2, &t2]), 0);
    }
}
