# shellcheck shell=bash
# A target host with systemd as PID 1 inside a network namespace (sourced by
# scripts/ci-ansible.sh): the cached root of scripts/lib/systemd-root.sh under an overlay
# (the cache stays pristine; the run's changes go to $dir/upper), booted with
# systemd-nspawn in the namespace, sshd answering for root with the given public key.
# Needs root, systemd-nspawn (Debian's systemd-container) and overlayfs.

# nspawn_host_up NAME NETNS ROOT DIR PUBKEY: boots it; its pid goes to DIR/nspawn.pid
nspawn_host_up() {
  local name=$1 netns=$2 root=$3 dir=$4 pubkey=$5
  mkdir -p "$dir/upper" "$dir/work" "$dir/root" /run/systemd/nspawn/propagate
  mount -t overlay overlay -o "lowerdir=$root,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
  install -m 0600 "$pubkey" "$dir/root/root/.ssh/authorized_keys"
  echo "$name" > "$dir/root/etc/hostname"
  # minbase has no netbase: without /etc/hosts its own name does not resolve, and
  # rabbitmq-server's first start (rabbit@NAME) hangs
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost\n' "$name" > "$dir/root/etc/hosts"
  # PID 1 of this machine is not systemd: no registration with machined, keep our unit
  systemd-nspawn -q -b -D "$dir/root" --machine="$name" --register=no --keep-unit \
    --network-namespace-path="/run/netns/$netns" --console=passive \
    </dev/null >"$dir/nspawn.log" 2>&1 &
  echo $! > "$dir/nspawn.pid"
  disown   # stopped by nspawn_host_down, not by the shell's job control
}

# nspawn_host_down DIR: powers the machine off (SIGKILL after 20 s) and unmounts its root
nspawn_host_down() {
  local dir=$1 pid
  [ -s "$dir/nspawn.pid" ] || return 0
  pid=$(cat "$dir/nspawn.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true   # nspawn -b: an orderly poweroff of the container
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/nspawn.pid"
  umount "$dir/root" 2>/dev/null || umount -l "$dir/root" 2>/dev/null || true
}
