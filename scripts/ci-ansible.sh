#!/usr/bin/env bash
# Provisions network-namespace "LAN hosts" with ansible/site.yml over ssh and checks the
# result from outside. Root, no stdin. Hosts: namespaces mra-1..N on 10.77.200.0/24
# (bridge mra-br, host side .1, host i at .(10+i)), each running its own sshd; the
# playbook runs with rabbitmq_service_mode=detached / instance_service_mode=detached and
# per-host directories under $WORK/hosts/. Everything is removed at exit. The instance is
# the package's compiled chart (dist/ops/instances/beacon.js from `npm pack`); apt and npm
# use this machine's own sources (no mirror or registry is named here).
set -euo pipefail
N=${MRA_HOSTS:-2}
PREFIX=mra
BR=${PREFIX}-br
NET=10.77.200
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${MRA_WORK:-/tmp/mra-ci.$$}
T0=$(date +%s)
step() { echo "== [$(( $(date +%s) - T0 )) s] $*"; }
fail() { echo "ci-ansible: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root"

cleanup() {
  local rc=$?
  step "cleanup"
  for i in $(seq 1 "$N"); do
    ns=${PREFIX}-$i
    if ip netns list | grep -qw "$ns"; then
      # every process in our own namespace was started by this script or its playbook
      pids=$(ip netns pids "$ns" || true)
      [ -n "$pids" ] && kill $pids 2>/dev/null || true
      for _ in $(seq 1 40); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.25; done
      pids=$(ip netns pids "$ns" || true)
      [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
      ip netns del "$ns" || true
    fi
    ip link del "${ns}-h" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
  done
  ip link del "$BR" 2>/dev/null || true
  rm -rf "$WORK"
  echo "ci-ansible: $([ $rc = 0 ] && echo PASSED || echo "FAILED (rc $rc)") in $(( $(date +%s) - T0 )) s"
  exit $rc
}
trap cleanup EXIT

step "packages"
need=()
command -v ansible-playbook >/dev/null || need+=(ansible)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" </dev/null
fi

step "npm pack: the one instance artifact both playbook runs deploy"
mkdir -p "$WORK/hosts" /run/sshd
TARBALL=$WORK/$(cd "$ROOT" && npm pack --silent --pack-destination "$WORK" | tail -n 1)
[ -s "$TARBALL" ] || fail "npm pack made no tarball"
tar -tzf "$TARBALL" > "$WORK/pack.list"
grep -qx 'package/dist/ops/instances/beacon.js' "$WORK/pack.list" || fail "$TARBALL has no dist/ops/instances/beacon.js"
echo "$TARBALL: $(wc -l < "$WORK/pack.list") files"

step "hosts: $N namespaces with sshd"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id" -C mra-ci
cp "$WORK/id.pub" "$WORK/authorized_keys"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh_host_ed25519_key"
ip link add "$BR" type bridge
ip addr add "$NET.1/24" dev "$BR"
ip link set "$BR" up
INV="$WORK/inventory.ini"
echo "[miros]" > "$INV"
for i in $(seq 1 "$N"); do
  ns=${PREFIX}-$i; addr=$NET.$((10 + i))
  ip netns add "$ns"
  ip link add "${ns}-h" type veth peer name eth0 netns "$ns"
  ip link set "${ns}-h" master "$BR" up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  cat > "$WORK/sshd-$i.conf" <<CONF
ListenAddress $addr
Port 22
HostKey $WORK/ssh_host_ed25519_key
PidFile $WORK/sshd-$i.pid
AuthorizedKeysFile $WORK/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
  ip netns exec "$ns" /usr/sbin/sshd -D -f "$WORK/sshd-$i.conf" </dev/null >"$WORK/sshd-$i.log" 2>&1 &
  echo "$ns ansible_host=$addr rabbitmq_lan_address=$addr rabbitmq_nodename=rabbit@$addr rabbitmq_base=$WORK/hosts/$ns/rabbitmq instance_dir=$WORK/hosts/$ns/instance" >> "$INV"
done
cat >> "$INV" <<CONF

[miros:vars]
ansible_user=root
ansible_become=false
ansible_ssh_private_key_file=$WORK/id
ansible_ssh_common_args=-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
ansible_python_interpreter=/usr/bin/python3
rabbitmq_service_mode=detached
rabbitmq_use_longname=true
rabbitmq_apt_update_cache=false
instance_service_mode=detached
instance_period_ms=1000
instance_npm_on=controller
instance_tarball=$TARBALL
CONF
for i in $(seq 1 "$N"); do
  for _ in $(seq 1 40); do
    ssh -i "$WORK/id" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
      -o ConnectTimeout=2 "root@$NET.$((10 + i))" true </dev/null 2>/dev/null && continue 2
    sleep 0.25
  done
  fail "sshd of ${PREFIX}-$i does not answer"
done

export ANSIBLE_PIPELINING=True ANSIBLE_FORKS=10 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False
PLAY=(ansible-playbook -i "$INV" "$ROOT/ansible/site.yml" --vault-password-file "$ROOT/ansible/vault-password.example")

step "playbook, first run"
t=$(date +%s); "${PLAY[@]}" </dev/null | tee "$WORK/run1.log"; echo "first run: $(( $(date +%s) - t )) s"

step "from outside: management API answers peter/rabbit, refuses guest"
for i in $(seq 1 "$N"); do
  addr=$NET.$((10 + i))
  code=$(curl -s -o "$WORK/overview.json" -w '%{http_code}' -u peter:rabbit "http://$addr:15672/api/overview")
  [ "$code" = 200 ] || fail "$addr: peter/rabbit got HTTP $code"
  grep -q '"rabbitmq_version"' "$WORK/overview.json" || fail "$addr: no overview"
  code=$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "http://$addr:15672/api/overview")
  [ "$code" = 401 ] || fail "$addr: guest/guest got HTTP $code (want 401)"
  echo "$addr: peter 200, guest 401"
done

step "playbook, second run (idempotence)"
t=$(date +%s); "${PLAY[@]}" </dev/null | tee "$WORK/run2.log"; echo "second run: $(( $(date +%s) - t )) s"
recap=$(sed -n '/PLAY RECAP/,$p' "$WORK/run2.log" | grep -E 'ok=')
[ "$(echo "$recap" | wc -l)" = "$N" ] || fail "recap does not list $N hosts"
if echo "$recap" | grep -Ev 'changed=0 .*failed=0' | grep -q .; then fail "second run changed something: $recap"; fi
echo "second run: changed=0 on every host"

step "exchange: the deployed instances talk over the mesh"
ok=
for _ in $(seq 1 60); do
  ok=1
  for i in $(seq 1 "$N"); do
    log=$WORK/hosts/${PREFIX}-$i/instance/log/instance.log
    for j in $(seq 1 "$N"); do
      [ "$i" = "$j" ] && continue
      grep -q "GOT TICK from ${PREFIX}-$j\$" "$log" 2>/dev/null || ok=
    done
  done
  [ -n "$ok" ] && break
  sleep 1
done
[ -n "$ok" ] || { tail -n 20 "$WORK"/hosts/*/instance/log/instance.log >&2 || true; fail "instances did not hear each other"; }
echo "every instance got TICKs from every other"

step "the instances run the compiled chart of the installed package (no tsx)"
for i in $(seq 1 "$N"); do
  d=$WORK/hosts/${PREFIX}-$i/instance
  pid=$(cat "$d/instance.pid")
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline") || fail "${PREFIX}-$i: instance pid $pid is gone"
  case "$cmd" in
    *"$d/node_modules/miros-rabbitmq/dist/ops/instances/beacon.js"*) ;;
    *) fail "${PREFIX}-$i runs: $cmd" ;;
  esac
  case "$cmd" in *tsx*|*.ts\ *) fail "${PREFIX}-$i runs TypeScript: $cmd" ;; esac
  [ ! -e "$d/node_modules/tsx" ] || fail "${PREFIX}-$i: tsx is installed in $d/node_modules"
  [ ! -e "$d/beacon.ts" ] || fail "${PREFIX}-$i: $d/beacon.ts exists"
  echo "${PREFIX}-$i: $cmd"
done
sleep 3

step "logs role: fetch distributed.log and instance logs"
STAMP=ci-$(date +%Y%m%d-%H%M%S)-$$
"${PLAY[@]}" --tags logs -e "logs_stamp=$STAMP" </dev/null > "$WORK/run-logs.log" || { cat "$WORK/run-logs.log"; fail "logs play"; }
DEST=$ROOT/logs/ansible-$STAMP
for i in $(seq 1 "$N"); do
  ns=${PREFIX}-$i; d=$DEST/$ns/distributed.log
  [ -s "$d" ] || fail "$d missing or empty"
  [ -s "$DEST/$ns/instance.log" ] || fail "$DEST/$ns/instance.log missing"
  for j in $(seq 1 "$N"); do
    grep -q "\[${PREFIX}-$j\]" "$d" || fail "$d has no trace line of ${PREFIX}-$j"
  done
  echo "$d: $(wc -l < "$d") lines, trace lines of all $N hosts"
done
ls -R "$DEST" | head -20
step "all checks passed"
