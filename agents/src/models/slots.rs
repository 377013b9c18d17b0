//! What an object-slot model reads from a frame's instance mask: for each body slot, how much of
//! each patch it covers (to pool the patch features into one vector per object), where it is and
//! how large (centroid, spread and size of its pixels), and whether it shows at all.
//!
//! The masks are inputs, not learned: computed on the host, outside the autograd graph, like the
//! patches of the pixels. Mask values at or above [`MAX_SLOTS`] (255: background and fixed
//! bodies) belong to no slot.

use candle_core::{Device, Tensor};

use crate::error::{AgentError, Result};

/// Slots the model reads; no scene has more than 7 (table_clearing: six objects and the pusher).
pub const MAX_SLOTS: usize = 8;

/// Geometry entries per slot: square root of the image share it covers, centroid x and y, and
/// the standard deviation of its pixels along x and y, all in image units (`[-1, 1]` across).
pub const GEOMETRY: usize = 5;

/// The slot inputs of a batch of masked frames `[B, L, H, W]`.
pub struct SlotInputs {
    /// `[B, L, K, N]`: how many of slot k's pixels lie in patch n, over all of its pixels (so
    /// that `pool @ features` is the mean of the patch features over the slot's pixels).
    pub pool: Tensor,
    /// `[B, L, K, G]`, zeros where the slot does not show.
    pub geometry: Tensor,
    /// `[B, L, K, 1]`: 1 where the slot shows in the frame, else 0.
    pub visible: Tensor,
    /// The same, on the host, `B * L * K` in order.
    pub visible_host: Vec<f32>,
}

/// The slot inputs of masks `[B, L, H, W]` (u8) for patches of `patch` pixels.
pub fn slot_inputs(masks: &Tensor, patch: usize, device: &Device) -> Result<SlotInputs> {
    let (b, l, h, w) = masks.dims4()?;
    if patch == 0 || !h.is_multiple_of(patch) || !w.is_multiple_of(patch) {
        return Err(AgentError::OutOfRange {
            what: "patch",
            value: patch.to_string(),
            expected: format!("a divisor of the mask size {h}x{w}"),
        });
    }
    let values = masks.flatten_all()?.to_vec1::<u8>()?;
    let (gx, gy) = (w / patch, h / patch);
    let n = gx * gy;
    let k = MAX_SLOTS;
    let frames = b * l;
    let mut pool = vec![0f32; frames * k * n];
    let mut geometry = vec![0f32; frames * k * GEOMETRY];
    let mut visible = vec![0f32; frames * k];
    let mut moments = vec![[0f64; 5]; k];
    for f in 0..frames {
        let mask = &values[f * h * w..(f + 1) * h * w];
        moments.iter_mut().for_each(|m| *m = [0.0; 5]);
        for y in 0..h {
            for x in 0..w {
                let s = mask[y * w + x] as usize;
                if s >= k {
                    continue;
                }
                let patch_index = (y / patch) * gx + x / patch;
                pool[(f * k + s) * n + patch_index] += 1.0;
                let (u, v) = (
                    (2.0 * (x as f64 + 0.5) / w as f64) - 1.0,
                    (2.0 * (y as f64 + 0.5) / h as f64) - 1.0,
                );
                let m = &mut moments[s];
                m[0] += 1.0;
                m[1] += u;
                m[2] += v;
                m[3] += u * u;
                m[4] += v * v;
            }
        }
        for (s, m) in moments.iter().enumerate() {
            let count = m[0];
            if count == 0.0 {
                continue;
            }
            visible[f * k + s] = 1.0;
            let row = &mut pool[(f * k + s) * n..(f * k + s + 1) * n];
            row.iter_mut().for_each(|c| *c /= count as f32);
            let (cu, cv) = (m[1] / count, m[2] / count);
            let g = &mut geometry[(f * k + s) * GEOMETRY..(f * k + s + 1) * GEOMETRY];
            g[0] = (count / (h * w) as f64).sqrt() as f32;
            g[1] = cu as f32;
            g[2] = cv as f32;
            g[3] = (m[3] / count - cu * cu).max(0.0).sqrt() as f32;
            g[4] = (m[4] / count - cv * cv).max(0.0).sqrt() as f32;
        }
    }
    Ok(SlotInputs {
        pool: Tensor::from_vec(pool, (b, l, k, n), device)?,
        geometry: Tensor::from_vec(geometry, (b, l, k, GEOMETRY), device)?,
        visible: Tensor::from_vec(visible.clone(), (b, l, k, 1), device)?,
        visible_host: visible,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slots_pixels_give_its_pooling_weights_centroid_and_size() {
        // One 8x8 frame, patches of 4: slot 0 fills the top-left 2x2 pixels, slot 2 the whole
        // bottom row, the rest is background (255) or a slot past the last (9).
        let mut mask = vec![255u8; 64];
        for (x, y) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            mask[y * 8 + x] = 0;
        }
        for x in 0..8 {
            mask[7 * 8 + x] = 2;
        }
        mask[3 * 8 + 5] = 9;
        let t = Tensor::from_vec(mask, (1, 1, 8, 8), &Device::Cpu).unwrap();
        let s = slot_inputs(&t, 4, &Device::Cpu).unwrap();
        let pool = s.pool.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // Slot 0: all four pixels in patch 0.
        assert_eq!(&pool[0..4], &[1.0, 0.0, 0.0, 0.0]);
        // Slot 1 shows nowhere; slot 2's 8 pixels split between patches 2 and 3.
        assert_eq!(&pool[4..8], &[0.0; 4]);
        assert_eq!(&pool[8..12], &[0.0, 0.0, 0.5, 0.5]);
        assert_eq!(s.visible_host, [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let g = s.geometry.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // Slot 0: share 4/64 (sqrt 0.25), centroid between pixels 0 and 1 (-0.75), spread 0.125.
        assert_eq!(&g[0..5], &[0.25, -0.75, -0.75, 0.125, 0.125]);
        // Slot 2: share 8/64, centred across, on the last row, no vertical spread.
        let slot2 = &g[10..15];
        assert!((slot2[0] - (0.125f32).sqrt()).abs() < 1e-6);
        assert!(slot2[1].abs() < 1e-6 && (slot2[2] - 0.875).abs() < 1e-6);
        assert!(slot2[4].abs() < 1e-6 && slot2[3] > 0.5);
        assert!(g[5..10].iter().all(|&v| v == 0.0));
        assert!(slot_inputs(&t, 3, &Device::Cpu).is_err());
    }
}
