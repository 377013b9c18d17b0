"""The picture of the nuisance levels in docs/nuisance.md: one occlusion episode at levels 0 to 3
(rows), frames 0, 8, 16 and 23 (columns), each pixel drawn 3x3.

    for n in 0 1 2 3; do
      cargo run --release --bin bench -- generate --scene occlusion --episodes 1 --frames 24 \
          --size 64 --nuisance $n --out /tmp/nuisance-$n --force
    done
    .venv/bin/python scripts/nuisance_levels.py /tmp/nuisance- docs/scenes/nuisance-levels.png

Needs numpy and Pillow.
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))
from moravec import load_dataset  # noqa: E402

prefix, out = sys.argv[1], sys.argv[2]
rows = []
for level in range(4):
    frames = load_dataset(f"{prefix}{level}")["frames"]
    rows.append(np.concatenate([frames[0, t] for t in (0, 8, 16, 23)], axis=1))
image = np.concatenate(rows, axis=0)
h, w = image.shape[:2]
Image.fromarray(image).resize((w * 3, h * 3), Image.NEAREST).save(out)
