#!/usr/bin/env bash
# The containerised testbed tested with a real engine (issue 7, items 1-3). Root, no stdin.
#   - installs docker.io, debootstrap, docker-compose (Debian's) when missing
#   - starts its own dockerd (own data root, exec root, socket, pidfile; iptables off)
#   - runs scripts/compose-local.sh (the offline images' one build step): debian:bookworm-slim
#     made with debootstrap (no registry) from the Debian mirror of this machine's own apt
#     sources (or $MIROS_DEBIAN_MIRROR), then our images; the instance image is the
#     `npm pack` tarball installed with production dependencies
#   - runs the docker tests (testcontainers helper, TLS, toxics), `cluster up/status/down --backend docker`
#     and the mesh-ring, spy and chaos (7 cycles, one of each fault kind) scenarios with the
#     docker backend (brokers AND instances in containers: the instances from the instance
#     image), then compose/compose.yml
#     on its offline path (MIROS_IMAGES=local): n1..n3 healthy, their published ports, and
#     two compiled peers (docker-compose run peer) exchanging events; the default path
#     (official images from Docker Hub, unreachable here) is checked with `config` only
#   - ALWAYS removes its containers and networks and stops its dockerd (trap)
# `ci-docker.sh compose` runs the image and compose steps only (for work on compose/).
# The data root (images, layer cache) stays in $MIROS_DOCKER_ROOT (default
# /var/tmp/mirosnet-docker) so a second run builds from cache; delete it to start afresh.
# No package source is named here: apt, debootstrap and npm use this machine's configuration.
set -euo pipefail
exec </dev/null

cd "$(dirname "$0")/.."
REPO=$PWD
T_START=$(date +%s.%N)
ROOT=${MIROS_DOCKER_ROOT:-/var/tmp/mirosnet-docker}
RUN=$(mktemp -d /tmp/mirosnet-ci-docker.XXXXXX)
export DOCKER_HOST="unix://$RUN/docker.sock"
export MIROS_CLUSTER_DIR="$RUN/cluster"
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
STORAGE=${MIROS_DOCKER_STORAGE:-overlay2}
# compose on the offline path, in a project of its own, its ports published away from 5672/15672
COMPOSE_SUBNET=10.80.0
COMPOSE_PORTS=(MIROS_N1_AMQP_PORT=35672 MIROS_N1_HTTP_PORT=45672 MIROS_N2_AMQP_PORT=35673 MIROS_N2_HTTP_PORT=45673 MIROS_N3_AMQP_PORT=35674 MIROS_N3_HTTP_PORT=45674)
COMPOSE=(env MIROS_IMAGES=local MIROS_SUBNET_PREFIX=$COMPOSE_SUBNET "${COMPOSE_PORTS[@]}" docker-compose -f compose/compose.yml -p mirosnet-compose)
DOCKERD_PID=
TIMINGS=()

say() { printf '==> [ci-docker] %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
step() { # step NAME CMD...: runs CMD, records its time
  local name=$1 t0; shift
  t0=$(now)
  say "$name"
  "$@"
  TIMINGS+=("$(printf '%-34s %6s s' "$name" "$(since "$t0")")")
}

cleanup() {
  local rc=$?
  set +e
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    say "cleanup: cluster down, labelled containers and networks, dockerd (pid $DOCKERD_PID)"
    node bin/mirosnet.mjs cluster down --backend docker >/dev/null 2>&1
    "${COMPOSE[@]}" --profile instances down --remove-orphans >/dev/null 2>&1
    ids="$(docker ps -aq --filter label=io.mirosnet.cluster 2>/dev/null) $(docker ps -aq --filter label=org.testcontainers 2>/dev/null)"
    [ -n "${ids// /}" ] && docker rm -f $ids >/dev/null 2>&1
    nets=$(docker network ls -q --filter label=io.mirosnet.cluster 2>/dev/null)
    [ -n "$nets" ] && docker network rm $nets >/dev/null 2>&1
    kill -TERM "$DOCKERD_PID"
    for _ in $(seq 1 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DOCKERD_PID" 2>/dev/null && kill -KILL "$DOCKERD_PID"
  fi
  # containerd-shims of our engine live under our exec root; none should outlive dockerd
  for m in $(awk -v r="$RUN/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do umount "$m"; done
  rm -rf "$RUN"
  say "total $(since "$T_START") s, exit $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "ci-docker.sh needs root (it starts dockerd)" >&2; exit 1; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
  fi
  [ -d node_modules/testcontainers ] || npm ci --no-audit --no-fund
}

start_dockerd() {
  mkdir -p "$ROOT/data" "$RUN/exec"
  # A default bridge (testcontainers publishes ports through it), on its own subnet; no
  # iptables: nothing is NATed to the outside, ports reach the host through docker-proxy.
  dockerd --iptables=false --ip6tables=false --ip-masq=false --bip 10.79.0.1/24 \
    --storage-driver="$STORAGE" --data-root "$ROOT/data" --exec-root "$RUN/exec" \
    --pidfile "$RUN/dockerd.pid" --host "$DOCKER_HOST" >"$RUN/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 100); do
    docker version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -20 "$RUN/dockerd.log" >&2; return 1; }
    sleep 0.1
  done
  docker version >/dev/null
  say "dockerd pid $DOCKERD_PID, storage $(docker info -f '{{.Driver}}'), $DOCKER_HOST"
}

compose_config() { # both image sources resolve; the default one (official images) is checked here with config only
  local default local_ peer_cmd v p
  v=$(docker-compose version --short)
  default=$(env -u MIROS_IMAGES docker-compose -f compose/compose.yml --profile instances config)
  local_=$("${COMPOSE[@]}" --profile instances config)
  ! grep -q '^version:' compose/compose.yml || { echo "compose/compose.yml declares version: (the Compose Specification has none)" >&2; return 1; }
  # one variable picks both images: official by default, the local build with MIROS_IMAGES=local
  for want in 'image: mirosnet/rabbitmq:official' 'dockerfile: rabbitmq.official.Dockerfile' 'image: mirosnet/instance:official' 'dockerfile: compose/instance.official.Dockerfile'; do
    grep -qF "$want" <<<"$default" || { echo "default compose config lacks '$want'" >&2; return 1; }
  done
  for want in 'image: mirosnet/rabbitmq:local' 'dockerfile: rabbitmq.local.Dockerfile' 'image: mirosnet/instance:local' 'dockerfile: compose/instance.local.Dockerfile'; do
    grep -qF "$want" <<<"$local_" || { echo "MIROS_IMAGES=local compose config lacks '$want'" >&2; return 1; }
  done
  grep -Eqx 'FROM rabbitmq:[0-9]+\.[0-9]+\.[0-9]+-management' compose/rabbitmq.official.Dockerfile || { echo "compose/rabbitmq.official.Dockerfile is not FROM a pinned rabbitmq:X.Y.Z-management" >&2; return 1; }
  [ "$(grep -c '^FROM node:20-slim' compose/instance.official.Dockerfile)" = 2 ] || { echo "compose/instance.official.Dockerfile is not built on node:20-slim" >&2; return 1; }
  # health-gated start, published ports on loopback by default, a subnet of its own
  [ "$(grep -c 'condition: service_healthy' <<<"$default")" = 3 ] || { echo "peer does not wait for n1..n3 to be healthy" >&2; return 1; }
  [ "$(grep -c '/dev/tcp/127.0.0.1/5672' <<<"$default")" = 3 ] || { echo "n1..n3 lack their healthcheck" >&2; return 1; }
  for p in 127.0.0.1:5672:5672 127.0.0.1:15672:15672 127.0.0.1:5674:5672; do
    grep -qF "$p" <<<"$default" || { echo "default config does not publish $p" >&2; return 1; }
  done
  grep -qF 'subnet: 10.80.0.0/24' <<<"$default" || { echo "default compose subnet is not 10.80.0.0/24" >&2; return 1; }
  grep -qF 'subnet: 10.78.' <<<"$default$local_" && { echo "compose subnet clashes with the docker backend's 10.78.0.0/24" >&2; return 1; }
  # the peer runs the compiled chart of the installed package, never TypeScript
  peer_cmd=$(awk '/^  peer:/ { p = 1 } p && /command:/ { c = 1; next } c && /^    - / { print $2; next } c { exit }' <<<"$default" | tr '\n' ' ')
  case "$peer_cmd" in
    *node_modules/miros-rabbitmq/dist/ops/instances/peer.js*) ;;
    *) echo "compose peer command is not the compiled peer: $peer_cmd" >&2; return 1 ;;
  esac
  case "$peer_cmd" in *tsx*|*.ts\ *) echo "compose peer runs TypeScript: $peer_cmd" >&2; return 1 ;; esac
  if docker compose version >/dev/null 2>&1; then
    env -u MIROS_IMAGES docker compose -f compose/compose.yml --profile instances config -q
    echo "docker compose $(docker compose version --short) reads it too"
  else
    echo "docker compose (v2) is not installed here: only docker-compose $v read it"
  fi
  echo "compose/compose.yml is valid (docker-compose $v): official by default, local with MIROS_IMAGES=local; peer: $peer_cmd"
}

docker_tests() {
  npx vitest run --config test/docker/vitest.config.ts
}

cluster_cycle() {
  node bin/mirosnet.mjs cluster up --backend docker --nodes 3
  node bin/mirosnet.mjs cluster status
  node -e "const f = require('$MIROS_CLUSTER_DIR/cluster.json'); if (f.backend !== 'docker' || f.nodes.length !== 3 || f.nodes[0].host !== '10.78.0.11') { console.error('unexpected cluster.json', f); process.exit(1) } console.log('cluster.json: backend', f.backend, f.nodes.map(n => n.amqpUrl).join(' '))"
  # guest refused, peter answers, on every node
  for h in 10.78.0.11 10.78.0.12 10.78.0.13; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "http://$h:15672/api/overview")" = 401 ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' -u peter:rabbit "http://$h:15672/api/overview")" = 200 ]
  done
  echo "management API: peter 200, guest 401 on all 3 nodes"
}

scenario() { # the instances run in containers of the instance image (Backend.exec), not on this machine
  node "scenarios/$1.mjs" --nodes 3 --backend docker "${@:2}" | tee "$RUN/scenario-$1.out"
  grep -q "started .* (docker)" "$RUN/scenario-$1.out" || { echo "$1: the instances did not run in containers" >&2; return 1; }
  [ -z "$(docker ps -aq --filter label=io.mirosnet.exec=1)" ] || { echo "$1: instance containers left behind" >&2; docker ps -a; return 1; }
}

cluster_down() {
  node bin/mirosnet.mjs cluster down --backend docker
  [ -z "$(docker ps -aq --filter label=io.mirosnet.cluster)" ] || { echo "containers left behind" >&2; docker ps -a; return 1; }
  [ -z "$(docker network ls -q --filter label=io.mirosnet.cluster)" ] || { echo "network left behind" >&2; return 1; }
  echo "down: no container or network left"
}

compose_peers() { # compose/compose.yml for real, offline path: n1..n3 healthy, ports published, two compiled peers
  "${COMPOSE[@]}" up -d n1 n2 n3
  local n ok state port id
  for n in n1 n2 n3; do # docker's own healthcheck (AMQP and management ports accept), as depends_on sees it
    ok=
    id=$(docker ps -q --filter label=com.docker.compose.project=mirosnet-compose --filter label=com.docker.compose.service=$n)
    for _ in $(seq 1 240); do
      state=$(docker inspect -f '{{.State.Health.Status}}' "$id")
      [ "$state" = healthy ] && { ok=1; break; }
      [ "$state" = unhealthy ] && break
      sleep 0.5
    done
    [ -n "$ok" ] || { "${COMPOSE[@]}" logs --tail 20 "$n" >&2; echo "compose node $n is $state, not healthy" >&2; return 1; }
  done
  echo "compose: n1..n3 healthy"
  for n in 1 2 3; do # peter answers on the node's address and on its published loopback ports
    [ "$(curl -s -o /dev/null -w '%{http_code}' -u peter:rabbit "http://$COMPOSE_SUBNET.1$n:15672/api/overview")" = 200 ] || { echo "n$n: management API not answering on $COMPOSE_SUBNET.1$n" >&2; return 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' -u peter:rabbit "http://127.0.0.1:4567$((n + 1))/api/overview")" = 200 ] || { echo "n$n: published management port 127.0.0.1:4567$((n + 1)) not answering" >&2; return 1; }
    port=3567$((n + 1))
    node -e "require('amqplib').connect('amqp://peter:rabbit@127.0.0.1:$port').then((c) => c.close()).catch((e) => { console.error('n$n: published AMQP port $port:', e.message); process.exit(1) })"
  done
  echo "compose: management API (peter 200) on 10.80.0.11-13 and on 127.0.0.1:45672-45674, AMQP on 127.0.0.1:35672-35674"
  # a transmits PING, b (replies PING -> PONG) answers, a gets PONG; both stop cleanly
  node --input-type=module - "${COMPOSE[@]}" --profile instances run --rm -T peer <<'JS'
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
const run = process.argv.slice(2);
const key = () => randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
const hosts = ['10.80.0.11', '10.80.0.12', '10.80.0.13'];
const common = { hosts, user: 'peter', password: 'rabbit', meshKey: key(), traceKey: key(), spyKey: key(), rx: '#.peer', trace: 'plain' };
const configs = {
  a: { ...common, name: 'a', host: hosts[0], tx: 'a.peer' },
  b: { ...common, name: 'b', host: hosts[1], tx: 'b.peer', params: { replies: { PING: 'PONG' } } },
};
const timer = setTimeout(() => { console.error('compose peers: no PING/PONG exchange within 90 s'); for (const p of Object.values(peers)) p.child.kill(); process.exit(1); }, 90_000);
const waiters = [];
const peers = {};
for (const [name, cfg] of Object.entries(configs)) {
  const child = spawn(run[0], run.slice(1), { env: { ...process.env, MIROS_INSTANCE: JSON.stringify(cfg) }, stdio: ['pipe', 'pipe', 'pipe'] });
  const p = (peers[name] = { child, lines: [], exit: new Promise((r) => child.on('exit', (code) => r(code))) });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      console.log(`  [${name}] ${line}`);
      p.lines.push(line);
      for (const w of [...waiters]) if (w.name === name && w.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    });
  }
}
const waitFor = (name, test) => {
  const hit = peers[name].lines.find(test);
  return hit ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ name, test, resolve }));
};
const send = (name, cmd) => peers[name].child.stdin.write(`${JSON.stringify(cmd)}\n`);
await Promise.all(['a', 'b'].map((n) => waitFor(n, (l) => l.startsWith('@@READY '))));
send('a', { cmd: 'transmit', signal: 'PING', payload: { from: 'a' } });
await waitFor('b', (l) => l.startsWith('@@GOT ') && JSON.parse(l.slice(6)).signal === 'PING');
await waitFor('a', (l) => l.startsWith('@@GOT ') && JSON.parse(l.slice(6)).signal === 'PONG');
for (const n of ['a', 'b']) send(n, { cmd: 'stop' });
const codes = await Promise.all(['a', 'b'].map((n) => peers[n].exit));
clearTimeout(timer);
if (codes.some((c) => c !== 0)) { console.error('compose peers exited with', codes); process.exit(1); }
console.log('compose peers: a -> PING -> b -> PONG -> a, both stopped with exit 0');
JS
  "${COMPOSE[@]}" --profile instances down --remove-orphans
  [ -z "$(docker ps -aq --filter label=io.mirosnet.cluster=compose)" ] || { echo "compose containers left behind" >&2; docker ps -a; return 1; }
  [ -z "$(docker network ls -q --filter label=io.mirosnet.cluster=compose)" ] || { echo "compose network left behind" >&2; return 1; }
  echo "compose down: no container or network left"
}

step "packages" install_packages
step "dockerd" start_dockerd
# the offline images (MIROS_IMAGES=local): the one build step a user runs, as they run it
step "images: scripts/compose-local.sh" bash scripts/compose-local.sh
step "compose config" compose_config
if [ "${1:-}" != compose ]; then # `ci-docker.sh compose`: the images and the compose steps only
  step "docker tests (testcontainers)" docker_tests
  step "cluster up --backend docker" cluster_cycle
  step "scenario mesh-ring (docker)" scenario mesh-ring
  step "scenario spy (docker)" scenario spy
  # seed 1087's first 7 cycles are one of each kind (partition and isolate: nft in the
  # containers' namespaces; latency: the toxic proxy there); resume reported, not gated
  step "scenario chaos, 7 cycles (docker)" scenario chaos --cycles 7 --seed 1087 --resume-p99 0
  step "cluster down --backend docker" cluster_down
fi
step "compose: n1..n3 + 2 compiled peers" compose_peers

say "images: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'mirosnet|bookworm' | tr '\n' ' ')"
say "timings:"
printf '    %s\n' "${TIMINGS[@]}"
say "ok in $(since "$T_START") s"
