#!/usr/bin/env bash
# The simulator's speed against the size of the cluster: for each point NODES:SGS:SIS (SGS 2N
# service groups of two SUs and SIS SIs each, spread over NODES nodes), one amf-sim run with the
# default fault mix for the given simulated time, then settling. Prints nodes, SIs, steps,
# simulated seconds per wall second and peak memory. Numbers, not assertions.
#   tools/bench/sim_scale.sh [--duration 10m] [NODES:SGS:SIS ...]   (after tools/run build)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${AMF_BIN_DIR:-$here/build/bin}  # ctest passes its own build tree
duration=10m
if [ "${1:-}" = --duration ]; then
  duration=$2
  shift 2
fi
points=("$@")
[ ${#points[@]} -gt 0 ] || points=(1:10:2 10:50:2 50:250:2 200:1000:2 500:1000:5 1000:1000:10)

printf '%6s %6s %7s %9s %14s %9s\n' nodes SGs SIs steps "sim s/wall s" "peak MB"
for p in "${points[@]}"; do
  IFS=: read -r nodes sgs sis <<<"$p"
  out=$("$bin/amf-sim" --seed 1 --spec "2n sus=2 sis=$sis" --copies "$sgs" --nodes "$nodes" \
    --duration "$duration")
  if ! grep -q "Every invariant held" <<<"$out"; then
    echo "sim_scale: $p: the run found a violation:" >&2
    echo "$out" >&2
    exit 1
  fi
  steps=$(grep -o 'in [0-9]* steps' <<<"$out" | grep -o '[0-9]*')
  speed=$(grep -o '[0-9]* simulated seconds per wall second' <<<"$out" | grep -o '^[0-9]*')
  peak=$(grep -o 'peak memory [0-9]* MB' <<<"$out" | grep -o '[0-9]*')
  printf '%6s %6s %7s %9s %14s %9s\n' "$nodes" "$sgs" $((sgs * sis)) "$steps" "$speed" "$peak"
done
