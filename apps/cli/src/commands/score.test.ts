import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsvTable } from '@nephron/io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, JS_STACK_FRAME, runBuiltCli, sharedData } from '../testing/built-cli.js';

const vanderbilt = `${sharedData}hubmap-vanderbilt/`;

describe.skipIf(!existsSync(vanderbilt))('nephron score on ../shared/data (skipped when absent)', () => {
  const out = mkdtempSync(join(tmpdir(), 'nephron-score-'));
  beforeAll(assertCliBuilt);
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const solution = `${vanderbilt}solution.csv`;
  const rows = existsSync(solution) ? parseCsvTable(readFileSync(solution, 'utf8')) : [];

  it('scores the all-empty sample submission 0 and the solution itself 1', () => {
    const empty = runBuiltCli([
      'score',
      '--pred',
      `${vanderbilt}sample_submission.csv`,
      '--truth',
      solution,
      '--json',
    ]);
    expect(empty.code).toBe(0);
    const result = JSON.parse(empty.stdout);
    expect(result.mean).toBe(0);
    expect(result.images.map((image: { id: string }) => image.id)).toEqual(rows.map((r) => r.values.id));
    expect(result.images.every((image: { predictedPixels: number }) => image.predictedPixels === 0)).toBe(
      true,
    );
    const perfect = runBuiltCli([
      'score',
      '--pred',
      solution,
      '--truth',
      solution,
      '--info',
      `${vanderbilt}dataset_information.csv`,
    ]);
    expect(perfect.code).toBe(0);
    expect(perfect.stdout).toMatch(/^mean Dice 1\.0000 over 2 images$/m);
  });

  it('averages per image: one slide right and one empty gives 0.5', () => {
    const pred = join(out, 'half.csv');
    writeFileSync(
      pred,
      `id,predicted\n${rows[1].values.id},\n${rows[0].values.id},${rows[0].values.encoding}\n`,
    );
    const { code, stdout } = runBuiltCli(['score', '--pred', pred, '--truth', solution]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${rows[0].values.id} +1\\.0000 `, 'm'));
    expect(stdout).toMatch(new RegExp(`^${rows[1].values.id} +0\\.0000 +0 `, 'm'));
    expect(stdout).toMatch(/^mean Dice 0\.5000 over 2 images$/m);
  });

  it('fails with exit 1 naming missing ids or a bad encoding, and 2 without --truth', () => {
    const pred = join(out, 'short.csv');
    writeFileSync(pred, `id,predicted\n${rows[0].values.id},1 5\n`);
    const short = runBuiltCli(['score', '--pred', pred, '--truth', solution]);
    expect(short.code).toBe(1);
    expect(short.stderr).toBe(`nephron: ${pred}: no row for 1 image of ${solution}: ${rows[1].values.id}\n`);
    writeFileSync(pred, `id,predicted\n${rows[0].values.id},1 5\n${rows[1].values.id},9 0\n`);
    const bad = runBuiltCli(['score', '--pred', pred, '--truth', solution]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${pred}: line 3: RLE of image "${rows[1].values.id}": token 2`);
    expect(bad.stderr).not.toMatch(JS_STACK_FRAME);
    expect(runBuiltCli(['score', '--pred', pred]).code).toBe(2);
  });
});
