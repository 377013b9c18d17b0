#!/usr/bin/env python3
"""Projects a run's wall time on N machines from the stage times its meta.json recorded.

    python3 scripts/scale_projection.py results/standard/meta.json 1 2 4 8 16 32 plan=10

A `KIND=U` argument caps how many machines a cut kind can use: its stages have at most U units
(`bench run --plan-only` says how many: the standard run's planning cells have 10 episodes).

Each stage's `original_seconds` is the time one machine spent on it. The projection follows how
`bench run --shard I/N` cuts each kind of stage:

- data, voe, score, plan: every stage is cut into N slices of its units (files, sets, movies,
  episodes), so a kind takes (sum of its stages) / N, if its units cost the same (the suite's do
  not: see docs/scale.md) and there are at least N of them;
- train, probe: whole stages are dealt round-robin in the run's order (stage k to shard k mod
  N), so a kind takes the largest sum a shard is dealt.

Kinds run one after another (each array waits for the merge before it). Job start, model
loading per shard and the merges are not counted: measure them (docs/scale.md) and add them.
"""

import json
import sys
from collections import defaultdict

CUT = ("data", "voe", "score", "plan")
WHOLE = ("train", "probe")
ORDER = ("data", "voe", "train", "score", "probe", "plan")


def project(stages, n, caps):
    """Seconds per kind on n machines, the cut kinds using at most caps[kind] of them."""
    out = {}
    for kind in ORDER:
        times = [s["original_seconds"] for s in stages if s["kind"] == kind]
        if kind in CUT:
            out[kind] = sum(times) / min(n, caps.get(kind, n))
        else:
            dealt = defaultdict(float)
            for k, t in enumerate(times):
                dealt[k % n] += t
            out[kind] = max(dealt.values(), default=0.0)
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: scale_projection.py META_JSON N [N ...]")
    path = sys.argv[1]
    try:
        with open(path) as f:
            meta = json.load(f)
        stages = meta["stages"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"{path}: not a run's meta.json with stage times ({e})")
    counts, caps = [], {}
    for a in sys.argv[2:]:
        kind, _, cap = a.partition("=")
        try:
            if cap:
                if kind not in CUT:
                    raise ValueError
                caps[kind] = int(cap)
            else:
                counts.append(int(a))
        except ValueError:
            sys.exit(
                f"{a}: expected a number of machines, or KIND=UNITS with KIND one of "
                f"{', '.join(CUT)}"
            )
    if not counts or any(c < 1 for c in counts + list(caps.values())):
        sys.exit(f"machine counts {counts}, caps {caps}: expected whole numbers of at least 1")
    print("| machines | " + " | ".join(ORDER) + " | total | speed-up |")
    print("|---|" + "---|" * (len(ORDER) + 2))
    one = sum(project(stages, 1, caps).values())
    for n in counts:
        p = project(stages, n, caps)
        total = sum(p.values())
        cells = " | ".join(f"{p[k]:.0f} s" for k in ORDER)
        print(f"| {n} | {cells} | {total / 60:.1f} min | {one / total:.1f}x |")


if __name__ == "__main__":
    main()
