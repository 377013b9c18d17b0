"""How big the violation's signal is against the nuisance, per level of a sweep: on the decidable
occluded permanence sets (hidden for at most 10 frames), the mean and spread over sets of
S(C) + S(D) - S(A) - S(B) (mean surprise per movie) and the mean surprise of a possible movie.

    .venv/bin/python scripts/nuisance_signal.py results/nuisance

Reads each level's scores.csv (written by the run; left out of git: rerun the sweep's command,
every stage reused, to write it).
"""
import csv
import statistics as st
import sys
from collections import defaultdict
from pathlib import Path

root = Path(sys.argv[1])
print("level,model,signal_mean,signal_sd,possible_surprise,sets")
for level_dir in sorted(root.glob("nuisance-*")):
    level = level_dir.name.split("-")[1]
    sets = defaultdict(dict)
    with open(level_dir / "scores.csv") as f:
        for r in csv.DictReader(f):
            if r["property"] == "permanence" and r["condition"] == "occluded" and int(r["occlusion_frames"]) <= 10:
                model = r["model"].split("@")[0]
                sets[(model, r["model"], r["set_id"])][int(r["member"])] = float(r["mean"])
    models = sorted({k[0] for k in sets})
    for model in models:
        d, base = [], []
        for (m, _, _), v in sets.items():
            if m == model and len(v) == 4:
                d.append(v[2] + v[3] - v[0] - v[1])
                base.append((v[0] + v[1]) / 2)
        print(f"{level},{model},{st.mean(d):.3e},{st.pstdev(d):.3e},{st.mean(base):.3e},{len(d)}")
