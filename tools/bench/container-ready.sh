#!/usr/bin/env bash
# Container start -> READY: an sd_notify daemon (amf-demo-notify) in a runc container, restarted
# RUNS times by amfd; amf-ready-bench prints median and worst from amfd's event times.
#   tools/bench/container-ready.sh [RUNS]      (root, runc; after tools/run build)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${AMF_BIN_DIR:-$here/build/bin}  # ctest passes its own build tree
runs=${1:-20}
dir=$(mktemp -d /tmp/amf-ready-XXXXXX)
# A port below the ephemeral range (32768 and up: other tests' connections take those) that
# nothing listens on.
for _ in $(seq 50); do
  port=$((20000 + RANDOM % 12000))
  [[ -z $(ss -Htln "sport = :$port" 2>/dev/null) ]] && break
done
cat > "$dir/ready.yaml" <<YAML
cluster: {name: ready-bench}
nodes: [{name: node-1, controller: true}]
applications:
  - name: web
    service_groups:
      - name: web
        redundancy: no-redundancy
        su_template:
          nodes: [node-1]
          components:
            - name: server
              command: amf-demo-notify
              args: ["$port"]
              cs_types: [web]
              instantiated_when: notified
              runtime: oci
              container: {memory_limit_mb: 64, pids_limit: 32}
        service_instances: [{name: si-1, csis: [{name: c, cs_type: web}]}]
YAML
PATH=$bin:$PATH "$bin/amfd" --config "$dir/ready.yaml" --runtime-dir "$dir/run" >"$dir/amfd.log" 2>&1 &
amfd=$!
trap 'kill $amfd 2>/dev/null; wait $amfd 2>/dev/null; rm -rf "$dir"' EXIT
ready=0
for _ in $(seq 300); do
  if "$bin/amfctl" --runtime-dir "$dir/run" status 2>/dev/null | grep -q "web/su-1/server  instantiated"; then
    ready=1
    break
  fi
  sleep 0.1
done
if ((ready == 0)); then
  echo "container-ready.sh: web/su-1/server was not instantiated within 30 s; amfd's log:" >&2
  tail -30 "$dir/amfd.log" >&2
  exit 1
fi
"$bin/amf-ready-bench" --runtime-dir "$dir/run" --comp web/su-1/server --runs "$runs"
