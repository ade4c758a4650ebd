import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticPixel, syntheticSlideSpec, writeTiledBigTiff } from './bigtiff-writer.js';
import { fileSource } from './file-source.js';
import { inspectTiff } from './inspect.js';
import { openTiffFile } from './open-file.js';
import { readRegion } from './region.js';

const dir = mkdtempSync(join(tmpdir(), 'nephron-bigtiff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('synthetic tiled BigTIFF', () => {
  const path = join(dir, 'slide.tiff');
  const width = 6000;
  const height = 4500;

  it('is written small and described by inspectTiff', async () => {
    await writeTiledBigTiff(path, syntheticSlideSpec(width, height, 512));
    // 81 MB of pixels; the repeating pattern deflates to a few MB.
    expect(statSync(path).size).toBeLessThan(5_000_000);
    const info = await inspectTiff(await fileSource(path));
    expect(info.bigTiff).toBe(true);
    expect(info.pages[0]).toMatchObject({
      width,
      height,
      layout: 'tiled',
      tileWidth: 512,
      compression: 'deflate',
    });
    expect(JSON.parse(JSON.stringify(info))).toEqual(info);
  });

  it('reads every 1024² window with the right pixels and bounded memory', async () => {
    const file = await openTiffFile(path);
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    let checked = 0;
    for (let y = 0; y < height; y += 1024) {
      for (let x = 0; x < width; x += 1024) {
        const region = await readRegion(file, { x, y, width: 1024, height: 1024 });
        for (const [dx, dy] of [
          [0, 0],
          [511, 700],
          [1023, 1023],
        ]) {
          if (x + dx >= width || y + dy >= height) continue;
          const i = 3 * (dy * 1024 + dx);
          expect(Array.from(region.data.subarray(i, i + 3))).toEqual(syntheticPixel(x + dx, y + dy, 512));
          checked++;
        }
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    }
    await file.close();
    expect(checked).toBeGreaterThan(60);
    // 30 windows of 3 MB each: anything near the 81 MB of the whole image would mean a leak.
    expect(peak - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('downscales by a fractional factor with area averaging', async () => {
    const file = await openTiffFile(path);
    const region = await readRegion(file, { x: 1000, y: 2000, width: 250, height: 100, scale: 0.4 });
    expect([region.width, region.height]).toEqual([100, 40]);
    // Output pixel (0,0) averages source x 1000..1002.5, y 2000..2002.5 (weights 1, 1, 0.5).
    const expected = (a: number) => (a * 1 + (a + 1) * 1 + (a + 2) * 0.5) / 2.5;
    expect(region.data[0]).toBe(Math.round(expected(1000 & 255)));
    expect(region.data[1]).toBe(syntheticPixel(1000, 2000, 512)[1]); // green is constant over 16 rows
    await file.close();
  });
});
