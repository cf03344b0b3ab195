#!/usr/bin/env bash
# Installs ansible/requirements.yml: every collection it pins, at exactly that version.
# A collection already installed at that version (Debian 12's `ansible` package ships
# community.rabbitmq 1.2.3) is kept; anything else is installed with ansible-galaxy into
# ansible/collections (ansible/ansible.cfg's collections_path), from the sources ansible-galaxy
# is configured with. Exits non-zero, saying what is missing, when that is not possible.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQ=$ROOT/ansible/requirements.yml
export ANSIBLE_CONFIG=$ROOT/ansible/ansible.cfg
command -v ansible-galaxy >/dev/null || { echo "ansible-requirements: ansible-galaxy not found: install ansible (Debian: apt-get install ansible)" >&2; exit 1; }
# "name version" per pinned collection, read with the YAML parser ansible itself uses
pins=$(python3 -c 'import sys, yaml
for c in yaml.safe_load(open(sys.argv[1]))["collections"]: print(c["name"], c["version"])' "$REQ")
missing=
while read -r name version; do
  have=$(ansible-galaxy collection list "$name" --format json 2>/dev/null |
    python3 -c 'import sys, json
d = json.load(sys.stdin); n = sys.argv[1]
print(" ".join(sorted({v["version"] for p in d.values() for k, v in p.items() if k == n})))' "$name" || true)
  if [[ " $have " == *" $version "* ]]; then
    echo "ansible-requirements: $name $version installed"
  else
    echo "ansible-requirements: $name $version missing (installed: ${have:-none})"
    missing=1
  fi
done <<<"$pins"
[ -z "$missing" ] && exit 0
echo "ansible-requirements: ansible-galaxy collection install -r $REQ -p $ROOT/ansible/collections"
ansible-galaxy collection install -r "$REQ" -p "$ROOT/ansible/collections" || {
  echo "ansible-requirements: could not install $REQ: ansible-galaxy cannot reach its sources from here." >&2
  echo "  Install Debian's ansible package (it ships these collections), or put the pinned collection tarballs" >&2
  echo "  where ansible-galaxy can read them (ansible-galaxy collection install PATH.tar.gz -p ansible/collections)." >&2
  exit 1
}
