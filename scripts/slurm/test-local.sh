#!/usr/bin/env bash
# The driver against a real Slurm: starts a one-node Slurm here (start-local.sh), runs the smoke
# preset (six planning episodes per cell) as job arrays of 4 shards per stage kind (submit.sh), runs the same preset locally
# without shards, and checks that the results are the same: every result file but the timing
# column of planning.csv and planning_episodes.csv (time per action) byte for byte, and `compare` with every delta +0.000. Not part of
# .ci/run (it starts daemons as root); CI runs the merge-equality tests without Slurm
# (benches/tests/sharded.rs and the sim crate's sliced tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
shards=${SHARDS:-4}
cargo build --release --bin bench --bin compare
bash scripts/slurm/start-local.sh >/dev/null
tmp=$(mktemp -d)
started=$(date +%s)
# Six planning episodes per cell, so that four shards of them are uneven (1, 2, 1, 2).
printf '[plan]\nepisodes = 6\n' > "$tmp/smoke.toml"
ids=$(scripts/slurm/submit.sh --shards "$shards" --work "$tmp/work" --out "$tmp/slurm" -- --preset smoke --config "$tmp/smoke.toml")
echo "$ids"
last=$(echo "$ids" | tail -1)
while squeue -h -j "$last" 2>/dev/null | grep -q .; do sleep 2; done
echo "slurm wall time: $(( $(date +%s) - started )) s"
failed=0
for id in $(echo "$ids" | sed -n 's/^.*: //p'); do
  states=$(scontrol show job "$id" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | sort | uniq -c | tr '\n' ' ')
  echo "job $id: $states"
  if echo "$states" | grep -qE 'JobState=' && echo "$states" | grep -oE 'JobState=[A-Z_]+' | grep -qv 'JobState=COMPLETED'; then
    failed=1
  fi
done
[ "$failed" = 0 ] || { echo "a job failed; logs in $tmp/work/slurm-logs" >&2; exit 1; }
target/release/bench run --preset smoke --config "$tmp/smoke.toml" --work "$tmp/local-work" --out "$tmp/local" >/dev/null 2>&1
for f in voe.csv voe_seeds.csv probe.csv scores.csv curves.csv learning_curve.csv; do
  [ -f "$tmp/local/$f" ] || continue
  cmp "$tmp/local/$f" "$tmp/slurm/$f"
done
# Planning rows but their last column, the time per action.
for f in planning.csv planning_episodes.csv; do
  diff <(sed 's/,[^,]*$//' "$tmp/local/$f") <(sed 's/,[^,]*$//' "$tmp/slurm/$f")
done
target/release/compare "$tmp/local" "$tmp/slurm" > "$tmp/compare.txt"
rows=$(grep -cE '(overlap|disjoint)$' "$tmp/compare.txt")
moved=$(grep -E '(overlap|disjoint)$' "$tmp/compare.txt" | grep -vc '+0.000' || true)
echo "compare: $rows rows, $moved not +0.000"
[ "$rows" -gt 0 ] && [ "$moved" = 0 ]
echo "OK: the Slurm run's results are the local run's"
rm -rf "$tmp"
