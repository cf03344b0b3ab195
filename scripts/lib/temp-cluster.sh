# shellcheck shell=bash
# A cluster dir of the calling script's own, always taken down when the script exits (sourced
# by the ci-*.sh stages that bring a testbed up). Run from the repository's root.
#   temp_cluster NAME   sets DIR=/tmp/mirosnet-ci-NAME.XXXXXX and the EXIT trap
temp_cluster() {
  DIR=$(mktemp -d "/tmp/mirosnet-ci-$1.XXXXXX")
  trap temp_cluster_down EXIT
}
temp_cluster_down() {
  local rc=$?
  node bin/mirosnet.mjs cluster down --dir "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
  exit "$rc"
}
