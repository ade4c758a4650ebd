import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestDevice, runSelfTest } from '@nephron/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage, HARNESS_ROOT } from './build-page.js';
import { type HeadlessChromium, launchChromium } from './chromium.js';
import type { HarnessResult } from './harness/result.js';
import { type StaticServer, serveFolder } from './static-server.js';

describe('browser harness', () => {
  let outDir: string;
  let server: StaticServer | undefined;
  let browser: HeadlessChromium | undefined;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'nephron-harness-'));
    await buildPage(HARNESS_ROOT, outDir);
    server = await serveFolder(outDir);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(outDir, { recursive: true, force: true });
  });

  it('runs the device layer self-test kernel in headless Chromium with the numbers Dawn gives in Node', async () => {
    const page = await browser!.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(server!.url);
    const result = await page.evaluate(
      () => (window as unknown as { nephronHarness: Promise<HarnessResult> }).nephronHarness,
    );
    expect(pageErrors).toEqual([]);
    expect(result.error).toBeNull();
    expect(result.adapter).not.toBeNull();
    expect(result.selfTest?.actual).toHaveLength(1000);
    expect(result.selfTest?.actual).toEqual(result.selfTest?.expected);
    expect(result.ok).toBe(true);

    const gpu = await requestDevice();
    try {
      const node = await runSelfTest(gpu.device);
      expect(result.selfTest?.actual).toEqual(node.actual);
    } finally {
      gpu.device.destroy();
    }

    await page.locator('body[data-status="ok"]').waitFor();
    expect(JSON.parse((await page.locator('#result').textContent()) ?? '')).toEqual(result);
  });
});

describe('launchChromium', () => {
  it('fails with the set-up command when Chromium is missing', async () => {
    const saved = process.env.NEPHRON_CHROMIUM;
    process.env.NEPHRON_CHROMIUM = '/nonexistent/chromium';
    try {
      await expect(launchChromium()).rejects.toThrow(
        /not found at \/nonexistent\/chromium.*setup-browser\.sh/,
      );
    } finally {
      if (saved === undefined) delete process.env.NEPHRON_CHROMIUM;
      else process.env.NEPHRON_CHROMIUM = saved;
    }
  });
});
