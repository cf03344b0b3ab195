#!/usr/bin/env bash
# The containerised testbed tested with a real engine (issue 7, items 1-3). Root, no stdin.
#   - installs docker.io, debootstrap, docker-compose (Debian's) when missing
#   - starts its own dockerd (own data root, exec root, socket, pidfile; iptables off)
#   - builds debian:bookworm-slim locally with debootstrap (no registry), then our images
#   - runs the docker tests (testcontainers helper), `cluster up/status/down --backend docker`
#     and the mesh-ring and spy scenarios with the docker backend
#   - ALWAYS removes its containers and networks and stops its dockerd (trap)
# The data root (images, layer cache) stays in $MIROS_DOCKER_ROOT (default
# /var/tmp/mirosnet-docker) so a second run builds from cache; delete it to start afresh.
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

debian_mirror() {
  local m
  m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | grep -v security | awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' | head -1)
  [ -n "$m" ] || m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | grep -v security | awk '{ print $2 }' | head -1)
  echo "${m:-http://deb.debian.org/debian}"
}

base_image() {
  if docker image inspect "$BASE" >/dev/null 2>&1; then
    say "$BASE is already here (from an earlier run)"
    return
  fi
  ROOTFS=$(mktemp -d /var/tmp/mirosnet-rootfs.XXXXXX)
  local mirror; mirror=$(debian_mirror)
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

stage_instance() { # the instance image's context: host node (Debian 12 has 18), production node_modules, the package
  local ctx=compose/.build/instance
  mkdir -p "$ctx"
  cp -p "$(readlink -f "$(command -v node)")" "$ctx/node"
  # production dependencies installed here with the host's npm and its registry settings
  # (the build itself reaches no registry); redone only when the lockfile changes
  if ! cmp -s package-lock.json "$ctx/package-lock.json" || [ ! -d "$ctx/node_modules" ]; then
    cp -p package.json package-lock.json "$ctx/"
    (cd "$ctx" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null)
  fi
  cp -p tsconfig.json "$ctx/"
  for d in bin runtime ops scenarios; do
    rm -rf "${ctx:?}/$d"; cp -a "$d" "$ctx/$d"
  done
}

build_instance() {
  stage_instance
  docker build -q --network host -t "$INSTANCE" --label io.mirosnet.cluster=image -f compose/instance.Dockerfile compose/.build/instance
  # the image runs our code with its Node 20
  docker run --rm --network none "$INSTANCE" node --import tsx -e \
    "const m = await import('/app/runtime/index.ts'); console.log('instance image: node', process.version, '·', Object.keys(m).length, 'runtime exports')"
}

compose_config() {
  docker-compose -f compose/compose.yml config -q
  echo "compose/compose.yml is valid ($(docker-compose version --short))"
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

scenario() { npx zx "scenarios/$1.mjs" --nodes 3 --backend docker; }

cluster_down() {
  node bin/mirosnet.mjs cluster down --backend docker
  [ -z "$(docker ps -aq --filter label=io.mirosnet.cluster)" ] || { echo "containers left behind" >&2; docker ps -a; return 1; }
  [ -z "$(docker network ls -q --filter label=io.mirosnet.cluster)" ] || { echo "network left behind" >&2; return 1; }
  echo "down: no container or network left"
}

step "packages" install_packages
step "dockerd" start_dockerd
step "base image $BASE" base_image
step "image $RABBIT" build_rabbit
step "image $INSTANCE" build_instance
step "compose config" compose_config
step "docker tests (testcontainers)" docker_tests
step "cluster up --backend docker" cluster_cycle
step "scenario mesh-ring (docker)" scenario mesh-ring
step "scenario spy (docker)" scenario spy
step "cluster down --backend docker" cluster_down

say "images: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'mirosnet|bookworm' | tr '\n' ' ')"
say "timings:"
printf '    %s\n' "${TIMINGS[@]}"
say "ok in $(since "$T_START") s"
