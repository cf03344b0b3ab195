#!/usr/bin/env bash
# CI: chaos at CI size, then the mesh-ring and spy scenarios, on netns hosts (root): each
# instance runs in its host's namespace, beside that host's broker. Its own cluster dir, namespaces
# (mci-*) and addresses (10.77.90.0/24), always taken down (trap). The resume p99 is
# reported, not gated (--resume-p99 0): a noisy machine must not turn CI red.
#   CHAOS_CYCLES (default 20), CHAOS_SEED (default 2026), CHAOS_FAULTS (default: every kind)
# kill-instance: the killed receiver's duplicates are counted (DUP@KILLED), its losses must be 0.
# latency: the toxic proxy in the hosts' namespaces (ops/faults/toxics.ts).
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "ci-chaos.sh needs root (netns)" >&2; exit 1; }
. scripts/lib/temp-cluster.sh
temp_cluster chaos
LOGS=${CHAOS_LOGS:-$PWD/logs}
node bin/mirosnet.mjs cluster up --backend netns --nodes 3 --dir "$DIR" --ns-prefix "${CHAOS_NS_PREFIX:-mci}" --address-base "${CHAOS_ADDRESS_BASE:-10.77.90.11}"
node scenarios/chaos.mjs --backend netns --nodes 3 --dir "$DIR" --logs "$LOGS" \
  --cycles "${CHAOS_CYCLES:-20}" --seed "${CHAOS_SEED:-2026}" \
  --faults "${CHAOS_FAULTS:-partition,isolate,kill-broker,pause-broker,restart-broker,kill-instance,latency}" --resume-p99 0
# the cluster is healed and up after the last cycle: the scenarios a user runs first, here too
for s in mesh-ring spy; do
  node "scenarios/$s.mjs" --backend netns --nodes 3 --dir "$DIR" --logs "$LOGS" | tee "$DIR/$s.out"
  grep -q "started .* (netns)" "$DIR/$s.out" || { echo "$s: the instances did not run in the hosts' namespaces" >&2; exit 1; }
done
