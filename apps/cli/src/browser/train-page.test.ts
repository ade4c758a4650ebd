import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StepRecord, writeSyntheticDataset } from '@nephron/hubmap';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseFiles, outputBytes, outputText, typeCommand } from './app-page.js';
import { runNode as nodeRun, TINY_DEMO_CONFIG, TINY_TRAIN_CONFIG } from './fixtures.js';
import { type OpenApp, openApp } from './open-app.js';

// `train` and `demo` in the page and on the Node host, on the same inputs and seeds: the same steps and learning
// rates, losses within GPU rounding (Node runs Dawn on lavapipe, Chromium its own Dawn on SwiftShader; each sums in
// its own order, and SwiftShader runs some layers through other kernels, see conv-tuning.ts), the same CPU-made
// files byte for byte.

const cliRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots for CI (ignored by git). */
const ARTIFACTS = join(cliRoot, 'test-artifacts');

/**
 * The first step's loss is the same weights on the same tiles: only GPU rounding differs (measured 2e-7 and 8e-6
 * relative). Later losses differ more, because AdamW's first update moves every weight by about ±lr whatever the
 * size of its gradient, so a gradient near zero whose sign rounding flips moves its weight the other way (measured
 * 0.2% and 0.7% after one step); a different tile, label or learning rate moves the loss by far more.
 */
const FIRST_LOSS_TOLERANCE = 1e-4;
const LATER_LOSS_TOLERANCE = 2e-2;

function steps(jsonl: string): StepRecord[] {
  return jsonl
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as StepRecord);
}

function expectSameSteps(page: StepRecord[], node: StepRecord[]): void {
  expect(page.map((s) => s.globalStep)).toEqual(node.map((s) => s.globalStep));
  expect(page.map((s) => s.lr)).toEqual(node.map((s) => s.lr));
  const losses = page.map((s, k) => [s.loss, node[k].loss]);
  for (const [k, [a, b]] of losses.entries()) {
    const tolerance = k === 0 ? FIRST_LOSS_TOLERANCE : LATER_LOSS_TOLERANCE;
    expect(Math.abs(a - b), `page, Node losses: ${JSON.stringify(losses)}`).toBeLessThanOrEqual(
      tolerance * Math.abs(b),
    );
  }
}

describe('train and demo in the page and in the terminal', () => {
  let outDir: string;
  let fixtures: string;
  let app: OpenApp | undefined;
  let page: Page;
  const runNode = (line: readonly string[]) => nodeRun(fixtures, line);

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'nephron-train-page-'));
    fixtures = await mkdtemp(join(tmpdir(), 'nephron-train-page-fixtures-'));
    await writeSyntheticDataset(join(fixtures, 'data'), {
      trainImages: 2,
      testImages: 2,
      width: 128,
      height: 96,
      seed: 5,
      tileSize: 64,
    });
    await writeFile(join(fixtures, 'train.json'), JSON.stringify(TINY_TRAIN_CONFIG));
    await writeFile(join(fixtures, 'demo.json'), JSON.stringify(TINY_DEMO_CONFIG));

    app = await openApp(outDir, { folderFallback: true });
    page = app.page;
    await chooseFiles(page, '#pick-folder', join(fixtures, 'data'));
    await chooseFiles(page, '#pick-files', [join(fixtures, 'train.json'), join(fixtures, 'demo.json')]);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await rm(outDir, { recursive: true, force: true });
    await rm(fixtures, { recursive: true, force: true });
  });

  it('trains on the picked data folder with a progress element, taking the steps Node takes', async () => {
    const run = await typeCommand(page, 'train --data data --out run --config train.json --seed 3', 600_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^epoch 1: loss \d\.\d{4}, validation Dice /m);
    const bar = page.locator('article.run').last().locator('.progress progress');
    expect(await bar.evaluate((element: HTMLProgressElement) => [element.value, element.max])).toEqual([
      2, 2,
    ]);

    const node = await runNode(run.argv);
    expect(node.code, node.stderr).toBe(0);
    expectSameSteps(
      steps(await outputText(page, 'run/steps.jsonl')),
      steps(await readFile(join(fixtures, 'run', 'steps.jsonl'), 'utf8')),
    );
    expect(await outputText(page, 'run/config.json')).toBe(
      await readFile(join(fixtures, 'run', 'config.json'), 'utf8'),
    );
    for (const file of ['run/model.safetensors', 'run/last.safetensors']) {
      expect((await outputBytes(page, file)).length).toBe((await readFile(join(fixtures, file))).length);
    }
  }, 900_000);

  it('runs the demo, writing the data, report, submission and model the Node host writes', async () => {
    const run = await typeCommand(page, 'demo --out demo --config demo.json --seed 2 --json', 600_000);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const node = await runNode(run.argv);
    expect([node.code, node.stderr]).toEqual([0, '']);
    const [a, b] = [JSON.parse(run.stdout), JSON.parse(node.stdout)];
    // The data is generated on the CPU: the same CSVs, byte for byte.
    for (const file of ['data/train.csv', 'data/solution.csv', 'data/dataset_information.csv']) {
      expect(await outputText(page, `demo/${file}`)).toBe(
        await readFile(join(fixtures, 'demo', file), 'utf8'),
      );
    }
    expectSameSteps(
      steps(await outputText(page, 'demo/run/steps.jsonl')),
      steps(await readFile(join(fixtures, 'demo', 'run', 'steps.jsonl'), 'utf8')),
    );
    // Two steps leave the model unsure almost everywhere, so pixels near the threshold may flip; the scores of the
    // two submissions stay within a few hundredths.
    expect(a.score.images.map((i: { id: string }) => i.id)).toEqual(
      b.score.images.map((i: { id: string }) => i.id),
    );
    expect(Math.abs(a.score.mean - b.score.mean)).toBeLessThan(0.05);
    expect((await outputText(page, 'demo/submission.csv')).split('\n')[0]).toBe('id,predicted');
    expect((await outputBytes(page, 'demo/run/model.safetensors')).length).toBe(
      (await readFile(join(fixtures, 'demo', 'run', 'model.safetensors'))).length,
    );
    const report = await outputText(page, 'demo/report.html');
    expect(report).toContain('<svg');
    expect(report).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);

    expect(app!.pageErrors).toEqual([]);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-demo.png') });
  }, 900_000);
});
