import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeSyntheticDataset } from '@nephron/hubmap';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelRow } from '../bench/kernel-bench.js';
import { chooseFiles, outputBytes, outputText, typeCommand } from './app-page.js';
import {
  runNode as nodeRun,
  TINY_DEMO_CONFIG,
  TINY_TRAIN_CONFIG,
  writeTinyModel,
  writeTinySlide,
} from './fixtures.js';
import { type OpenApp, openApp } from './open-app.js';
import { terminalHtml } from './terminal-html.js';

// Commands run in the page and on the Node host on the same inputs, and their outputs are compared: equal where
// the arithmetic is on the CPU, within a stated tolerance where the GPUs' float order may differ (Node runs Dawn
// from the `webgpu` package on lavapipe, Chromium its own Dawn on SwiftShader). train and demo in the page are
// compared with the Node host in train-page.test.ts; here the Node host's runs make the README's screenshots.

const cliRoot = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(cliRoot, 'bin', 'nephron.js');
/** Screenshots for CI (ignored by git); copied to docs/screenshots/ when NEPHRON_UPDATE_SCREENSHOTS=1. */
const ARTIFACTS = join(cliRoot, 'test-artifacts');
const SCREENSHOTS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));

async function saveScreenshot(name: string, take: (path: string) => Promise<unknown>): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  const artifact = join(ARTIFACTS, name);
  await take(artifact);
  if (process.env.NEPHRON_UPDATE_SCREENSHOTS === '1') {
    await mkdir(SCREENSHOTS, { recursive: true });
    await copyFile(artifact, join(SCREENSHOTS, name));
  }
}

describe('commands in the page and in the terminal', () => {
  let outDir: string;
  let fixtures: string;
  let app: OpenApp | undefined;
  let page: Page;
  const runNode = (line: readonly string[]) => nodeRun(fixtures, line);
  /** Runs a line in the page and on the Node host. */
  async function runBoth(line: string, timeout?: number) {
    const run = await typeCommand(page, line, timeout);
    return { run, node: await runNode(run.argv) };
  }

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'nephron-commands-'));
    fixtures = await mkdtemp(join(tmpdir(), 'nephron-commands-fixtures-'));
    await writeTinySlide(join(fixtures, 'tiny.tiff'));
    await writeTinyModel(join(fixtures, 'model.safetensors'));
    const data = join(fixtures, 'data');
    await writeSyntheticDataset(data, {
      trainImages: 2,
      testImages: 2,
      width: 128,
      height: 96,
      seed: 5,
      tileSize: 64,
    });
    // Predictions to score and shards to merge: the solution's rows, one with every other run dropped.
    const [header, first, second] = (await readFile(join(data, 'solution.csv'), 'utf8')).trim().split('\n');
    const [id, runs] = first.split(',');
    const halved = runs
      .split(' ')
      .filter((_, k) => k % 4 < 2)
      .join(' ');
    await writeFile(join(fixtures, 'pred.csv'), `${header}\n${id},${halved}\n${second}\n`);
    await writeFile(join(fixtures, 'shard-0.csv'), `id,predicted\n${second}\n`);
    await writeFile(join(fixtures, 'shard-1.csv'), `id,predicted\n${id},${halved}\n`);
    await writeFile(join(fixtures, 'train.json'), JSON.stringify(TINY_TRAIN_CONFIG));
    await writeFile(join(fixtures, 'demo.json'), JSON.stringify(TINY_DEMO_CONFIG));

    app = await openApp(outDir, { folderFallback: true });
    page = app.page;
    await chooseFiles(page, '#pick-folder', data);
    await chooseFiles(
      page,
      '#pick-files',
      [
        'tiny.tiff',
        'model.safetensors',
        'pred.csv',
        'shard-0.csv',
        'shard-1.csv',
        'train.json',
        'demo.json',
      ].map((name) => join(fixtures, name)),
    );
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await rm(outDir, { recursive: true, force: true });
    await rm(fixtures, { recursive: true, force: true });
  });

  it('inspect, crop, score and merge print and write what the Node host does, byte for byte', async () => {
    for (const line of [
      'inspect tiny.tiff',
      'inspect tiny.tiff --json',
      'score --pred pred.csv --truth data/solution.csv --json',
      'score --pred pred.csv --truth data/solution.csv --info data/dataset_information.csv',
    ]) {
      const { run, node } = await runBoth(line);
      expect([run.code, run.stderr]).toEqual([0, '']);
      expect(run.stdout).toBe(node.stdout);
    }
    expect(
      JSON.parse((await typeCommand(page, 'score --pred pred.csv --truth data/solution.csv --json')).stdout)
        .mean,
    ).toBeGreaterThan(0.5);

    const crop = await runBoth('crop tiny.tiff --x 10 --y 5 --w 100 --h 80 --scale 0.5 --out crops/tiny.png');
    expect([crop.run.code, crop.run.stdout]).toEqual([0, crop.node.stdout]);
    expect(await outputBytes(page, 'crops/tiny.png')).toEqual(
      new Uint8Array(await readFile(join(fixtures, 'crops', 'tiny.png'))),
    );

    const merge = await runBoth(
      'merge shard-1.csv shard-0.csv --order data/sample_submission.csv --out merged.csv',
    );
    expect([merge.run.code, merge.run.stderr]).toEqual([0, merge.node.stderr]);
    expect(await outputText(page, 'merged.csv')).toBe(await readFile(join(fixtures, 'merged.csv'), 'utf8'));
  });

  it('fails with the same usage errors and exit code 2 in both hosts', async () => {
    for (const line of [
      'crop tiny.tiff --x -1 --y 0 --w 10 --h 10 --out x.png',
      'demo --slide-size 10x10',
      'train --data data --out run-bad --tile 50',
    ]) {
      const { run, node } = await runBoth(line);
      expect(run.code).toBe(2);
      expect([run.code, run.stdout, run.stderr]).toEqual([node.code, node.stdout, node.stderr]);
    }
  });

  it('forward runs a slide tile through a picked model as the Node host does, within GPU rounding', async () => {
    const { run, node } = await runBoth(
      'forward --weights model.safetensors --image tiny.tiff --x 16 --json',
      540_000,
    );
    expect([run.code, run.stderr, node.code]).toEqual([0, '', 0]);
    const [a, b] = [JSON.parse(run.stdout), JSON.parse(node.stdout)];
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect([a.tile, a.downscale]).toEqual([b.tile, b.downscale]);
    for (const key of ['mean', 'min', 'max']) expect(Math.abs(a[key] - b[key])).toBeLessThan(1e-4);
  }, 1_200_000);

  it('draws live progress bars in a terminal: a real `nephron train` session, screenshotted', async () => {
    // The built CLI in a pseudo-terminal, so cli-progress draws its live bar as a person sees it; the README's
    // terminal screenshot is this session, rendered by terminalHtml.
    const line = 'train --data data --out run --config train.json --seed 3';
    const { stdout: terminal } = await promisify(execFile)(
      'script',
      ['-qec', `stty cols 120 rows 40; node ${BIN} ${line}`, '/dev/null'],
      { cwd: fixtures, timeout: 900_000, env: { ...process.env, FORCE_COLOR: '1' } },
    );
    expect(terminal).toMatch(/epoch 1\/1 \[█+\] 2\/2 steps \| [\d.]+ steps\/s \| ETA/);
    expect(terminal).toContain('done: best validation Dice');
    const session = await app!.browser.context.newPage();
    await session.setContent(terminalHtml(`nephron ${line}`, terminal, 'nephron train — Node host'));
    expect(await session.locator('#terminal pre').textContent()).toMatch(/^epoch 1\/1 \[█+\] 2\/2 steps/m);
    await saveScreenshot('node-terminal.png', (path) => session.locator('#terminal').screenshot({ path }));
    await session.close();
  }, 1_200_000);

  it('runs a tiny demo through the host files and screenshots its report.html', async () => {
    const node = await runNode(['demo', '--out', 'demo', '--config', 'demo.json', '--seed', '2', '--json']);
    expect([node.code, node.stderr]).toEqual([0, '']);
    const result = JSON.parse(node.stdout);
    expect(result.score.images).toHaveLength(2);
    for (const file of ['submission.csv', 'score.json', 'run/model.safetensors', 'run/steps.jsonl']) {
      expect((await readFile(join(fixtures, 'demo', file))).length).toBeGreaterThan(0);
    }
    const report = await readFile(join(fixtures, 'demo', 'report.html'), 'utf8');
    expect(report).toContain('<svg');
    expect(report).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
    const view = await app!.browser.context.newPage();
    await view.setViewportSize({ width: 1100, height: 900 });
    await view.goto(`file://${join(fixtures, 'demo', 'report.html')}`);
    await saveScreenshot('report.png', (path) => view.screenshot({ path, fullPage: true }));
    await view.close();
  }, 1_200_000);

  it('bench kernels times our kernels and tfjs-webgpu on the page’s GPU, the same rows as in Node', async () => {
    const { run, node } = await runBoth('bench kernels --rows matmul --min-ms 1 --json', 300_000);
    expect([run.code, node.code]).toEqual([0, 0]);
    const [page_, terminal] = [JSON.parse(run.stdout) as KernelRow[], JSON.parse(node.stdout) as KernelRow[]];
    expect(page_.map((r) => r.name)).toEqual(terminal.map((r) => r.name));
    expect(page_.length).toBeGreaterThan(0);
    for (const row of page_) {
      expect(row.ours_gflops).toBeGreaterThan(0);
      // tfjs-webgpu is bundled into the page, so the page compares with it as the terminal does.
      expect(row.tfjs_gflops).toBeGreaterThan(0);
    }
    expect(app!.pageErrors).toEqual([]);
    await saveScreenshot('browser-commands.png', (path) => page.screenshot({ path }));
  }, 360_000);
});
