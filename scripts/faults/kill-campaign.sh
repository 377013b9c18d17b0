#!/usr/bin/env bash
# A longer kill campaign than the one CI runs: the smoke preset killed (SIGKILL) at N seeded
# random moments (default 200), started again until it completes, then killed N/3 more times
# while it writes the results; its results must equal an uninterrupted run's
# (benches/tests/faults.rs). Prints where the kills landed; the whole output, with the log of
# any attempt that failed, is kept in target/kill-campaign.log.
#
#   scripts/faults/kill-campaign.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
kills=${1:-200}
case $kills in ''|*[!0-9]*) echo "kill-campaign.sh: $kills: expected a number of kills" >&2; exit 2 ;; esac
log=target/kill-campaign.log
mkdir -p target
status=0
MORAVEC_KILLS=$kills cargo test --release -p moravec-bench --test faults \
  a_run_killed_at_random_moments -- --nocapture > "$log" 2>&1 || status=$?
grep -E "kills|test result" "$log" || true
if [ "$status" != 0 ]; then
  grep -A40 panicked "$log" | head -60
  echo "kill-campaign.sh: failed; the whole output is in $log" >&2
fi
exit "$status"
