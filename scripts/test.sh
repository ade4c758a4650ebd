#!/usr/bin/env bash
# Every check CI runs, from a fresh clone on a machine with only Node 20 and npm: installs what is
# missing (pnpm through npx, the dependencies, a software GPU, Chromium), builds, then runs the
# linter, the type checker and all tests.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO"

say "Installing dependencies"
pnpm install --frozen-lockfile
say "Setting up WebGPU and Chromium"
bash scripts/setup-software-gpu.sh
bash scripts/setup-browser.sh
say "Lint and format check (biome)"
pnpm exec biome ci .
say "Build and type check (tsc -b)"
pnpm build
say "Tests (vitest)"
pnpm exec vitest run
