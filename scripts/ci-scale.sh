#!/usr/bin/env bash
# CI: the scale scenario at CI size on a clustered N=3 testbed of its own (local backend, its
# own cluster dir, addresses 127.0.92.x, epmd port and Erlang names), always taken down (trap).
# Both topologies in one run: clustered (a member SIGKILLed mid-run: fail-over, 0 confirmed
# events lost, ≤ 2 AMQP connections per instance from /api/connections), then the mesh on the
# same brokers.
#   SCALE_INSTANCES (default 10), SCALE_DURATION (seconds per topology, default 20)
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
. scripts/lib/temp-cluster.sh
temp_cluster scale
LOGS=${SCALE_LOGS:-$PWD/logs}
node bin/mirosnet.mjs cluster up --nodes 3 --topology clustered --dir "$DIR" \
  --address-base 127.0.92.11 --name-prefix cis --epmd-port 4392 --dist-port-base 26900
node scenarios/scale.mjs --instances "${SCALE_INSTANCES:-10}" --duration "${SCALE_DURATION:-20}" --dir "$DIR" --logs "$LOGS"
