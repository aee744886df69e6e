#!/usr/bin/env bash
# amfd start-up against the number of service groups: for each N, a 2N SG of two `sleep`
# components (instantiated when started) and one SI, N times, on one node. Prints, per N:
# seconds until amfctl first answers, seconds until every SI has an active, and amfd's peak
# RSS. Numbers, not assertions.
#   tools/bench/startup.sh [N ...]        default: 100 1000 5000 (after tools/run build)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${AMF_BIN_DIR:-$here/build/bin}  # ctest passes its own build tree
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)
dir=$(mktemp -d /tmp/amf-startup-XXXXXX)
amfd_pid=
cleanup() {
  [ -z "$amfd_pid" ] || { kill "$amfd_pid" 2>/dev/null; wait "$amfd_pid" 2>/dev/null || true; }
  rm -rf "$dir"
}
trap cleanup EXIT
now() { date +%s.%N; }

printf '%8s %10s %16s %18s %14s\n' SGs processes "first answer s" "all SIs active s" "amfd peak MB"
for n in "${sizes[@]}"; do
  config=$dir/startup-$n.yaml
  {
    echo "cluster: {name: startup-bench}"
    echo "nodes: [{name: node-1, controller: true}]"
    echo "applications:"
    echo "  - name: app"
    echo "    service_groups:"
    for ((i = 0; i < n; i++)); do
      cat <<YAML
      - name: sg$i
        redundancy: 2n
        su_template:
          nodes: [node-1, node-1]
          components:
            - name: c
              command: /bin/sleep
              args: ["100000"]
              cs_types: [t]
              instantiated_when: started
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
YAML
    done
  } > "$config"
  runtime=$dir/run-$n
  start=$(now)
  "$bin/amfd" --config "$config" --runtime-dir "$runtime" --log-level warn 2> "$dir/amfd-$n.err" &
  amfd_pid=$!
  first=
  deadline=$(( $(date +%s) + 600 ))   # a bound on a hang, not a target
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if "$bin/amfctl" --runtime-dir "$runtime" status -o json > "$dir/status.json" 2>/dev/null; then
      [ -n "$first" ] || first=$(now)
      active=$( (grep -o '"ha_state": *"active"' "$dir/status.json" || true) | wc -l)
      [ "$active" -lt "$n" ] || break
    fi
    sleep 0.05
  done
  done_at=$(now)
  peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$amfd_pid/status")
  kill "$amfd_pid"
  wait "$amfd_pid" || true
  amfd_pid=
  printf '%8d %10d %16.3f %18.3f %14.1f\n' "$n" $((2 * n)) \
    "$(echo "${first:-$done_at} - $start" | bc)" "$(echo "$done_at - $start" | bc)" \
    "$(echo "$peak_kb / 1024" | bc -l)"
done
