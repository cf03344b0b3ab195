#!/usr/bin/env bash
# The one build step of compose/compose.yml's offline images (MIROS_IMAGES=local), for a
# machine with a Docker engine but no image registry (like our CI). Run from anywhere, as
# root when debootstrap is needed:
#   1. debian:bookworm-slim: debootstrap --variant=minbase from this machine's own apt
#      sources (or $MIROS_DEBIAN_MIRROR), imported into the engine; skipped when it has one
#   2. mirosnet/rabbitmq:local from compose/rabbitmq.local.Dockerfile (apt through the
#      host's network: --network host)
#   3. mirosnet/instance:local from compose/instance.local.Dockerfile: `npm pack` of this
#      checkout installed with production dependencies into compose/.build/instance by the
#      host's npm, plus the host's node binary (Debian 12's own Node is 18)
# Then: MIROS_IMAGES=local docker compose -f compose/compose.yml up -d
# The engine is $DOCKER_HOST's (default: the local socket); scripts/ci-docker.sh runs this
# against its own. No package source is named here: apt, debootstrap and npm use this
# machine's configuration.
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."

BASE=debian:bookworm-slim
RABBIT=mirosnet/rabbitmq:local
INSTANCE=mirosnet/instance:local
TARBALL=
ROOTFS=
RUN=$(mktemp -d /tmp/mirosnet-compose-local.XXXXXX)
trap 'rm -rf "$RUN"; [ -z "$ROOTFS" ] || rm -rf "$ROOTFS"' EXIT

say() { printf '==> [compose-local] %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# apt_sources, debian_mirror: the Debian archive of this machine's own apt configuration
# shellcheck source=lib/debian-mirror.sh
. scripts/lib/debian-mirror.sh

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
  docker build -q --network host -t "$RABBIT" --label io.mirosnet.cluster=image -f compose/rabbitmq.local.Dockerfile compose
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
  # context: the repository (/.dockerignore), the Dockerfile copies compose/.build/instance
  docker build -q --network host -t "$INSTANCE" --label io.mirosnet.cluster=image -f compose/instance.local.Dockerfile .
  # the image runs the package's compiled JavaScript with its Node 20
  docker run --rm --network none "$INSTANCE" node --input-type=module -e \
    "const m = await import('miros-rabbitmq'); console.log('instance image: node', process.version, '·', Object.keys(m).length, 'runtime exports from', import.meta.resolve('miros-rabbitmq'))"
}


docker version >/dev/null 2>&1 || { echo "compose-local.sh: no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start one first" >&2; exit 1; }
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { echo "compose-local.sh: $BASE is missing and debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "compose-local.sh: making $BASE with debootstrap needs root: sudo $0" >&2; exit 1; }
fi
for s in base_image build_rabbit pack build_instance; do
  t0=$(now)
  say "$s"
  "$s"
  say "$s took $(since "$t0") s"
done
say "done: MIROS_IMAGES=local docker compose -f compose/compose.yml up -d"
