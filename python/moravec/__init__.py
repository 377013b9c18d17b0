"""Read Moravec datasets and VoE suites with numpy and safetensors alone, and write the surprise
file `bench score --surprise` reads.

    from moravec import load_dataset, load_suite, suite_id, write_surprise

    data = load_dataset("data/occlusion/train")       # dict of numpy arrays + meta
    for movie in load_suite("suite"):                  # one dict per movie of the suite
        movie["frames"]                                 # (T, H, W, 3) uint8
        movie["property"], movie["set_id"], movie["member"], movie["possible"]

The file formats are described in docs/evaluate.md.
"""
import csv
import hashlib
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load

__all__ = ["load_dataset", "load_suite", "suite_id", "write_surprise"]


def load_dataset(root):
    """Every shard of a dataset folder, concatenated: `frames` (N, T, H, W, 3) uint8, `actions`
    (N, T, A) float32, `states` (N, T, B, 13) float32, `body_mask` (N, B) uint8, `masks`
    (N, T, H, W) uint8 (the body slot each pixel shows, 255 for background and fixed bodies), and
    `meta` (meta.json as a dict). A shard whose bytes do not hash to the `sha256` meta.json
    recorded for it is refused (ValueError naming the file)."""
    root = Path(root)
    meta = json.loads((root / "meta.json").read_text())
    parts = {"frames": [], "actions": [], "states": [], "body_mask": [], "masks": []}
    for info in meta["shards"]:
        path = root / info["file"]
        data = path.read_bytes()
        if "sha256" in info and "sha256:" + hashlib.sha256(data).hexdigest() != info["sha256"]:
            raise ValueError(f"{path}: damaged: its bytes do not hash to the {info['sha256']} meta.json recorded")
        shard = load(data)
        for name in parts:
            parts[name].append(shard[name])
    out = {name: np.concatenate(arrays) for name, arrays in parts.items()}
    out["meta"] = meta
    return out


def _sets(root):
    with open(root / "sets.csv", newline="") as f:
        return list(csv.DictReader(f))


def load_suite(root):
    """Yields each movie of a VoE suite folder (`bench generate --voe`), in `sets.csv` order, as
    a dict: `frames` (T, H, W, 3) uint8, `masks` (T, H, W) uint8, `property`, `condition`,
    `set_id`, `member`, `possible`, `violation_frame`, `occlusion_frames`."""
    root = Path(root)
    meta = json.loads((root / "meta.json").read_text())
    data = {p["property"]: load_dataset(root / p["dir"]) for p in meta["properties"]}
    for row in _sets(root):
        movie = data[row["property"]]
        yield {
            "frames": movie["frames"][int(row["episode"])],
            "masks": movie["masks"][int(row["episode"])],
            "property": row["property"],
            "condition": row["condition"],
            "set_id": int(row["set_id"]),
            "member": int(row["member"]),
            "possible": row["possible"] == "true",
            "violation_frame": int(row["violation_frame"]),
            "occlusion_frames": int(row["occlusion_frames"]),
        }


def suite_id(root):
    """The suite's identity, as `bench score` computes it: SHA-256 over its properties' content
    hashes, one per line in meta.json's order."""
    meta = json.loads((Path(root) / "meta.json").read_text())
    h = hashlib.sha256()
    for p in meta["properties"]:
        h.update(p["content_hash"].encode() + b"\n")
    return "sha256:" + h.hexdigest()


def write_surprise(path, rows, suite=None):
    """Writes `bench score`'s input: `rows` of (property, set_id, member, surprise), one per
    movie, or (property, set_id, member, frame, surprise), one per window or frame. With
    `suite` (its folder), the file starts with the suite's id so that it is scored on no other."""
    rows = list(rows)
    per_frame = bool(rows) and len(rows[0]) == 5
    header = ["property", "set_id", "member"] + (["frame"] if per_frame else []) + ["surprise"]
    with open(path, "w", newline="") as f:
        if suite is not None:
            f.write(f"# suite {suite_id(suite)}\n")
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([*r[:-1], repr(float(r[-1]))])
