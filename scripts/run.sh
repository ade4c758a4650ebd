#!/usr/bin/env bash
# The main job, from a fresh clone on a machine with only Node 20 and npm: installs what is missing
# (pnpm through npx, the dependencies, a software GPU when there is no working one), builds, and runs
# nephron. Until the glomerulus pipeline exists, `nephron doctor` is the job: it proves that WebGPU
# works here by running a WGSL kernel and checking its result.
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
