#!/usr/bin/env bash
# Makes WebGPU work on a machine without a GPU by installing Mesa's lavapipe, a Vulkan driver that runs
# on the CPU, new enough for Dawn (Mesa 24 or later; Debian 12's own Mesa 22 is too old).
#
#   bash scripts/setup-software-gpu.sh          # install only when no working adapter is found
#   bash scripts/setup-software-gpu.sh --print  # print the commands this machine needs, change nothing
#
# Idempotent: when a WebGPU adapter already runs a kernel correctly (a real GPU, or lavapipe installed
# earlier) it does nothing. Installing needs root or password-less sudo on Debian or Ubuntu; elsewhere
# it prints the exact commands and exits 1.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

PACKAGES=(mesa-vulkan-drivers libvulkan1)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# Sets ADAPTER to the working adapter's name and returns 0, or returns 1 when none works and 3 when it
# cannot tell yet (dependencies not installed). Dawn's own warnings are dropped: the status says it all.
probe() {
  local status=0
  ADAPTER=$(node "$REPO/scripts/lib/probe-webgpu.mjs" 2>/dev/null) || status=$?
  return "$status"
}

# Without the webgpu package installed, trust a Mesa Vulkan driver of version 24 or later.
mesa_is_recent() {
  local version
  version="$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null)" || return 1
  dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed' || return 1
  dpkg --compare-versions "$version" ge 24
}

# The Debian mirror this machine already uses for $1 (its codename), so backports come from the same
# place: deb822 .sources files first (Debian 12's default), then classic sources.list lines.
debian_mirror() {
  local codename=$1 file line uri suites
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    uri='' suites=''
    while IFS= read -r line || [[ -n $line ]]; do
      case $line in
        URIs:*) uri=$(awk '{print $2}' <<<"$line") ;;
        Suites:*) suites=" ${line#Suites:} " ;;
        '') uri='' suites='' ;;
      esac
      if [[ -n $uri && $suites == *" $codename "* && $uri != *security* ]]; then
        echo "$uri"
        return
      fi
    done <"$file"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $file ]] || continue
    uri=$(awk -v suite="$codename" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) while ($i !~ /\]$/) i++
        if ($i ~ /^\[/ || $i ~ /\]$/) i++
        if ($(i + 1) == suite && $i !~ /security/) { print $i; exit }
      }' "$file")
    if [[ -n $uri ]]; then
      echo "$uri"
      return
    fi
  done
  echo http://deb.debian.org/debian
}

has_backports() {
  grep -rqsE "^[^#]*bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/
}

# Prints (with --print) or runs the commands that install lavapipe here. Returns 2 when this system is
# not one the script knows how to set up.
install_commands() {
  local mode=$1 id codename like mirror
  id=$(os_id) codename=$(os_codename) like=$(os_like)
  run() {
    if [[ $mode == print ]]; then printf '  %s\n' "$*"; else as_root "$@"; fi
  }
  if [[ $id == debian && $codename == bookworm ]]; then
    if ! has_backports; then
      mirror=$(debian_mirror bookworm)
      if [[ -d /etc/apt/sources.list.d && -f /etc/apt/sources.list.d/debian.sources ]]; then
        local stanza="Types: deb\nURIs: $mirror\nSuites: bookworm-backports\nComponents: main"
        [[ -f $KEYRING ]] && stanza+="\nSigned-By: $KEYRING"
        run sh -c "printf '$stanza\n' > /etc/apt/sources.list.d/bookworm-backports.sources"
      else
        run sh -c "echo 'deb $mirror bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list"
      fi
    fi
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t bookworm-backports "${PACKAGES[@]}"
  elif [[ " $like " == *" debian "* || " $like " == *" ubuntu "* ]]; then
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"
  else
    return 2
  fi
}

explain_and_fail() {
  local reason=$1
  {
    echo "nephron: $reason"
    echo "Run these commands as root to install Mesa's lavapipe (a Vulkan driver on the CPU):"
    if ! install_commands print; then
      echo "  (this is not Debian or Ubuntu; install Mesa 24 or later with its Vulkan drivers, the"
      echo "   'lvp' ICD, through your package manager, or install your GPU's Vulkan driver)"
    fi
    echo "Then check with: node apps/cli/bin/nephron.js doctor"
  } >&2
  exit 1
}

main() {
  if [[ ${1:-} == --print ]]; then
    install_commands print || explain_and_fail "no automatic set-up for $(os_id)."
    return
  fi

  local status=0
  probe || status=$?
  if [[ $status == 0 ]]; then
    echo "WebGPU works already ($ADAPTER); nothing to do."
    return
  fi
  if [[ $status == 3 ]] && mesa_is_recent; then
    echo "Mesa's Vulkan driver $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) is installed; nothing to do."
    return
  fi

  can_be_root || explain_and_fail "no WebGPU adapter works here, and installing one needs root (or sudo)."
  say "Installing Mesa's lavapipe Vulkan driver (software WebGPU)"
  local result=0
  install_commands run || result=$?
  [[ $result == 2 ]] && explain_and_fail "no automatic set-up for $(os_id)."
  [[ $result == 0 ]] || explain_and_fail "installing the Vulkan driver failed (see above)."

  status=0
  probe || status=$?
  case $status in
    0) echo "WebGPU works now ($ADAPTER)." ;;
    3) echo "Installed ${PACKAGES[*]}; WebGPU is checked once dependencies are installed." ;;
    *) fail "installed ${PACKAGES[*]}, but WebGPU still finds no working adapter. See what Vulkan finds with
  'vulkaninfo --summary' (package vulkan-tools) and what WebGPU says with 'node apps/cli/bin/nephron.js doctor'." ;;
  esac
}

main "$@"
