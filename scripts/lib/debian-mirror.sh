# shellcheck shell=bash
# The Debian archive this machine's own apt configuration names (sourced by scripts that run
# debootstrap; no mirror is named in the project).
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
    echo "no Debian mirror in this machine's apt sources (/etc/apt/sources.list," >&2
    echo "  /etc/apt/sources.list.d/*.list, /etc/apt/sources.list.d/*.sources) to debootstrap bookworm" >&2
    echo "  from. Add one there, or set MIROS_DEBIAN_MIRROR=<URL of a Debian archive>." >&2
    return 1
  fi
  echo "$m"
}
