#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (driven headless by playwright-core; no browser is
# ever downloaded by Playwright). Idempotent: does nothing when Chromium is already there.
# NEPHRON_CHROMIUM may name another Chromium or Chrome binary instead of /usr/bin/chromium.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

CHROMIUM=${NEPHRON_CHROMIUM:-/usr/bin/chromium}

if [[ -x $CHROMIUM ]]; then
  echo "Chromium is installed ($CHROMIUM); nothing to do."
  exit 0
fi
if [[ -n ${NEPHRON_CHROMIUM:-} ]]; then
  fail "NEPHRON_CHROMIUM is set to $CHROMIUM, which is not an executable file."
fi

# Ubuntu's chromium package only installs a snap, which does not run in containers or CI, so only
# Debian is set up automatically.
if [[ $(os_id) == debian ]] && can_be_root; then
  say "Installing Chromium"
  as_root apt-get update
  apt_install chromium
  [[ -x $CHROMIUM ]] || fail "the chromium package was installed, but $CHROMIUM is missing."
  echo "Chromium is installed ($CHROMIUM)."
  exit 0
fi

{
  echo "nephron: the browser tests need Chromium at $CHROMIUM."
  if [[ $(os_id) == debian ]]; then
    echo "Install it as root with:"
    echo "  apt-get update && apt-get install -y --no-install-recommends chromium"
  else
    echo "Install Chromium or Google Chrome and point NEPHRON_CHROMIUM at its binary, e.g."
    echo "  export NEPHRON_CHROMIUM=/usr/bin/google-chrome"
  fi
} >&2
exit 1
