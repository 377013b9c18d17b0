#!/usr/bin/env python3
"""Reads a Moravec dataset with nothing but numpy and safetensors, and checks it.

Usage: read_dataset.py DIR

Checks every shard's tensor names, dtypes and shapes against meta.json, recomputes the content
hash (SHA-256 over frames, actions, states, body_mask and masks of each shard in order, raw
little-endian bytes) and compares it with the recorded one, and checks that the instance masks
name only slots that hold a body (or 255: background and fixed bodies). Exits 1 on any mismatch.
"""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def main(root: Path) -> int:
    meta = json.loads((root / "meta.json").read_text())
    t, s, a, b = meta["frames"], meta["size"], meta["action_dim"], len(meta["slots"])
    digest = hashlib.sha256()
    total = 0
    for info in meta["shards"]:
        n = info["episodes"]
        shard = load_file(str(root / info["file"]))
        expected = {
            "frames": (np.uint8, (n, t, s, s, 3)),
            "actions": (np.float32, (n, t, a)),
            "states": (np.float32, (n, t, b, 13)),
            "body_mask": (np.uint8, (n, b)),
            "masks": (np.uint8, (n, t, s, s)),
        }
        if set(shard) != set(expected):
            print(f"{info['file']}: tensors {sorted(shard)}, expected {sorted(expected)}")
            return 1
        for name, (dtype, shape) in expected.items():
            x = shard[name]
            if x.dtype != dtype or x.shape != shape:
                print(f"{info['file']}: {name} is {x.dtype} {x.shape}, expected {np.dtype(dtype)} {shape}")
                return 1
            digest.update(x.astype(x.dtype.newbyteorder("<"), copy=False).tobytes())
        mask = shard["body_mask"].astype(bool)
        # Every masked pixel names a slot that holds a body in its episode.
        labels = shard["masks"].reshape(n, -1)
        for e in range(n):
            named = np.unique(labels[e])
            named = named[named != 255]
            if (named >= b).any() or not mask[e, named].all():
                print(f"{info['file']}: episode {e}'s masks name slots {named.tolist()}, present {np.flatnonzero(mask[e]).tolist()}")
                return 1
        states = shard["states"]
        # In the VoE suite a spliced movie may lose its object halfway (NaN from then on).
        if meta["split"] != "voe" and np.isnan(states[mask[:, None, :].repeat(t, axis=1)]).any():
            print(f"{info['file']}: NaN in the state of a present body")
            return 1
        total += n
    got = "sha256:" + digest.hexdigest()
    if got != meta["content_hash"]:
        print(f"content hash {got} differs from meta.json's {meta['content_hash']}")
        return 1
    if total != meta["episodes"]:
        print(f"{total} episodes in the shards, meta.json says {meta['episodes']}")
        return 1
    print(f"ok: {meta['scene']} {total} episodes x {t} frames at {s}x{s}, {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
