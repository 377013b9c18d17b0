#!/usr/bin/env bash
# A longer kill campaign than the one CI runs: the smoke preset killed (SIGKILL) at N seeded
# random moments (default 200) and started again until it completes; its results must equal an
# uninterrupted run's (benches/tests/faults.rs). Prints where the kills landed.
#
#   scripts/faults/kill-campaign.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
kills=${1:-200}
case $kills in ''|*[!0-9]*) echo "kill-campaign.sh: $kills: expected a number of kills" >&2; exit 2 ;; esac
MORAVEC_KILLS=$kills cargo test --release -p moravec-bench --test faults \
  a_run_killed_at_random_moments -- --nocapture 2>&1 | grep -E "kills in|test result|panicked|differ"
