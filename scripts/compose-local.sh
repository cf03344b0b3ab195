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
