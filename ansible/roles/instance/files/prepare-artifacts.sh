#!/usr/bin/env bash
# Runs on the controller (roles/instance): makes the artifacts a host installs and prints
# them as JSON. `prepare-artifacts.sh pack` (once per play) only prints our package's
# tarball; without an argument (once per host: hosts may run different programs):
#   - our package: $TARBALL, or `npm pack` of $REPO_DIR (its prepare script builds dist/);
#   - the user's chart program, when $APP names one: a directory (packed with `npm pack`) or
#     an `npm pack` tarball; its name and entry point ($APP_MAIN, else package.json's main);
#   - with METRICS=1: prom-client too (the optional peer that serves the chart's metrics), at
#     the version range our package's peerDependencies name;
#   - with NPM_ON=controller: one node_modules bundle of them with their production
#     dependencies (npm install here, with this machine's npm configuration or $NPM_REGISTRY),
#     cached by the tarballs' checksums (and prom-client's range).
# Output: {"tarball", "app_tarball", "app_name", "app_main", "prom_client", "key", "bundle"}; key changes
# whenever anything to install changes. Safe to run for several hosts at once: everything
# is made in a private temporary directory and moved into place.
set -euo pipefail
fail() { echo "prepare-artifacts: $*" >&2; exit 1; }
# the cache is private: made 0700, and one that another user owns is refused (they could plant a
# bundle). No umask 077 here: the bundle's files keep readable modes for the instance's user.
mkdir -p "$PACK_DIR"
[ -O "$PACK_DIR" ] && [ ! -L "$PACK_DIR" ] || fail "$PACK_DIR (instance_pack_dir) is not a directory of this user's own: choose another"
chmod 0700 "$PACK_DIR"
registry=()
[ -n "${NPM_REGISTRY:-}" ] && registry=(--registry "$NPM_REGISTRY")
if [ -z "${TARBALL:-}" ]; then
  TARBALL=$PACK_DIR/$(cd "$REPO_DIR" && npm pack --silent --pack-destination "$PACK_DIR" | tail -n 1)
fi
[ -s "$TARBALL" ] || fail "our package tarball $TARBALL is missing: set instance_tarball to an npm pack tarball"
if [ "${1:-}" = pack ]; then echo "$TARBALL"; exit 0; fi
tmp=$(mktemp -d "$PACK_DIR/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
app_tgz= app_name= app_main=
if [ -n "${APP:-}" ]; then
  if [ -d "$APP" ]; then
    [ -f "$APP/package.json" ] || fail "instance_app $APP has no package.json"
    name=$(cd "$APP" && npm pack --silent --pack-destination "$tmp" | tail -n 1)
    # by content: the same program packed for several hosts is one file
    sum=$(sha1sum "$tmp/$name" | cut -c1-12)
    mkdir -p "$PACK_DIR/app"
    app_tgz=$PACK_DIR/app/$sum-$name
    [ -s "$app_tgz" ] || mv "$tmp/$name" "$app_tgz"
  elif [ -f "$APP" ]; then
    app_tgz=$APP
  else
    fail "instance_app $APP is neither a directory with a package.json nor an npm pack tarball"
  fi
  read -r app_name app_main < <(tar -xzOf "$app_tgz" package/package.json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const p = JSON.parse(s); console.log(p.name ?? "", process.argv[1] || p.main || "");
    });' "${APP_MAIN:-}") || fail "cannot read package/package.json from $app_tgz"
  [ -n "$app_name" ] || fail "$app_tgz: its package.json has no name"
  [ -n "$app_main" ] || fail "$app_tgz: set instance_app_main (its package.json has no main)"
  # the listing is read whole first: `tar | grep -q` under pipefail fails when grep quits early and tar gets SIGPIPE
  listing=$(tar -tzf "$app_tgz")
  grep -qxF "package/${app_main#./}" <<<"$listing" || fail "$app_tgz has no entry point ${app_main} (instance_app_main)"
fi
prom=
if [ "${METRICS:-0}" = 1 ]; then
  range=$(tar -xzOf "$TARBALL" package/package.json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).peerDependencies?.["prom-client"] ?? ""));') ||
    fail "cannot read package/package.json from $TARBALL"
  [ -n "$range" ] || fail "$TARBALL names no prom-client in its peerDependencies: set instance_metrics: false"
  prom=prom-client@$range
fi
key=$( { cat "$TARBALL" ${app_tgz:+"$app_tgz"}; printf '%s' "$prom"; } | sha1sum | cut -c1-16)
bundle=
if [ "${NPM_ON:-host}" = controller ]; then
  b=$PACK_DIR/bundle-$key
  if [ ! -s "$b.tgz" ]; then
    echo '{"private": true}' > "$tmp/package.json"
    (cd "$tmp" && npm install --omit=dev --no-audit --no-fund --no-save "${registry[@]}" "$TARBALL" ${app_tgz:+"$app_tgz"} ${prom:+"$prom"} >/dev/null) ||
      fail "npm install of the bundle failed on the controller (its npm registry configuration)"
    tar -C "$tmp" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - node_modules | gzip -n > "$tmp/bundle.tgz"
    mv "$tmp/bundle.tgz" "$b.tgz"
  fi
  bundle=$b.tgz
fi
node -e 'const [tarball, app_tarball, app_name, app_main, prom_client, key, bundle] = process.argv.slice(1);
console.log(JSON.stringify({ tarball, app_tarball, app_name, app_main: app_main.replace(/^\.\//, ""), prom_client, key, bundle }));' \
  "$TARBALL" "$app_tgz" "$app_name" "$app_main" "$prom" "$key" "$bundle"
