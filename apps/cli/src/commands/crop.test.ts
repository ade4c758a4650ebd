import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, openTiffFile, readRegion } from '@nephron/io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, JS_STACK_FRAME, pngSize, runBuiltCli, sharedData } from '../testing/built-cli.js';

const vanderbilt = `${sharedData}hubmap-vanderbilt/`;

describe.skipIf(!existsSync(vanderbilt))('nephron crop on ../shared/data (skipped when absent)', () => {
  const out = mkdtempSync(join(tmpdir(), 'nephron-crop-'));
  beforeAll(assertCliBuilt);
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const pyramid = `${vanderbilt}train/588347964.tiff`;

  it('writes the full-resolution pixels of a region of a striped deflate slide as PNG', async () => {
    const file = `${vanderbilt}train/5c08da6cf.tiff`;
    const png = join(out, 'full.png');
    const args = ['crop', file, '--x', '300', '--y', '1000', '--w', '257', '--h', '130', '--out', png];
    const { code, stdout } = runBuiltCli(args);
    expect(code).toBe(0);
    expect(stdout).toBe(`wrote ${png}: 257 x 130 pixels from level 0 (scale 1)\n`);
    const tiff = await openTiffFile(file);
    const region = await readRegion(tiff, { x: 300, y: 1000, width: 257, height: 130 });
    const elsewhere = await readRegion(tiff, { x: 900, y: 100, width: 257, height: 130 });
    await tiff.close();
    const bytes = readFileSync(png);
    expect(Buffer.from(encodePng(region)).equals(bytes)).toBe(true);
    expect(Buffer.from(encodePng(elsewhere)).equals(bytes)).toBe(false);
  });

  it('reads a pyramid level, or any scale from the best level', () => {
    const level = runBuiltCli([
      'crop',
      pyramid,
      '--x',
      '0',
      '--y',
      '0',
      '--w',
      '6400',
      '--h',
      '3600',
      '--level',
      '2',
      '--out',
      join(out, 'l2.png'),
      '--json',
    ]);
    expect(level.code).toBe(0);
    expect(JSON.parse(level.stdout)).toMatchObject({ width: 1600, height: 900, level: 2, scale: 0.25 });
    expect(pngSize(readFileSync(join(out, 'l2.png')))).toEqual({ width: 1600, height: 900 });
    const scaled = runBuiltCli([
      'crop',
      pyramid,
      '--x',
      '640',
      '--y',
      '320',
      '--w',
      '1000',
      '--h',
      '500',
      '--scale',
      '0.3',
      '--out',
      join(out, 's.png'),
      '--json',
    ]);
    expect(scaled.code).toBe(0);
    expect(JSON.parse(scaled.stdout)).toMatchObject({ width: 300, height: 150, level: 1, scale: 0.3 });
    expect(pngSize(readFileSync(join(out, 's.png')))).toEqual({ width: 300, height: 150 });
  });

  it('exits 2 on bad options and 1 on a region outside the image, writing nothing', () => {
    const png = join(out, 'never.png');
    const both = runBuiltCli([
      'crop',
      pyramid,
      '--x',
      '0',
      '--y',
      '0',
      '--w',
      '8',
      '--h',
      '8',
      '--level',
      '1',
      '--scale',
      '0.5',
      '--out',
      png,
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("option '--level <n>' cannot be used with option '--scale <s>'");
    const negative = runBuiltCli([
      'crop',
      pyramid,
      '--x',
      '-1',
      '--y',
      '0',
      '--w',
      '8',
      '--h',
      '8',
      '--out',
      png,
    ]);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('expected a whole number of at least 0, got "-1"');
    expect(runBuiltCli(['crop', pyramid, '--x', '0', '--y', '0', '--w', '8', '--out', png]).code).toBe(2);
    const outside = runBuiltCli([
      'crop',
      pyramid,
      '--x',
      '6400',
      '--y',
      '0',
      '--w',
      '8',
      '--h',
      '8',
      '--out',
      png,
    ]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('the region starts at (6400, 0), outside the 6400 x 3600 image');
    expect(outside.stderr).not.toMatch(JS_STACK_FRAME);
    expect(existsSync(png)).toBe(false);
  });
});
