//! Training data: a dataset held in memory and a stateless window sampler.
//!
//! The batch of step `s` is drawn from a generator seeded by (seed, s) alone, so the data order
//! needs no state beyond the step: a resumed run draws exactly the batches it would have drawn.

use std::path::Path;

use candle_core::{Device, Tensor};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::error::{AgentError, Result};

/// Episodes in memory, row-major like the dataset's tensors.
#[derive(Clone, Debug)]
pub struct Clips {
    /// `[N, T, H, W, 3]` u8.
    pub frames: Vec<u8>,
    /// `[N, T, H, W]` u8 instance masks (the body slot each pixel shows, 255 for none), or
    /// empty when the clips have none (synthetic data); only object-slot models read them.
    pub masks: Vec<u8>,
    /// `[N, T, A]` f32.
    pub actions: Vec<f32>,
    /// N.
    pub episodes: usize,
    /// T.
    pub length: usize,
    /// H = W.
    pub size: usize,
    /// A.
    pub action_dim: usize,
}

/// One batch of windows: frames `[B, L, 3, H, W]` in `[0, 1]`, actions `[B, L, A]` and, when
/// the clips have them, instance masks `[B, L, H, W]` u8.
pub struct Batch {
    /// Frames, channels first.
    pub frames: Tensor,
    /// Actions; action `t` is taken between frames `t` and `t + 1`.
    pub actions: Tensor,
    /// Instance masks, when the clips carry them.
    pub masks: Option<Tensor>,
}

impl Clips {
    /// Whether the clips carry instance masks (one per frame).
    pub fn has_masks(&self) -> bool {
        !self.masks.is_empty() && self.masks.len() * 3 == self.frames.len()
    }

    /// Reads every shard of a dataset directory, checked against its meta.json: shapes, and
    /// each shard's own hash, or the content hash for a dataset written before shards had one
    /// (a damaged shard is an error before any training).
    pub fn load(dir: &Path) -> Result<Self> {
        let meta = moravec_sim::dataset::read_meta(dir)?;
        let mut clips = Clips {
            frames: Vec::new(),
            masks: Vec::new(),
            actions: Vec::new(),
            episodes: 0,
            length: meta.frames,
            size: meta.size,
            action_dim: meta.action_dim,
        };
        // Shards that carry their own hash are checked as they are read; the content hash is
        // computed only for a dataset written before them.
        let mut check = meta
            .shards
            .iter()
            .any(|s| s.sha256.is_none())
            .then(moravec_sim::dataset::ContentCheck::new);
        for info in &meta.shards {
            let shard = moravec_sim::dataset::read_shard(dir, &meta, info)?;
            if let Some(check) = check.as_mut() {
                check.add(&shard);
            }
            clips.frames.extend_from_slice(&shard.frames);
            clips.masks.extend_from_slice(&shard.masks);
            clips.actions.extend_from_slice(&shard.actions);
            clips.episodes += shard.episodes;
        }
        if let Some(check) = check {
            check.check(dir, &meta)?;
        }
        Ok(clips)
    }

    /// The same episodes with `action_dim` action entries: zero-padded (a model trained on scenes
    /// with an agent scores scenes without one) or cut to their first entries (a model trained
    /// without actions watches a scene with an agent as a passive observer).
    pub fn fit_actions(&self, action_dim: usize) -> Clips {
        let keep = action_dim.min(self.action_dim);
        let mut actions = vec![0.0; self.episodes * self.length * action_dim];
        if keep > 0 {
            for (src, dst) in self
                .actions
                .chunks_exact(self.action_dim)
                .zip(actions.chunks_exact_mut(action_dim))
            {
                dst[..keep].copy_from_slice(&src[..keep]);
            }
        }
        Clips {
            frames: self.frames.clone(),
            masks: self.masks.clone(),
            actions,
            action_dim,
            ..*self
        }
    }

    /// The same episodes with actions zero-padded to `action_dim` entries (a model trained on
    /// scenes with agents also scores scenes without one).
    pub fn pad_actions(&self, action_dim: usize) -> Result<Clips> {
        if action_dim < self.action_dim {
            return Err(AgentError::OutOfRange {
                what: "action length",
                value: action_dim.to_string(),
                expected: format!("at least the data's {}", self.action_dim),
            });
        }
        let mut actions = vec![0.0; self.episodes * self.length * action_dim];
        if self.action_dim > 0 {
            for (src, dst) in self
                .actions
                .chunks_exact(self.action_dim)
                .zip(actions.chunks_exact_mut(action_dim))
            {
                dst[..self.action_dim].copy_from_slice(src);
            }
        }
        Ok(Clips {
            frames: self.frames.clone(),
            masks: self.masks.clone(),
            actions,
            action_dim,
            ..*self
        })
    }

    /// Several datasets pooled into one, in order, actions zero-padded to the longest. They must
    /// share episode length and image size. The pool has masks only if every part has them.
    pub fn concat(parts: &[Clips]) -> Result<Clips> {
        let first = parts.first().ok_or_else(|| AgentError::OutOfRange {
            what: "datasets",
            value: "none".into(),
            expected: "at least one".into(),
        })?;
        let action_dim = parts.iter().map(|p| p.action_dim).max().unwrap_or(0);
        let mut out = Clips {
            frames: Vec::new(),
            masks: Vec::new(),
            actions: Vec::new(),
            episodes: 0,
            length: first.length,
            size: first.size,
            action_dim,
        };
        for p in parts {
            if (p.length, p.size) != (first.length, first.size) {
                return Err(AgentError::OutOfRange {
                    what: "dataset shape",
                    value: format!("{} frames at {}x{}", p.length, p.size, p.size),
                    expected: format!(
                        "{} frames at {}x{} like the first",
                        first.length, first.size, first.size
                    ),
                });
            }
            let padded = p.pad_actions(action_dim)?;
            out.frames.extend_from_slice(&padded.frames);
            out.masks.extend_from_slice(&padded.masks);
            out.actions.extend_from_slice(&padded.actions);
            out.episodes += p.episodes;
        }
        if parts.iter().any(|p| !p.has_masks()) {
            out.masks.clear();
        }
        Ok(out)
    }

    /// The episodes as a model with frameskip `k` sees them: frames 0, k, 2k, ... and, between
    /// two of them, the k actions taken in between, concatenated (DINO-WM's frameskip). The
    /// frames past the last whole stride are dropped.
    pub fn frameskip(&self, k: usize) -> Result<Clips> {
        if k == 0 || self.length == 0 {
            return Err(AgentError::OutOfRange {
                what: "frameskip",
                value: k.to_string(),
                expected: "at least 1, on episodes of at least one frame".into(),
            });
        }
        let length = (self.length - 1) / k + 1;
        let fl = self.size * self.size * 3;
        let (a, ka) = (self.action_dim, self.action_dim * k);
        let ml = self.size * self.size;
        let mut frames = Vec::with_capacity(self.episodes * length * fl);
        let mut masks = Vec::new();
        let mut actions = vec![0.0; self.episodes * length * ka];
        for ep in 0..self.episodes {
            for t in 0..length {
                let f = (ep * self.length + t * k) * fl;
                frames.extend_from_slice(&self.frames[f..f + fl]);
                if self.has_masks() {
                    let m = (ep * self.length + t * k) * ml;
                    masks.extend_from_slice(&self.masks[m..m + ml]);
                }
                // A frame with no whole stride of actions after it (the last) keeps zeros.
                if t * k + k <= self.length {
                    let src = (ep * self.length + t * k) * a;
                    let dst = (ep * length + t) * ka;
                    actions[dst..dst + ka].copy_from_slice(&self.actions[src..src + ka]);
                }
            }
        }
        Ok(Clips {
            frames,
            masks,
            actions,
            episodes: self.episodes,
            length,
            size: self.size,
            action_dim: ka,
        })
    }

    /// The first `n` episodes and the rest (a held-out split by episode).
    pub fn split_at(&self, n: usize) -> (Clips, Clips) {
        let n = n.min(self.episodes);
        let fl = self.length * self.size * self.size * 3;
        let al = self.length * self.action_dim;
        let ml = self.length * self.size * self.size;
        let part = |range: std::ops::Range<usize>| Clips {
            frames: self.frames[range.start * fl..range.end * fl].to_vec(),
            masks: if self.has_masks() {
                self.masks[range.start * ml..range.end * ml].to_vec()
            } else {
                Vec::new()
            },
            actions: self.actions[range.start * al..range.end * al].to_vec(),
            episodes: range.len(),
            ..*self
        };
        (part(0..n), part(n..self.episodes))
    }

    /// The windows of step `step`: `batch` random (episode, start) pairs of `window` frames.
    pub fn batch(
        &self,
        seed: u64,
        step: u64,
        batch: usize,
        window: usize,
        device: &Device,
    ) -> Result<Batch> {
        if window > self.length || self.episodes == 0 {
            return Err(AgentError::OutOfRange {
                what: "window",
                value: window.to_string(),
                expected: format!(
                    "at most the episode length {} of a non-empty dataset",
                    self.length
                ),
            });
        }
        let mut h = Sha256::new();
        h.update(b"moravec/batch/v1");
        h.update(seed.to_le_bytes());
        h.update(step.to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(h.finalize().into());
        let picks: Vec<(usize, usize)> = (0..batch)
            .map(|_| {
                (
                    rng.random_range(0..self.episodes),
                    rng.random_range(0..=self.length - window),
                )
            })
            .collect();
        self.windows(&picks, window, device)
    }

    /// The given (episode, start) windows as a batch.
    pub fn windows(
        &self,
        picks: &[(usize, usize)],
        window: usize,
        device: &Device,
    ) -> Result<Batch> {
        let s = self.size;
        let fl = s * s * 3;
        let mut frames = Vec::with_capacity(picks.len() * window * fl);
        let mut masks = Vec::new();
        let mut actions = Vec::with_capacity(picks.len() * window * self.action_dim);
        for &(ep, start) in picks {
            let f0 = (ep * self.length + start) * fl;
            frames.extend_from_slice(&self.frames[f0..f0 + window * fl]);
            if self.has_masks() {
                let m0 = (ep * self.length + start) * s * s;
                masks.extend_from_slice(&self.masks[m0..m0 + window * s * s]);
            }
            let a0 = (ep * self.length + start) * self.action_dim;
            actions.extend_from_slice(&self.actions[a0..a0 + window * self.action_dim]);
        }
        let b = picks.len();
        let frames = Tensor::from_vec(frames, (b, window, s, s, 3), device)?
            .permute((0, 1, 4, 2, 3))?
            .to_dtype(candle_core::DType::F32)?;
        let frames = (frames / 255.0)?;
        let actions = Tensor::from_vec(actions, (b, window, self.action_dim), device)?;
        let masks = if self.has_masks() {
            Some(Tensor::from_vec(masks, (b, window, s, s), device)?)
        } else {
            None
        };
        Ok(Batch {
            frames,
            actions,
            masks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clips(episodes: usize, action_dim: usize, fill: u8) -> Clips {
        Clips {
            masks: Vec::new(),
            frames: vec![fill; episodes * 2 * 3],
            actions: (0..episodes * 2 * action_dim)
                .map(|i| i as f32 + 1.0)
                .collect(),
            episodes,
            length: 2,
            size: 1,
            action_dim,
        }
    }

    #[test]
    fn concat_pools_in_order_and_pads_actions_with_zeros() {
        let pooled = Clips::concat(&[clips(1, 2, 7), clips(2, 0, 9)]).unwrap();
        assert_eq!(pooled.episodes, 3);
        assert_eq!(pooled.action_dim, 2);
        assert_eq!(&pooled.frames[..6], &[7; 6]);
        assert_eq!(&pooled.frames[6..], &[9; 12]);
        assert_eq!(
            pooled.actions,
            vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
        let mut other = clips(1, 0, 0);
        other.length = 3;
        other.frames = vec![0; 9];
        assert!(Clips::concat(&[clips(1, 0, 0), other]).is_err());
        assert!(clips(1, 2, 0).pad_actions(1).is_err());
        let cut = clips(1, 2, 0).fit_actions(1);
        assert_eq!(cut.actions, vec![1.0, 3.0]);
        assert_eq!(clips(1, 2, 0).fit_actions(0).actions, Vec::<f32>::new());
        assert_eq!(
            clips(1, 1, 0).fit_actions(2).actions,
            vec![1.0, 0.0, 2.0, 0.0]
        );
    }

    #[test]
    fn frameskip_keeps_every_kth_frame_and_concatenates_the_actions_between() {
        // Two episodes of 7 one-pixel frames, frame t of episode e filled with 10 e + t, and
        // 2-entry actions numbered in order.
        let (n, t, a) = (2, 7, 2);
        let c = Clips {
            masks: Vec::new(),
            frames: (0..n * t)
                .flat_map(|i| [(10 * (i / t) + i % t) as u8; 3])
                .collect(),
            actions: (0..n * t * a).map(|i| i as f32).collect(),
            episodes: n,
            length: t,
            size: 1,
            action_dim: a,
        };
        let s = c.frameskip(3).unwrap();
        assert_eq!((s.length, s.action_dim, s.episodes), (3, 6, 2));
        let firsts: Vec<u8> = s.frames.chunks(3).map(|p| p[0]).collect();
        assert_eq!(firsts, [0, 3, 6, 10, 13, 16]);
        // Frame 0 -> 3 takes actions 0, 1, 2 (entries 0..6); 3 -> 6 takes 3, 4, 5.
        assert_eq!(&s.actions[..6], &[0., 1., 2., 3., 4., 5.]);
        assert_eq!(&s.actions[6..12], &[6., 7., 8., 9., 10., 11.]);
        assert_eq!(&s.actions[12..18], &[0.0; 6]);
        assert_eq!(&s.actions[18..24], &[14., 15., 16., 17., 18., 19.]);
        // A frameskip of 1 is the data itself; 0 is refused.
        let same = c.frameskip(1).unwrap();
        assert_eq!(
            (same.frames, same.actions),
            (c.frames.clone(), c.actions.clone())
        );
        assert!(c.frameskip(0).is_err());
    }
    #[test]
    fn masks_follow_their_frames_through_every_reshaping() {
        // Three episodes of 4 one-pixel frames: frame (e, t) is 10 e + t, its mask 100 + 10 e + t.
        let (n, t) = (3, 4);
        let c = Clips {
            frames: (0..n * t)
                .flat_map(|i| [(10 * (i / t) + i % t) as u8; 3])
                .collect(),
            masks: (0..n * t)
                .map(|i| (100 + 10 * (i / t) + i % t) as u8)
                .collect(),
            actions: Vec::new(),
            episodes: n,
            length: t,
            size: 1,
            action_dim: 0,
        };
        assert!(c.has_masks());
        let paired = |c: &Clips| -> Vec<(u8, u8)> {
            c.frames
                .chunks(3)
                .map(|p| p[0])
                .zip(c.masks.iter().copied())
                .collect()
        };
        let same = |c: &Clips| paired(c).iter().all(|(f, m)| *m == f + 100);
        assert!(same(&c.frameskip(2).unwrap()));
        assert_eq!(
            c.frameskip(2).unwrap().masks,
            [100, 102, 110, 112, 120, 122]
        );
        let (a, b) = c.split_at(1);
        assert!(same(&a) && same(&b) && a.masks.len() == 4 && b.masks.len() == 8);
        assert!(same(&Clips::concat(&[a.clone(), b.clone()]).unwrap()));
        assert!(same(&c.fit_actions(2)));
        let batch = c.windows(&[(2, 1), (0, 0)], 3, &Device::Cpu).unwrap();
        let masks = batch
            .masks
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<u8>()
            .unwrap();
        assert_eq!(masks, [121, 122, 123, 100, 101, 102]);
        // Clips without masks give batches without, and a pool with one part lacking them has none.
        let bare = Clips {
            masks: Vec::new(),
            ..a.clone()
        };
        assert!(
            bare.windows(&[(0, 0)], 2, &Device::Cpu)
                .unwrap()
                .masks
                .is_none()
        );
        assert!(!Clips::concat(&[bare, b]).unwrap().has_masks());
    }
}
