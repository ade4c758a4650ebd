#!/usr/bin/env bash
# The main job, from a fresh clone on a machine with only Node 20 and npm: installs what is missing
# (pnpm through npx, the dependencies, a software GPU when there is no working one), builds, checks the
# GPU with `nephron doctor`, then runs `nephron demo`: it generates a synthetic Kaggle-layout dataset,
# trains a small UNet on it, predicts the held-out slides, scores them and writes demo-out/report.html.
# Extra arguments go to `nephron demo` (e.g. --epochs 2).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO"

say "Installing dependencies (pnpm $(node -p "require('./package.json').packageManager.split('@')[1]"))"
pnpm install --frozen-lockfile
say "Building"
pnpm build
say "Checking for a WebGPU adapter"
bash scripts/setup-software-gpu.sh
say "nephron doctor"
node apps/cli/bin/nephron.js doctor
say "nephron demo $*"
node apps/cli/bin/nephron.js demo "$@"
