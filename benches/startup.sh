#!/usr/bin/env bash
# Measures cold `harness up` (venv already provisioned, no LocalStack running) to healthy, and
# its baseline in the same go: the part of it that is LocalStack's own start-up (spawn to the
# first healthy /_localstack/health), which the supervisor reports. Prints a Markdown table.
#
# Usage: benches/startup.sh [RUNS]   (default 5; builds the dev harness binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build -q -p harness --bin harness
exe=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/harness
state=$(mktemp -d)
trap 'HARNESS_STATE_DIR=$state "$exe" down >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
export HARNESS_STATE_DIR=$state
# Provision outside the measurement (the cached case is what is measured).
"$exe" up >/dev/null 2>&1 && "$exe" down >/dev/null 2>&1
totals=() ; localstack=()
for i in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  out=$("$exe" up 2>&1)
  end=$(date +%s.%N)
  "$exe" down >/dev/null 2>&1
  totals+=("$(echo "$end - $start" | bc -l)")
  localstack+=("$(grep -o 'healthy at .* after [0-9.]* s' <<<"$out" | grep -o '[0-9.]* s$' | tr -d ' s')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mt=$(median "${totals[@]}"); ml=$(median "${localstack[@]}")
echo "| measure | median of $runs (s) | all runs (s) |"
echo "|---|---|---|"
printf '| LocalStack spawn to healthy (baseline) | %.2f | %s |\n' "$ml" "${localstack[*]}"
printf '| `harness up` end to end | %.2f | %s |\n' "$mt" "$(printf '%.2f ' "${totals[@]}")"
printf '| ratio (harness up / baseline) | %.2f | |\n' "$(echo "$mt / $ml" | bc -l)"
