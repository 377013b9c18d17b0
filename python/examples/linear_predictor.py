#!/usr/bin/env python3
"""A model of your own, scored by Moravec: a linear next-frame predictor fitted with numpy.

Usage: linear_predictor.py TRAIN_DATASET SUITE OUT.csv

Fits a ridge regression from each frame to the next on a training dataset (`bench generate`),
both average-pooled to 8x8, then writes each suite movie's per-frame surprise (the squared error
of the predicted next frame) in the format `bench score --surprise` reads:

    cargo run --release --bin bench -- score --suite SUITE --surprise OUT.csv --name linear
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from moravec import load_dataset, load_suite, write_surprise  # noqa: E402

SIDE = 8
RIDGE = 1e-2


def pooled(frames):
    """(..., H, W, 3) uint8 -> (..., SIDE * SIDE * 3) float in [0, 1]."""
    *lead, h, w, c = frames.shape
    p = h // SIDE
    x = frames.reshape(*lead, SIDE, p, SIDE, p, c).mean(axis=(-4, -2)) / 255.0
    return x.reshape(*lead, SIDE * SIDE * c)


def fit(frames):
    """Ridge regression from frame t to t + 1 over every episode; a bias column."""
    x = pooled(frames)
    a = x[:, :-1].reshape(-1, x.shape[-1])
    b = x[:, 1:].reshape(-1, x.shape[-1])
    a = np.hstack([a, np.ones((len(a), 1))])
    return np.linalg.solve(a.T @ a + RIDGE * np.eye(a.shape[1]), a.T @ b)


def main(train, suite, out):
    w = fit(load_dataset(train)["frames"])
    rows = []
    for movie in load_suite(suite):
        x = pooled(movie["frames"])
        pred = np.hstack([x[:-1], np.ones((len(x) - 1, 1))]) @ w
        err = ((pred - x[1:]) ** 2).mean(axis=1)
        for t, e in enumerate(err, start=1):
            rows.append((movie["property"], movie["set_id"], movie["member"], t, e))
    write_surprise(out, rows, suite=suite)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
