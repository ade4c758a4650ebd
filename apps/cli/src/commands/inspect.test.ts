import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, JS_STACK_FRAME, runBuiltCli, sharedData } from '../testing/built-cli.js';

const vanderbilt = `${sharedData}hubmap-vanderbilt/`;

describe.skipIf(!existsSync(vanderbilt))('nephron inspect on ../shared/data (skipped when absent)', () => {
  beforeAll(assertCliBuilt);

  it('describes a JPEG-tiled pyramid as text: levels, tiling, compression, samples', () => {
    const { code, stdout } = runBuiltCli(['inspect', `${vanderbilt}train/588347964.tiff`]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^format {4}TIFF, little-endian$/m);
    expect(stdout).toMatch(/^ {2}0 {2}6400 x 3600 +page 0 +full resolution$/m);
    expect(stdout).toMatch(/^ {2}4 {2}400 x 225 +page 4 +downsample 16$/m);
    expect(stdout).toMatch(/^ {2}0 +6400 x 3600 +tiles 512x512 +JPEG +3 x uint8 +YCbCr +chunky$/m);
  });

  it('prints JSON for scripts: a BigTIFF and a striped deflate file', () => {
    const big = runBuiltCli(['inspect', `${vanderbilt}train/b22b894fe.tiff`, '--json']);
    expect(big.code).toBe(0);
    const bigInfo = JSON.parse(big.stdout);
    expect(bigInfo.bigTiff).toBe(true);
    expect(bigInfo.levels[0]).toMatchObject({ level: 0, width: 6400, height: 3600, downsample: 1 });
    expect(bigInfo.levels.length).toBeGreaterThan(1);
    const striped = JSON.parse(
      runBuiltCli(['inspect', `${vanderbilt}train/5c08da6cf.tiff`, '--json']).stdout,
    );
    expect(striped.pages[0]).toMatchObject({
      layout: 'striped',
      compression: 'deflate',
      width: 1600,
      height: 2400,
    });
  });

  it('fails with exit 1 and a message naming the file when it is not a TIFF or absent', () => {
    const notTiff = runBuiltCli(['inspect', `${vanderbilt}train.csv`]);
    expect(notTiff.code).toBe(1);
    expect(notTiff.stdout).toBe('');
    expect(notTiff.stderr).toContain(`${vanderbilt}train.csv: not a readable TIFF`);
    expect(notTiff.stderr).not.toMatch(JS_STACK_FRAME);
    const absent = runBuiltCli(['inspect', `${vanderbilt}nothing.tiff`]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toBe(`nephron: ${vanderbilt}nothing.tiff: cannot read (no such file or folder)\n`);
  });

  it('exits 2 without a file, and documents itself', () => {
    expect(runBuiltCli(['inspect']).code).toBe(2);
    const help = runBuiltCli(['inspect', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
  });
});
