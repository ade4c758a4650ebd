# Shared by the scripts in this folder: `source "$(dirname "$0")/lib/common.sh"`.
# Sets REPO, a private XDG_RUNTIME_DIR (Dawn and Chromium need one) and small helpers.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if [[ -z "${XDG_RUNTIME_DIR:-}" ]]; then
  export XDG_RUNTIME_DIR="/tmp/nephron-xdg-$(id -u)"
fi
mkdir -p "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

say() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf 'nephron: %s\n' "$*" >&2; exit 1; }

# pnpm at the version pinned in package.json's "packageManager", fetched by npx where it is not installed.
pnpm() {
  local pinned
  pinned="$(node -p "require('$REPO/package.json').packageManager")"
  npx -y "$pinned" "$@"
}

# Runs a command as root: directly when root, through sudo when that needs no password, else fails.
as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo "$@"
  else
    return 1
  fi
}

can_be_root() {
  [[ "$(id -u)" == 0 ]] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }
}

# ID and VERSION_CODENAME of /etc/os-release, e.g. "debian bookworm" or "ubuntu noble".
os_id() { (. /etc/os-release 2>/dev/null && echo "${ID:-unknown}"); }
os_codename() { (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}"); }
os_like() { (. /etc/os-release 2>/dev/null && echo "${ID:-} ${ID_LIKE:-}"); }

apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}
