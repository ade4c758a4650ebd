import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeTiledBigTiff,
  syntheticPixel,
  syntheticSlideSpec,
  writeTiledBigTiff,
} from './bigtiff-writer.js';
import { inspectTiff } from './inspect.js';
import { bytesSource } from './range-source.js';
import { readRegion } from './region.js';
import { openTiff } from './tiff-file.js';

const dir = mkdtempSync(join(tmpdir(), 'nephron-encode-bigtiff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('encodeTiledBigTiff', () => {
  // 200 × 90 over 64-pixel tiles: four across, two down, the edge tiles padded.
  const spec = syntheticSlideSpec(200, 90, 64);

  it('builds in memory the pixels the file writer writes, with the same layout', async () => {
    const bytes = await encodeTiledBigTiff(spec);
    const path = join(dir, 'written.tiff');
    await writeTiledBigTiff(path, spec);
    const written = new Uint8Array(readFileSync(path));

    const a = await inspectTiff(bytesSource(bytes, 'encoded'));
    const b = await inspectTiff(bytesSource(written, 'written'));
    expect(a.bigTiff).toBe(true);
    expect(a.pages).toEqual(b.pages);

    const encoded = await openTiff(bytesSource(bytes, 'encoded'));
    const region = await readRegion(encoded, { x: 0, y: 0, width: 200, height: 90 });
    for (const [x, y] of [
      [0, 0],
      [63, 63],
      [64, 0],
      [199, 89],
      [130, 70],
    ]) {
      const i = 3 * (y * 200 + x);
      expect(Array.from(region.data.subarray(i, i + 3))).toEqual(syntheticPixel(x, y, 64));
    }
    await encoded.close();
  });

  it('holds a one-tile slide, whose offset sits in its IFD entry', async () => {
    const one = await openTiff(bytesSource(await encodeTiledBigTiff(syntheticSlideSpec(40, 30, 64)), 'one'));
    const region = await readRegion(one, { x: 0, y: 0, width: 40, height: 30 });
    expect(Array.from(region.data.subarray(3 * (29 * 40 + 39)))).toEqual(syntheticPixel(39, 29, 64));
    await one.close();
  });

  it('refuses a tile side TIFF cannot store, naming the file', async () => {
    await expect(encodeTiledBigTiff(syntheticSlideSpec(64, 64, 40), 'x.tiff')).rejects.toThrow(
      'x.tiff: tile size 40 is not a multiple of 16',
    );
  });
});
