import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium; NEPHRON_CHROMIUM may name another Chromium or Chrome binary. */
export function chromiumPath(): string {
  return process.env.NEPHRON_CHROMIUM ?? '/usr/bin/chromium';
}

/** Headless WebGPU on any machine, including a software Vulkan driver (see DEVELOPERS.md). */
export const WEBGPU_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=native',
  '--disable-gpu-sandbox',
  // A software GPU on a busy machine can take longer per submission than the watchdog allows, and a GPU process
  // the watchdog kills takes every WebGPU device of the page with it.
  '--disable-gpu-watchdog',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface HeadlessChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with WebGPU on and a fresh profile, which is deleted again on close. Fails
 * with the set-up command when Chromium is not installed: a browser test must never pass by skipping.
 */
export async function launchChromium(): Promise<HeadlessChromium> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium was not found at ${executablePath}. Install it with \`bash scripts/setup-browser.sh\` ` +
        '(CI runs it through .ci/run), or set NEPHRON_CHROMIUM to a Chromium or Chrome binary.',
    );
  }
  const profile = await mkdtemp(join(tmpdir(), 'nephron-chromium-'));
  const env = { ...process.env } as Record<string, string>;
  if (!env.XDG_RUNTIME_DIR) {
    env.XDG_RUNTIME_DIR = join(profile, 'xdg');
    await mkdir(env.XDG_RUNTIME_DIR, { mode: 0o700 });
  }
  const context = await chromium.launchPersistentContext(join(profile, 'user-data'), {
    executablePath,
    headless: true,
    args: WEBGPU_FLAGS,
    env,
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
