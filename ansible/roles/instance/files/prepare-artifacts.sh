#!/usr/bin/env bash
# Runs on the controller, once per play (roles/instance): makes the artifacts every host
# installs and prints them as JSON.
#   - our package: $TARBALL, or `npm pack` of $REPO_DIR (its prepare script builds dist/);
#   - the user's chart program, when $APP names one: a directory (packed with `npm pack`) or
#     an `npm pack` tarball; its name and entry point ($APP_MAIN, else package.json's main);
#   - with NPM_ON=controller: one node_modules bundle of both with their production
#     dependencies (npm install here, with this machine's npm configuration or $NPM_REGISTRY),
#     cached by the tarballs' checksums.
# Output: {"tarball", "app_tarball", "app_name", "app_main", "key", "bundle"}; key changes
# whenever anything to install changes.
set -euo pipefail
fail() { echo "prepare-artifacts: $*" >&2; exit 1; }
mkdir -p "$PACK_DIR"
registry=()
[ -n "${NPM_REGISTRY:-}" ] && registry=(--registry "$NPM_REGISTRY")
if [ -z "${TARBALL:-}" ]; then
  TARBALL=$PACK_DIR/$(cd "$REPO_DIR" && npm pack --silent --pack-destination "$PACK_DIR" | tail -n 1)
fi
[ -s "$TARBALL" ] || fail "our package tarball $TARBALL is missing: set instance_tarball to an npm pack tarball"
app_tgz= app_name= app_main=
if [ -n "${APP:-}" ]; then
  if [ -d "$APP" ]; then
    [ -f "$APP/package.json" ] || fail "instance_app $APP has no package.json"
    mkdir -p "$PACK_DIR/app"
    app_tgz=$PACK_DIR/app/$(cd "$APP" && npm pack --silent --pack-destination "$PACK_DIR/app" | tail -n 1)
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
  tar -tzf "$app_tgz" | grep -qxF "package/${app_main#./}" || fail "$app_tgz has no entry point ${app_main} (instance_app_main)"
fi
key=$(cat "$TARBALL" ${app_tgz:+"$app_tgz"} | sha1sum | cut -c1-16)
bundle=
if [ "${NPM_ON:-host}" = controller ]; then
  b=$PACK_DIR/bundle-$key
  if [ ! -s "$b.tgz" ]; then
    rm -rf "$b" && mkdir -p "$b"
    echo '{"private": true}' > "$b/package.json"
    (cd "$b" && npm install --omit=dev --no-audit --no-fund --no-save "${registry[@]}" "$TARBALL" ${app_tgz:+"$app_tgz"} >/dev/null) ||
      fail "npm install of the bundle failed on the controller (its npm registry configuration)"
    tar -C "$b" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - node_modules | gzip -n > "$b.tgz.tmp"
    mv "$b.tgz.tmp" "$b.tgz" && rm -rf "$b"
  fi
  bundle=$b.tgz
fi
node -e 'const [tarball, app_tarball, app_name, app_main, key, bundle] = process.argv.slice(1);
console.log(JSON.stringify({ tarball, app_tarball, app_name, app_main: app_main.replace(/^\.\//, ""), key, bundle }));' \
  "$TARBALL" "$app_tgz" "$app_name" "$app_main" "$key" "$bundle"
