#!/usr/bin/env bash
# Provisions network-namespace "LAN hosts" with ansible/site.yml over ssh and checks the
# result from outside. Root, no stdin. Hosts: namespaces mra-1..N+1 on 10.77.200.0/24
# (bridge mra-br, host side .1, host i at .(10+i)):
#   - mra-1..N (MRA_HOSTS, default 3): no systemd; each runs its own sshd, and the playbook
#     runs the broker and the instance (the built-in beacon) detached, with per-host
#     directories under $WORK/hosts/;
#   - mra-N+1 (unless MRA_SYSTEMD=0): systemd as PID 1, a cached debootstrapped root booted
#     with systemd-nspawn in the namespace (scripts/lib/systemd-root.sh, nspawn-host.sh);
#     RabbitMQ and the instance are systemd units, the instance is the user's own two-chart
#     program (examples/ansible-app) as the dedicated user miros under the hardened unit.
# All of them form one RabbitMQ cluster (rabbitmq_cluster: true), with TLS on and mutual TLS
# (MRA_TLS=off: without; MRA_TLS_MUTUAL=0: server-side TLS only): certificates from
# `mirosnet tls init`, the instances on amqps://:5671 with their client certificates. Checks:
# ansible-lint and yamllint, a user's own playbook with the roles refusing the example vault,
# the management API of every host (peter in but no administrator, guest out, every cluster
# member running as the administrator sees it), no plain AMQP port and no way in without a
# client certificate under mutual TLS, changed=0 on a second run, the instances hearing each other, their
# Prometheus metrics (on the LAN address under TLS, else loopback only) and a real Prometheus
# scraping the file_sd file the role wrote (when /usr/bin/prometheus is installed), systemd restarting
# a killed instance, the journal, and the logs role. Everything is removed at exit (the
# systemd root stays cached under /var/cache/miros-ci/). apt, debootstrap and npm use this
# machine's own sources (no mirror or registry is named here).
set -euo pipefail
N=${MRA_HOSTS:-3}
SYSTEMD=${MRA_SYSTEMD:-1}
TLS=${MRA_TLS:-on}
MUTUAL=${MRA_TLS_MUTUAL:-1}   # with TLS: mutual TLS (the brokers then have no plain AMQP port)
PREFIX=mra
BR=${PREFIX}-br
NET=10.77.200
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${MRA_WORK:-/tmp/mra-ci.$$}
ALL=$(( N + (SYSTEMD == 1 ? 1 : 0) ))   # every host; the last one is the systemd host when SYSTEMD=1
SD=$(( SYSTEMD == 1 ? ALL : 0 ))
T0=$(date +%s)
step() { echo "== [$(( $(date +%s) - T0 )) s] $*"; }
fail() { echo "ci-ansible: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root"
# shellcheck source=lib/debian-mirror.sh
. "$ROOT/scripts/lib/debian-mirror.sh"
# shellcheck source=lib/systemd-root.sh
. "$ROOT/scripts/lib/systemd-root.sh"
# shellcheck source=lib/nspawn-host.sh
. "$ROOT/scripts/lib/nspawn-host.sh"
SSH_OPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
on() { local i=$1; shift; ssh -i "$WORK/id" "${SSH_OPTS[@]}" "root@$NET.$((10 + i))" "$@" </dev/null; }

PROM_PID=
cleanup() {
  local rc=$?
  step "cleanup"
  [ -z "$PROM_PID" ] || { kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null; } || true
  [ "$SD" = 0 ] || nspawn_host_down "$WORK/sd"
  for i in $(seq 1 "$ALL"); do
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
command -v ansible-lint >/dev/null || need+=(ansible-lint)
command -v yamllint >/dev/null || need+=(yamllint)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v curl >/dev/null || need+=(curl)
if [ "$SD" != 0 ]; then
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v systemd-nspawn >/dev/null || need+=(systemd-container)
fi
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" </dev/null
fi
export ANSIBLE_CONFIG=$ROOT/ansible/ansible.cfg
"$ROOT/scripts/ansible-requirements.sh"

step "lint: ansible-lint $(ansible-lint --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1), yamllint"
(cd "$ROOT/ansible" && ansible-lint --nocolor -q && yamllint --strict .) || fail "ansible/ is not lint-clean (cd ansible && ansible-lint && yamllint .)"

if [ "$SD" != 0 ]; then
  step "systemd root (debootstrap once, then cached)"
  SDROOT=$(systemd_root) || fail "no systemd root"
  echo "$SDROOT"
fi

step "npm pack: the one instance artifact both playbook runs deploy"
mkdir -p "$WORK/hosts" /run/sshd
TARBALL=$WORK/$(cd "$ROOT" && npm pack --silent --pack-destination "$WORK" | tail -n 1)
[ -s "$TARBALL" ] || fail "npm pack made no tarball"
tar -tzf "$TARBALL" > "$WORK/pack.list"
grep -qx 'package/dist/ops/instances/beacon.js' "$WORK/pack.list" || fail "$TARBALL has no dist/ops/instances/beacon.js"
echo "$TARBALL: $(wc -l < "$WORK/pack.list") files"

step "hosts: $N namespaces with sshd$([ "$SD" = 0 ] || echo ", 1 with systemd (nspawn)")"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id" -C mra-ci
cp "$WORK/id.pub" "$WORK/authorized_keys"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh_host_ed25519_key"
ip link add "$BR" type bridge
ip addr add "$NET.1/24" dev "$BR"
ip link set "$BR" up
INV="$WORK/inventory.yml"
for i in $(seq 1 "$ALL"); do
  ns=${PREFIX}-$i; addr=$NET.$((10 + i))
  ip netns add "$ns"
  ip link add "${ns}-h" type veth peer name eth0 netns "$ns"
  ip link set "${ns}-h" master "$BR" up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  if [ "$i" = "$SD" ]; then
    nspawn_host_up "$ns" "$ns" "$SDROOT" "$WORK/sd" "$WORK/id.pub"
    continue
  fi
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
done

if [ "$TLS" != off ]; then
  step "TLS: a CA and each host's certificates (mirosnet tls init)"
  node "$ROOT/bin/mirosnet.mjs" tls init --dir "$WORK/tls" --hosts "$(seq -s, -f "$NET.%g" 11 $((10 + ALL)))" >/dev/null
  ls "$WORK/tls/hosts" | tr '\n' ' '; echo
fi

# The inventory: YAML, per-host variables as host_vars would give them, group variables
# for the whole test group. Node names by address, so no host needs another's facts.
{
  echo "miros:"
  echo "  hosts:"
  for i in $(seq 1 "$ALL"); do
    ns=${PREFIX}-$i; addr=$NET.$((10 + i))
    echo "    $ns:"
    echo "      ansible_host: $addr"
    echo "      rabbitmq_lan_address: $addr"
    echo "      rabbitmq_nodename: rabbit@$addr"
    if [ "$i" = "$SD" ]; then
      echo "      instance_app: $ROOT/examples/ansible-app"
      echo "      instance_restart_sec: 1"
    else
      echo "      rabbitmq_service_mode: detached"
      echo "      rabbitmq_base: $WORK/hosts/$ns/rabbitmq"
      echo "      instance_service_mode: detached"
      echo "      instance_dir: $WORK/hosts/$ns/instance"
      # these hosts share this machine's /etc/passwd: no user of ours is created on it
      echo "      instance_user: root"
    fi
  done
  cat <<CONF
  vars:
    miros_test_inventory: true   # the example vault's public secrets are accepted here only
    ansible_user: root
    ansible_become: false
    ansible_ssh_private_key_file: $WORK/id
    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
    ansible_python_interpreter: /usr/bin/python3
    rabbitmq_use_longname: true
    rabbitmq_apt_update_cache: false
    rabbitmq_cluster: true
    instance_period_ms: 1000
    instance_npm_on: controller
    instance_tarball: $TARBALL
    instance_pack_dir: $WORK/pack
    instance_prometheus_targets: $WORK/prometheus/targets.json
CONF
  [ "$TLS" = off ] || printf '    rabbitmq_tls: "%s"\n    rabbitmq_tls_src_dir: %s\n' "$TLS" "$WORK/tls"
  [ "$TLS" = off ] || [ "$MUTUAL" = 0 ] || echo "    rabbitmq_tls_mutual: true"
} > "$INV"
for i in $(seq 1 "$ALL"); do
  for _ in $(seq 1 120); do
    ssh -i "$WORK/id" "${SSH_OPTS[@]}" -o ConnectTimeout=2 "root@$NET.$((10 + i))" true </dev/null 2>/dev/null && continue 2
    sleep 0.25
  done
  [ "$i" != "$SD" ] || tail -n 20 "$WORK/sd/nspawn.log" >&2 || true
  fail "sshd of ${PREFIX}-$i does not answer"
done
[ "$SD" = 0 ] || echo "${PREFIX}-$SD: $(on "$SD" 'readlink /proc/1/exe; systemctl --version | head -1')"

# profile_tasks: each task's time in the log, and the slowest at the end
export ANSIBLE_FORKS=10 ANSIBLE_NOCOLOR=1 ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
PLAY=(ansible-playbook -i "$INV" "$ROOT/ansible/site.yml" --vault-password-file "$ROOT/ansible/vault-password.example")

step "the example vault is refused outside a test inventory, by the roles (a user's own playbook, not site.yml)"
sed 's/miros_test_inventory: true/miros_test_inventory: false/' "$INV" > "$WORK/inventory-real.yml"
if ANSIBLE_ROLES_PATH=$ROOT/ansible/roles ansible-playbook -i "$WORK/inventory-real.yml" -l "${PREFIX}-1" "$ROOT/test/unit/fixtures/ansible-user-playbook.yml" \
  -e "miros_ansible_dir=$ROOT/ansible" --vault-password-file "$ROOT/ansible/vault-password.example" </dev/null > "$WORK/refused.log" 2>&1; then
  fail "the play ran with the example vault's secrets outside a test inventory"
fi
grep -q 'TASK \[rabbitmq : No secret of the public example vault' "$WORK/refused.log" && grep -q 'secrets of the example vault' "$WORK/refused.log" ||
  { tail -n 20 "$WORK/refused.log" >&2; fail "no clear refusal in the role"; }
grep -q 'changed=0' "$WORK/refused.log" || fail "the refused play changed something"
echo "refused by the rabbitmq role's assert, nothing changed"
# the ops side's administrator (peter is no administrator): its password from the example vault
ADMIN_PW=$(ansible-vault view --vault-password-file "$ROOT/ansible/vault-password.example" "$ROOT/ansible/group_vars/miros/vault.yml" | sed -n 's/^vault_rabbit_admin_password: *//p')
[ -n "$ADMIN_PW" ] || fail "no vault_rabbit_admin_password in the example vault"

step "playbook, first run"
t=$(date +%s)
if ! "${PLAY[@]}" </dev/null | tee "$WORK/run1.log"; then
  # the failed tasks again at the end, where a log cut to its tail still shows them
  grep -B2 -A15 -E '^(fatal|failed): ' "$WORK/run1.log" | tail -n 80 >&2 || true
  fail "the playbook's first run failed (its failed tasks are just above)"
fi
echo "first run: $(( $(date +%s) - t )) s"

step "from outside: management API answers peter/rabbit (no administrator), refuses guest; one cluster of $ALL"
want=$(for i in $(seq 1 "$ALL"); do echo "rabbit@$NET.$((10 + i))"; done | sort | tr '\n' ' ')
for i in $(seq 1 "$ALL"); do
  addr=$NET.$((10 + i))
  code=$(curl -s -o "$WORK/overview.json" -w '%{http_code}' -u peter:rabbit "http://$addr:15672/api/overview")
  [ "$code" = 200 ] || fail "$addr: peter/rabbit got HTTP $code"
  grep -q '"rabbitmq_version"' "$WORK/overview.json" || fail "$addr: no overview"
  code=$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "http://$addr:15672/api/overview")
  [ "$code" = 401 ] || fail "$addr: guest/guest got HTTP $code (want 401)"
  tags=$(curl -sf -u peter:rabbit "http://$addr:15672/api/whoami") || fail "$addr: /api/whoami as peter"
  case "$tags" in *administrator*) fail "$addr: peter is an administrator: $tags" ;; *management*) ;; *) fail "$addr: peter has not the management tag: $tags" ;; esac
  curl -sf -u "miros-admin:$ADMIN_PW" "http://$addr:15672/api/nodes" > "$WORK/nodes.json" || fail "$addr: /api/nodes as miros-admin"
  got=$(python3 -c 'import json, sys
print(" ".join(sorted(n["name"] for n in json.load(open(sys.argv[1])) if n.get("running"))))' "$WORK/nodes.json")
  [ "$got " = "$want" ] || fail "$addr: /api/nodes says running: $got (want: $want)"
  echo "$addr: peter 200 ($tags), guest 401, running members: $got"
  if [ "$TLS" != off ] && [ "$MUTUAL" != 0 ]; then
    # mutual TLS: no plain AMQP port, and TLS without a client certificate is refused
    if timeout 3 bash -c "</dev/tcp/$addr/5672" 2>/dev/null; then fail "$addr: plain AMQP 5672 is open under mutual TLS"; fi
    # stdin held open a moment: under TLS 1.3 the refusal is an alert after the client's Finished
    out=$(sleep 2 | timeout 10 openssl s_client -connect "$addr:5671" -CAfile "$WORK/tls/ca.pem" 2>&1 || true)
    grep -qE 'alert (certificate required|handshake failure)' <<<"$out" || { echo "$out" | tail -n 5 >&2; fail "$addr: 5671 did not refuse a client without a certificate"; }
    echo "$addr: 5672 closed, 5671 refuses a client without a certificate"
  fi
done

step "playbook, second run (idempotence)"
t=$(date +%s); "${PLAY[@]}" </dev/null | tee "$WORK/run2.log"; echo "second run: $(( $(date +%s) - t )) s"
recap=$(sed -n '/PLAY RECAP/,$p' "$WORK/run2.log" | grep -E 'ok=')
[ "$(echo "$recap" | wc -l)" = "$ALL" ] || fail "recap does not list $ALL hosts"
if echo "$recap" | grep -Ev 'changed=0 .*failed=0' | grep -q .; then
  grep -B8 '^changed: ' "$WORK/run2.log" | grep -E '^(TASK|RUNNING HANDLER|changed)' >&2 || true
  [ "$SD" = 0 ] || on "$SD" 'systemctl status --no-pager miros-instance | head -8; journalctl --no-pager -u miros-instance | tail -n 30' >&2 || true
  fail "second run changed something: $recap"
fi
echo "second run: changed=0 on every host"

step "--limit: a run on one host writes the same hosts file (no other host's facts needed)"
"${PLAY[@]}" --limit "${PREFIX}-2" --tags miros_hosts_file </dev/null > "$WORK/run-limit.log" || { cat "$WORK/run-limit.log"; fail "--limit run"; }
grep -qE "^${PREFIX}-2 +: ok=[0-9]+ +changed=0 .*failed=0" "$WORK/run-limit.log" || { cat "$WORK/run-limit.log"; fail "--limit run changed the hosts file"; }
echo "${PREFIX}-2: $(cat "$WORK/hosts/${PREFIX}-2/instance/.miros_rabbitmq_hosts.json")"

instance_log() { # the instance's output: a log file (detached) or the journal (systemd)
  local i=$1
  if [ "$i" = "$SD" ]; then on "$i" journalctl --no-pager -o cat -u miros-instance
  else cat "$WORK/hosts/${PREFIX}-$i/instance/log/instance.log"; fi
}
step "exchange: the deployed instances talk over the mesh"
ok=
for _ in $(seq 1 60); do
  ok=1
  for i in $(seq 1 "$ALL"); do
    log=$(instance_log "$i" 2>/dev/null || true)
    for j in $(seq 1 "$ALL"); do
      [ "$i" = "$j" ] && continue
      grep -q "GOT TICK from ${PREFIX}-$j\$" <<<"$log" || ok=
    done
  done
  [ -n "$ok" ] && break
  sleep 1
done
[ -n "$ok" ] || { for i in $(seq 1 "$ALL"); do instance_log "$i" | tail -n 10 >&2 || true; done; fail "instances did not hear each other"; }
echo "every instance got TICKs from every other"

step "metrics: every instance's GET /metrics on port 9469 ($([ "$TLS" = off ] && echo 'loopback only: TLS is off' || echo 'its LAN address: TLS is on'))"
METRICS_PORT=9469
delivered() { sed -n 's/^miros_mesh_delivered_total{chart="[^"]*"} \([0-9][0-9.e+]*\)$/\1/p' | head -n 1; }
for i in $(seq 1 "$ALL"); do
  addr=$NET.$((10 + i))
  if [ "$TLS" != off ]; then
    body=$(curl -sf --max-time 5 "http://$addr:$METRICS_PORT/metrics") || fail "$addr:$METRICS_PORT/metrics does not answer (instance_metrics_address is the LAN address under TLS)"
  else
    if curl -s -o /dev/null --max-time 3 "http://$addr:$METRICS_PORT/metrics"; then fail "$addr: the metrics answer on the LAN address with TLS off (want loopback only)"; fi
    if [ "$i" = "$SD" ]; then echo "$addr: not on the LAN address (its loopback is inside the nspawn host: not checked)"; continue; fi
    body=$(ip netns exec "${PREFIX}-$i" curl -sf --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics") || fail "${PREFIX}-$i: 127.0.0.1:$METRICS_PORT/metrics does not answer inside the host"
  fi
  v=$(delivered <<<"$body")
  [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v > 0) }' || fail "$addr: miros_mesh_delivered_total is not above 0: $(grep '^miros_mesh_delivered' <<<"$body" | tr '\n' ' ')"
  echo "$addr: miros_mesh_delivered_total $v"
done
TARGETS=$WORK/prometheus/targets.json
[ -s "$TARGETS" ] || fail "the role wrote no $TARGETS (instance_prometheus_targets)"
want_instances=$([ "$TLS" = off ] && echo 0 || echo "$ALL")
got=$(python3 -c 'import json, sys
g = json.load(open(sys.argv[1]))
print(sum(1 for t in g if t["labels"]["component"] == "rabbitmq"), sum(1 for t in g if t["labels"]["component"] == "miros"))' "$TARGETS")
[ "$got" = "$ALL $want_instances" ] || fail "$TARGETS lists (brokers, instances) $got, want $ALL $want_instances: $(cat "$TARGETS")"
echo "$TARGETS: $ALL brokers, $want_instances instances"
if [ -x /usr/bin/prometheus ]; then
  step "metrics: Debian's Prometheus scrapes the role's targets file"
  mkdir -p "$WORK/prometheus/data"
  printf '%s\n' 'global: { scrape_interval: 1s }' 'scrape_configs:' '  - job_name: miros-lan' '    file_sd_configs:' "      - files: ['$TARGETS']" > "$WORK/prometheus/prometheus.yml"
  PROM=http://127.0.0.1:19091
  /usr/bin/prometheus --config.file="$WORK/prometheus/prometheus.yml" --storage.tsdb.path="$WORK/prometheus/data" --web.listen-address=127.0.0.1:19091 </dev/null >"$WORK/prometheus/prometheus.log" 2>&1 &
  PROM_PID=$!
  count() { curl -s --get --data-urlencode "query=count($1)" "$PROM/api/v1/query" | python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' 2>/dev/null || echo 0; }
  for _ in $(seq 1 60); do
    [ "$(count 'rabbitmq_queues')" = "$ALL" ] && [ "$(count 'miros_mesh_delivered_total > 0')" = "$want_instances" ] && break
    sleep 0.5
  done
  b=$(count 'rabbitmq_queues'); m=$(count 'miros_mesh_delivered_total > 0')
  [ "$b" = "$ALL" ] && [ "$m" = "$want_instances" ] || { tail -n 5 "$WORK/prometheus/prometheus.log" >&2; fail "Prometheus has rabbitmq_queues of $b brokers (want $ALL) and miros_mesh_delivered_total > 0 of $m instances (want $want_instances)"; }
  echo "Prometheus: rabbitmq_queues of $b brokers, miros_mesh_delivered_total > 0 of $m instances"
  kill "$PROM_PID"; wait "$PROM_PID" 2>/dev/null || true; PROM_PID=
else
  echo "SKIPPED: a Prometheus scraping the targets file (NEEDS /usr/bin/prometheus: apt-get install prometheus)"
fi

if [ "$TLS" != off ]; then
  step "TLS: every instance's connections are AMQPS (port 5671, ssl) as its .env says"
  for i in $(seq 1 "$ALL"); do
    addr=$NET.$((10 + i))
    curl -sf -u "miros-admin:$ADMIN_PW" "http://$addr:15672/api/connections" > "$WORK/connections.json" || fail "$addr: /api/connections"
    got=$(python3 -c 'import json, sys
c = [x for x in json.load(open(sys.argv[1])) if x.get("user") == "peter"]
print(len(c), sum(1 for x in c if x.get("ssl") and x.get("port") == 5671))' "$WORK/connections.json")
    read -r total tls <<<"$got"
    [ "$total" -gt 0 ] && [ "$total" = "$tls" ] || fail "$addr: $tls of $total client connections are TLS on 5671"
    echo "$addr: $total client connections, all TLS on 5671"
  done
  envfile=$WORK/hosts/${PREFIX}-1/instance/.env
  grep -qx 'RABBIT_PORT=5671' "$envfile" && grep -qx 'RABBIT_TLS=on' "$envfile" && grep -q '^RABBIT_TLS_CA=.*/tls/ca.pem$' "$envfile" || fail "$envfile lacks the RABBIT_TLS settings"
fi

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

if [ "$SD" != 0 ]; then
  h=${PREFIX}-$SD
  step "$h: systemd units, the user's two-chart program as user miros, hardened, restarted on failure"
  on "$SD" systemctl is-active rabbitmq-server miros-instance >/dev/null || fail "$h: units not active: $(on "$SD" systemctl is-active rabbitmq-server miros-instance | tr '\n' ' ')"
  props=$(on "$SD" systemctl show miros-instance -p MainPID -p User -p NoNewPrivileges -p ProtectSystem -p PrivateTmp -p NRestarts)
  echo "$props" | tr '\n' ' '; echo
  for want in User=miros NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes; do
    grep -qx "$want" <<<"$props" || fail "$h: miros-instance has not $want"
  done
  pid=$(sed -n 's/^MainPID=//p' <<<"$props")
  restarts=$(sed -n 's/^NRestarts=//p' <<<"$props")
  cmd=$(on "$SD" "ps -o user=,args= -p $pid")
  case "$cmd" in "miros "*"/opt/miros-instance/node_modules/two-charts/main.js"*) ;; *) fail "$h runs: $cmd" ;; esac
  echo "$h: $cmd"
  on "$SD" kill -9 "$pid"
  for _ in $(seq 1 40); do
    props=$(on "$SD" systemctl show miros-instance -p MainPID -p NRestarts -p ActiveState)
    grep -qx 'ActiveState=active' <<<"$props" && ! grep -qx "MainPID=$pid" <<<"$props" && ! grep -qx 'MainPID=0' <<<"$props" && break
    sleep 0.5
  done
  grep -qx "NRestarts=$((restarts + 1))" <<<"$props" && grep -qx 'ActiveState=active' <<<"$props" || fail "$h: systemd did not restart the killed instance: $(echo $props)"
  echo "$h: killed pid $pid (SIGKILL), systemd restarted it: $(echo $props)"
  journal=$(on "$SD" journalctl --no-pager -o cat -u miros-instance)
  [ "$(grep -c "^READY $h" <<<"$journal")" -ge 2 ] || fail "$h: the journal has not the READY lines of both starts of the instance"
  echo "$h: the instance's output is in journald (READY before and after the kill)"
fi
sleep 3

step "logs role: fetch distributed.log and instance logs"
STAMP=ci-$(date +%Y%m%d-%H%M%S)-$$
"${PLAY[@]}" --tags logs -e "logs_stamp=$STAMP" </dev/null > "$WORK/run-logs.log" || { cat "$WORK/run-logs.log"; fail "logs play"; }
DEST=$ROOT/logs/ansible-$STAMP
for i in $(seq 1 "$ALL"); do
  ns=${PREFIX}-$i; d=$DEST/$ns/distributed.log
  [ -s "$d" ] || fail "$d missing or empty"
  [ -s "$DEST/$ns/instance.log" ] || fail "$DEST/$ns/instance.log missing"
  for j in $(seq 1 "$ALL"); do
    grep -q "\[${PREFIX}-$j\]" "$d" || fail "$d has no trace line of ${PREFIX}-$j"
  done
  echo "$d: $(wc -l < "$d") lines, trace lines of all $ALL hosts"
done
if [ "$SD" != 0 ]; then
  grep -q "GOT TICK from ${PREFIX}-1" "$DEST/${PREFIX}-$SD/instance.log" || fail "the journal fetched by the logs role has no GOT TICK"
  [ -s "$DEST/${PREFIX}-$SD/rabbitmq-journal.log" ] || fail "no rabbitmq-server journal from ${PREFIX}-$SD"
  echo "${PREFIX}-$SD: instance.log and rabbitmq-journal.log from journald"
fi
ls -R "$DEST" | head -30
step "all checks passed"
