#!/usr/bin/env bash
# A longer fuzz campaign than the one CI runs: N damaged copies (default 3000) of each file a
# user can hand the harness or damage, fed to its reader (benches/tests/fuzz.rs). Prints, per
# reader, how many cases were refused (with an error naming the file) and how many still read.
#
#   scripts/faults/fuzz-campaign.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
cases=${1:-3000}
case $cases in ''|*[!0-9]*) echo "fuzz-campaign.sh: $cases: expected a number of cases" >&2; exit 2 ;; esac
MORAVEC_FUZZ_CASES=$cases cargo test --release -p moravec-bench --test fuzz -- --nocapture 2>&1 \
  | grep -E "cases,|test result|panicked|does not name|allocation|hung"
