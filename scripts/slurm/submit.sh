#!/usr/bin/env bash
# Turns one `bench run` into Slurm jobs with dependencies, on a work folder every node shares:
#
#   data shards (array) -> merge -> suite shards (array) -> merge -> training shards (array,
#   whole models; on --gpu-partition if given) -> merge -> scoring shards (array, the suite's
#   movies, the learning curve's points included) -> merge -> probe shards (array, whole
#   probes) -> merge -> planning shards (array, each cell's episodes) -> merge -> results
#
# Every job runs `bench run` with the same run options, so the stage cache is the same, and a
# run stopped anywhere can be finished or resumed locally with the plain `bench run` command.
#
#   scripts/slurm/submit.sh --shards 4 --work /shared/runs --out results/R -- --preset smoke
#
# Options before `--` are the driver's; after it, `bench run`'s (--preset, --config, ...).
# Prints the job ids, one line per job, and the id of the last job last. `bench run --plan-only`
# with the same options lists the stages first (their keys, and how far each kind can be cut).
set -euo pipefail
shards=4
work=runs
out=
partition=
gpu_partition=
mem=4G
bench=${BENCH:-$PWD/target/release/bench}
logs=
while [ $# -gt 0 ]; do
  case $1 in
    --shards) shards=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --partition) partition=$2; shift 2 ;;
    --gpu-partition) gpu_partition=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "submit.sh: unknown option $1 (expected --shards, --work, --out, --partition, --gpu-partition, --mem, --bench, --logs, then -- and bench run's options)" >&2; exit 2 ;;
  esac
done
case $shards in ''|*[!0-9]*|0) echo "submit.sh: --shards $shards: expected a whole number of at least 1" >&2; exit 2 ;; esac
[ -x "$bench" ] || { echo "submit.sh: no bench binary at $bench (cargo build --release, or --bench PATH)" >&2; exit 2; }
logs=${logs:-$work/slurm-logs}
mkdir -p "$logs"
run=("$bench" run --work "$work" "$@")
common=(--parsable --mem "$mem" --cpus-per-task 1)
[ -n "$partition" ] && common+=(--partition "$partition")

# submit NAME DEPENDENCY ARRAY EXTRA... -- COMMAND: prints the job id.
submit() {
  local name=$1 after=$2 array=$3; shift 3
  local extra=()
  while [ "$1" != "--" ]; do extra+=("$1"); shift; done
  shift
  local opts=("${common[@]}" --job-name "moravec-$name" "${extra[@]}")
  [ -n "$after" ] && opts+=(--dependency "afterok:$after" --kill-on-invalid-dep=yes)
  if [ -n "$array" ]; then
    opts+=(--array "1-$array" --output "$logs/$name-%A_%a.out")
  else
    opts+=(--output "$logs/$name-%j.out")
  fi
  sbatch "${opts[@]}" --wrap "$(printf '%q ' "$@")"
}

# The stages the jobs will make, listed before anything is submitted (also a check of the options).
"${run[@]}" --plan-only > "$logs/plan-only.txt"

# shards KIND: an array making the shards of every stage of KIND, then their merge.
shards() {
  local kind=$1
  extra=()
  if [ "$kind" = train ] && [ -n "$gpu_partition" ]; then
    extra=(--partition "$gpu_partition" --gres gpu:1)
  fi
  # The array's shard index is Slurm's task id, read when the job runs.
  shard_id=$(submit "$kind" "$last" "$shards" "${extra[@]}" -- \
    bash -c "exec \"\$@\" --shard \$SLURM_ARRAY_TASK_ID/$shards --stage $kind" _ "${run[@]}")
  echo "$kind shards: $shard_id"
  last=$(submit "merge-$kind" "$shard_id" "" -- "${run[@]}" --merge "$kind" --shards "$shards")
  echo "$kind merge: $last"
}

last=
for kind in data voe train score probe plan; do shards "$kind"; done
final=("${run[@]}")
[ -n "$out" ] && final+=(--out "$out")
last=$(submit results "$last" "" -- "${final[@]}")
echo "results: $last"
echo "$last"
