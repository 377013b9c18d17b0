#!/usr/bin/env python3
"""The same as linear_predictor.py with a PyTorch model (for users who have torch; not run in
CI): a small convolutional next-frame predictor trained for a few hundred steps, its per-frame
prediction error written for `bench score --surprise`.

Usage: torch_predictor.py TRAIN_DATASET SUITE OUT.csv [STEPS]
"""
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from moravec import load_dataset, load_suite, write_surprise  # noqa: E402


def to_tensor(frames):
    """(..., H, W, 3) uint8 -> (..., 3, H, W) float in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).float() / 255.0
    return x.movedim(-1, -3)


class Predictor(nn.Module):
    """Two frames in, the next out."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(6, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 3, 3, padding=1),
        )

    def forward(self, prev, now):
        return now + self.net(torch.cat([prev, now], dim=-3))


def main(train, suite, out, steps="300"):
    torch.manual_seed(0)
    frames = to_tensor(load_dataset(train)["frames"])  # (N, T, 3, H, W)
    model = Predictor()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n, t = frames.shape[:2]
    for step in range(int(steps)):
        e = torch.randint(n, (32,))
        k = torch.randint(t - 2, (32,))
        prev, now, nxt = frames[e, k], frames[e, k + 1], frames[e, k + 2]
        loss = ((model(prev, now) - nxt) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    rows = []
    with torch.no_grad():
        for movie in load_suite(suite):
            x = to_tensor(movie["frames"])
            err = ((model(x[:-2], x[1:-1]) - x[2:]) ** 2).mean(dim=(1, 2, 3))
            for i, e in enumerate(err.tolist(), start=2):
                rows.append((movie["property"], movie["set_id"], movie["member"], i, e))
    write_surprise(out, rows, suite=suite)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(*sys.argv[1:])
