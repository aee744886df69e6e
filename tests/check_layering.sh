#!/usr/bin/env bash
# The dependency rules of DESIGN.md, checked on every test run:
#  - cores (amf/core, amf/model, amf/protocol, amf/membership, amf/checkpoint, amf/director, amf/node,
#    amf/runtime, models) are sans-I/O: no Asio,
#    ZeroMQ, protobuf, yaml-cpp, systemd, spdlog, sockets or files;
#  - so is the simulator (sim/), which links cores only;
#  - cores and the simulator read no clock, no environment and start no thread: time comes in
#    through handle()/tick(), configuration through their constructors;
#  - protobuf never leaves amf/wire; yaml-cpp never leaves config/.
set -uo pipefail
root=${1:?usage: check_layering.sh REPO_ROOT}
cd "$root" || exit 2
status=0

report() {  # message, offending lines
  if [ -n "$2" ]; then
    printf '%s\n%s\n\n' "$1" "$2"
    status=1
  fi
}

cores=(amf/core amf/model amf/protocol amf/membership amf/checkpoint amf/director amf/node amf/runtime models)
io='#include[[:space:]]*[<"](boost/|zmq|google/protobuf|yaml-cpp|systemd/|spdlog|sys/socket|fcntl\.h|unistd\.h|fstream|thread|random|amf/wire/|amf/daemon/|amf/component/|config/|containers/)'
report "core modules must stay sans-I/O; these includes break the rule:" \
  "$(grep -rnE "$io" "${cores[@]}")"
# No clock read, environment read or thread in a core or the simulator (comments aside).
ambient='(Clock|steady_clock|system_clock|high_resolution_clock)::now|getenv|std::(thread|jthread|async)\b|pthread_'
report "cores and the simulator take time and configuration from their callers; these read them:" \
  "$(grep -rnE "$ambient" "${cores[@]}" sim | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//')"
# The simulator links cores only and is sans-I/O too; it may name the seeded generator type.
report "the simulator must stay sans-I/O; these includes break the rule:" \
  "$(grep -rnE "$io" sim | grep -v '<random>')"
report "protobuf types must not leave amf/wire:" \
  "$(grep -rnE '#include[[:space:]]*[<"](google/protobuf|.*\.pb\.h)' --include='*.h' --include='*.cc' . |
     grep -vE '^\./(amf/wire/|build)')"
report "yaml-cpp must not leave config/:" \
  "$(grep -rnE '#include[[:space:]]*[<"]yaml-cpp' --include='*.h' --include='*.cc' . |
     grep -vE '^\./(config/|build)')"

[ $status -eq 0 ] && echo "layering: cores are sans-I/O and read no clock, protobuf stays in amf/wire, yaml-cpp in config/"
exit $status
