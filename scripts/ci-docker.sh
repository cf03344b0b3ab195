#!/usr/bin/env bash
# The containerised testbed tested with a real engine (issue 7, items 1-3). Root, no stdin.
#   - installs docker.io, debootstrap, docker-compose (Debian's) when missing
#   - starts its own dockerd (own data root, exec root, socket, pidfile; iptables off)
#   - builds debian:bookworm-slim locally with debootstrap (no registry) from the Debian
#     mirror of this machine's own apt sources (or $MIROS_DEBIAN_MIRROR), then our images;
#     the instance image is the `npm pack` tarball installed with production dependencies
#   - runs the docker tests (testcontainers helper), `cluster up/status/down --backend docker`
#     and the mesh-ring and spy scenarios with the docker backend (brokers AND instances in
#     containers: the instances from the instance image), then compose/compose.yml:
#     n1..n3 and two compiled peers (docker-compose run peer) exchanging events
#   - ALWAYS removes its containers and networks and stops its dockerd (trap)
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
BASE=debian:bookworm-slim
RABBIT=mirosnet/rabbitmq:local
INSTANCE=mirosnet/instance:local
STORAGE=${MIROS_DOCKER_STORAGE:-overlay2}
COMPOSE=(docker-compose -f compose/compose.yml -p mirosnet)
DOCKERD_PID=
TARBALL=
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
  [ -n "${ROOTFS:-}" ] && rm -rf "$ROOTFS"
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

apt_sources() { # "URI SUITE" for every enabled binary (deb) source of this machine's apt
  local lists=() sources=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && lists+=("$f"); done
  for f in /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && sources+=("$f"); done
  # one-line format: deb [options] URI SUITE [COMPONENT...]
  [ ${#lists[@]} = 0 ] || awk '
    { sub(/#.*/, "") }
    $1 == "deb" {
      line = $0; sub(/^[ \t]*deb[ \t]+/, "", line)
      if (line ~ /^\[/) sub(/^\[[^]]*\][ \t]*/, "", line)
      split(line, f, /[ \t]+/); print f[1], f[2]
    }' "${lists[@]}"
  # deb822 format (Debian 12 images): stanzas with Types:, URIs:, Suites:, Enabled:
  [ ${#sources[@]} = 0 ] || awk '
    function flush(   n, m, i, j, u, s) {
      if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) !~ /^(no|false|0)$/) {
        n = split(uris, u, /[ \t]+/); m = split(suites, s, /[ \t]+/)
        for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) if (u[i] != "" && s[j] != "") print u[i], s[j]
      }
      types = uris = suites = key = ""; enabled = "yes"
    }
    BEGIN { enabled = "yes" }
    FNR == 1 { flush() }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    /^[ \t]/ { val = $0 }
    /^[A-Za-z0-9-]+:/ { key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1) }
    { if (key == "types") types = types " " val; else if (key == "uris") uris = uris " " val
      else if (key == "suites") suites = suites " " val; else if (key == "enabled") { enabled = val; gsub(/[ \t]/, "", enabled) } }
    END { flush() }' "${sources[@]}"
}

debian_mirror() { # the Debian archive debootstrap fetches bookworm from: this machine's own
  if [ -n "${MIROS_DEBIAN_MIRROR:-}" ]; then echo "$MIROS_DEBIAN_MIRROR"; return; fi
  local entries m id codename
  entries=$(apt_sources | awk '$1 ~ /^(https?|file):/')
  # an entry for bookworm itself; else, on a Debian host, the archive of its own release
  m=$(awk '$2 == "bookworm" { print $1; exit }' <<<"$entries")
  if [ -z "$m" ]; then
    id=$(. /etc/os-release 2>/dev/null && echo "${ID:-}")
    codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
    [ "$id" = debian ] && [ -n "$codename" ] && m=$(awk -v c="$codename" '$2 == c { print $1; exit }' <<<"$entries")
  fi
  if [ -z "$m" ]; then
    echo "ci-docker.sh: no Debian mirror in this machine's apt sources (/etc/apt/sources.list," >&2
    echo "  /etc/apt/sources.list.d/*.list, /etc/apt/sources.list.d/*.sources) to debootstrap bookworm" >&2
    echo "  from. Add one there, or set MIROS_DEBIAN_MIRROR=<URL of a Debian archive>." >&2
    return 1
  fi
  echo "$m"
}

base_image() {
  if docker image inspect "$BASE" >/dev/null 2>&1; then
    say "$BASE is already here (from an earlier run)"
    return
  fi
  local mirror; mirror=$(debian_mirror) || return 1
  ROOTFS=$(mktemp -d /var/tmp/mirosnet-rootfs.XXXXXX)
  say "debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$ROOTFS" "$mirror" >"$RUN/debootstrap.log" 2>&1 || { tail -20 "$RUN/debootstrap.log" >&2; return 1; }
  # slim: no apt lists, docs, man pages, locales but C
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/var/log/*.log
  tar --numeric-owner -C "$ROOTFS" -c . | docker import -c 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$ROOTFS"; ROOTFS=
}

build_rabbit() {
  docker build -q --network host -t "$RABBIT" --label io.mirosnet.cluster=image -f compose/rabbitmq.Dockerfile compose
}

pack() { # the one instance artifact: `npm pack` (its prepare builds dist/)
  local name
  name=$(npm pack --silent --pack-destination "$RUN" | tail -n 1)
  TARBALL=$RUN/$name
  [ -s "$TARBALL" ] || { echo "npm pack made no $TARBALL" >&2; return 1; }
  tar -tzf "$TARBALL" > "$RUN/pack.list"
  grep -qx 'package/dist/ops/instances/peer.js' "$RUN/pack.list" || { echo "$name has no dist/ops/instances/peer.js" >&2; return 1; }
  local ts; ts=$(grep -E '^package/(runtime|ops)/|\.ts$' "$RUN/pack.list" | grep -v '\.d\.ts$' || true)
  [ -z "$ts" ] || { echo "$name ships TypeScript sources: $ts" >&2; return 1; }
  echo "$name: $(wc -l < "$RUN/pack.list") files, $(du -k "$TARBALL" | cut -f1) kB"
}

stage_instance() { # the instance image's context: host node (Debian 12 has 18), the tarball installed with production deps
  local ctx=compose/.build/instance
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp -p "$(readlink -f "$(command -v node)")" "$ctx/node"
  echo '{"name": "mirosnet-instance", "private": true}' > "$ctx/package.json"
  # installed here with the host's npm and its registry settings (the build itself reaches no registry)
  (cd "$ctx" && npm install --omit=dev --no-audit --no-fund --no-save --ignore-scripts "$TARBALL" >/dev/null)
  [ -f "$ctx/node_modules/miros-rabbitmq/dist/ops/instances/peer.js" ]
  [ ! -e "$ctx/node_modules/tsx" ] || { echo "tsx in the production install" >&2; return 1; }
}

build_instance() {
  stage_instance
  docker build -q --network host -t "$INSTANCE" --label io.mirosnet.cluster=image -f compose/instance.Dockerfile compose/.build/instance
  # the image runs the package's compiled JavaScript with its Node 20
  docker run --rm --network none "$INSTANCE" node --input-type=module -e \
    "const m = await import('miros-rabbitmq'); console.log('instance image: node', process.version, '·', Object.keys(m).length, 'runtime exports from', import.meta.resolve('miros-rabbitmq'))"
}

compose_config() {
  "${COMPOSE[@]}" config -q
  # the peer runs the compiled chart of the installed package, never TypeScript
  local cmd; cmd=$("${COMPOSE[@]}" --profile instances config | awk '/^  peer:/ { p = 1 } p && /command:/ { c = 1; next } c && /^    - / { print $2; next } c { exit }' | tr '\n' ' ')
  case "$cmd" in
    *node_modules/miros-rabbitmq/dist/ops/instances/peer.js*) ;;
    *) echo "compose peer command is not the compiled peer: $cmd" >&2; return 1 ;;
  esac
  case "$cmd" in *tsx*|*.ts\ *) echo "compose peer runs TypeScript: $cmd" >&2; return 1 ;; esac
  echo "compose/compose.yml is valid ($(docker-compose version --short)); peer: $cmd"
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
  node "scenarios/$1.mjs" --nodes 3 --backend docker | tee "$RUN/scenario-$1.out"
  grep -q "started .* (docker)" "$RUN/scenario-$1.out" || { echo "$1: the instances did not run in containers" >&2; return 1; }
  [ -z "$(docker ps -aq --filter label=io.mirosnet.exec=1)" ] || { echo "$1: instance containers left behind" >&2; docker ps -a; return 1; }
}

cluster_down() {
  node bin/mirosnet.mjs cluster down --backend docker
  [ -z "$(docker ps -aq --filter label=io.mirosnet.cluster)" ] || { echo "containers left behind" >&2; docker ps -a; return 1; }
  [ -z "$(docker network ls -q --filter label=io.mirosnet.cluster)" ] || { echo "network left behind" >&2; return 1; }
  echo "down: no container or network left"
}

compose_peers() { # compose/compose.yml for real: n1..n3, two compiled peers from the instance image
  "${COMPOSE[@]}" up -d n1 n2 n3
  local h ok
  for h in 10.78.0.11 10.78.0.12 10.78.0.13; do
    ok=
    for _ in $(seq 1 120); do
      [ "$(curl -s -o /dev/null -w '%{http_code}' -u peter:rabbit "http://$h:15672/api/overview")" = 200 ] && { ok=1; break; }
      sleep 0.5
    done
    [ -n "$ok" ] || { "${COMPOSE[@]}" logs --tail 20 >&2; echo "compose node $h did not come up" >&2; return 1; }
  done
  echo "compose: n1..n3 answer"
  # a transmits PING, b (replies PING -> PONG) answers, a gets PONG; both stop cleanly
  node --input-type=module - "${COMPOSE[@]}" --profile instances run --rm -T peer <<'JS'
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
const run = process.argv.slice(2);
const key = () => randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
const hosts = ['10.78.0.11', '10.78.0.12', '10.78.0.13'];
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
step "base image $BASE" base_image
step "image $RABBIT" build_rabbit
step "npm pack" pack
step "image $INSTANCE" build_instance
step "compose config" compose_config
step "docker tests (testcontainers)" docker_tests
step "cluster up --backend docker" cluster_cycle
step "scenario mesh-ring (docker)" scenario mesh-ring
step "scenario spy (docker)" scenario spy
step "cluster down --backend docker" cluster_down
step "compose: n1..n3 + 2 compiled peers" compose_peers

say "images: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'mirosnet|bookworm' | tr '\n' ' ')"
say "timings:"
printf '    %s\n' "${TIMINGS[@]}"
say "ok in $(since "$T_START") s"
