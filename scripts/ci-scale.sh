#!/usr/bin/env bash
# CI: the scale scenario at CI size on a clustered N=3 testbed of its own (local backend, its
# own cluster dir, addresses 127.0.92.x, epmd port and Erlang names), always taken down (trap).
# Both topologies in one run: clustered (a member SIGKILLed mid-run: fail-over, 0 confirmed
# events lost, ≤ 2 AMQP connections per instance from /api/connections), then the mesh on the
# same brokers.
# With Debian's prometheus installed, --observe: afterwards its Prometheus (on the cluster dir,
# stopped by the trap's cluster down) must hold miros_mesh_delivered_total of every instance of
# the clustered phase and rabbitmq_queues of every node (their last values: series of a run that ended).
#   SCALE_INSTANCES (default 10), SCALE_DURATION (seconds per topology, default 20)
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
. scripts/lib/temp-cluster.sh
temp_cluster scale
LOGS=${SCALE_LOGS:-$PWD/logs}
node bin/mirosnet.mjs cluster up --nodes 3 --topology clustered --dir "$DIR" \
  --address-base 127.0.92.11 --name-prefix cis --epmd-port 4392 --dist-port-base 26900
M=${SCALE_INSTANCES:-10}
OBSERVE=()
if [ -x /usr/bin/prometheus ]; then OBSERVE=(--observe); else echo "ci-scale: SKIPPED: --observe (NEEDS /usr/bin/prometheus: mirosnet install-deps --observe)"; fi
node scenarios/scale.mjs --instances "$M" --duration "${SCALE_DURATION:-20}" --dir "$DIR" --logs "$LOGS" "${OBSERVE[@]}"
if [ ${#OBSERVE[@]} -gt 0 ]; then
  count() { curl -sf --get --data-urlencode "query=count($1)" http://127.0.0.1:9090/api/v1/query | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).data.result[0]?.value[1] ?? 0));'; }
  # the clustered phase's instances (label run: one per phase; their series are stale now)
  got=$(count 'count by (run) (last_over_time(miros_mesh_delivered_total{job="miros"}[30m]) > 0) == '"$M")
  # every node scraped during the run (the killed member's series went stale at its kill)
  nodes=$(count 'last_over_time(rabbitmq_queues{job="rabbitmq"}[30m])')
  echo "ci-scale: observe: a phase with miros_mesh_delivered_total > 0 for all $M instances: $got; rabbitmq_queues of $nodes nodes"
  [ "$got" -ge 1 ] && [ "$nodes" = 3 ] || { echo "ci-scale: FAIL: Prometheus lacks the instances' or the nodes' series" >&2; exit 1; }
fi
