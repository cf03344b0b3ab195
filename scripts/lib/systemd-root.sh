# shellcheck shell=bash
# A Debian 12 root with systemd as PID 1, for booting with systemd-nspawn as an ansible
# target (sourced by scripts/ci-ansible-systemd.sh). Built once with debootstrap from this
# machine's own apt sources and cached under /var/cache/miros-ci/, keyed by what goes in
# (include list, Node binary, this file), so CI pays the ~60 s of debootstrap once. A netns
# host has no route out, so the root carries what the roles need: rabbitmq-server,
# openssh-server, python3 (+ python3-apt for the apt module) and a Node 20 copied from
# this machine (Debian 12's own node is 18, below the instance role's minimum).
SYSTEMD_ROOT_INCLUDE=systemd,systemd-sysv,dbus,openssh-server,rabbitmq-server,python3,python3-apt,procps
SYSTEMD_ROOT_CACHE=${MIROS_CI_CACHE:-/var/cache/miros-ci}
# bump when what systemd_root does to the root changes (part of the cache key)
SYSTEMD_ROOT_LAYOUT=1

# prints the path of the cached root, building it if missing
systemd_root() {
  local node key root tmp mirror
  node=$(readlink -f "$(command -v node)")
  key=$( { echo "$SYSTEMD_ROOT_INCLUDE"; sha256sum "$node" | cut -c1-16; echo "$SYSTEMD_ROOT_LAYOUT"; } | sha256sum | cut -c1-12)
  root=$SYSTEMD_ROOT_CACHE/nspawn-bookworm-$key
  if [ -x "$root/usr/local/bin/node" ]; then echo "$root"; return; fi
  mirror=$(debian_mirror) || return 1
  mkdir -p "$SYSTEMD_ROOT_CACHE"
  tmp=$(mktemp -d "$SYSTEMD_ROOT_CACHE/.build.XXXXXX")
  echo "systemd root: debootstrap --variant=minbase --include=$SYSTEMD_ROOT_INCLUDE bookworm from $mirror (once; cached as $root)" >&2
  if ! debootstrap --variant=minbase --include="$SYSTEMD_ROOT_INCLUDE" bookworm "$tmp" "$mirror" >"$tmp.log" 2>&1; then
    tail -20 "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; return 1
  fi
  rm -f "$tmp.log"
  install -m 0755 "$node" "$tmp/usr/local/bin/node"
  rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/*.bin "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/*
  # a container has no consoles to get on, and the host owns the network setup
  chroot "$tmp" systemctl mask getty@tty1.service console-getty.service systemd-networkd-wait-online.service >/dev/null 2>&1 || true
  mkdir -p "$tmp/root/.ssh" && chmod 700 "$tmp/root/.ssh"
  rm -rf "$root" && mv "$tmp" "$root"
  echo "$root"
}
