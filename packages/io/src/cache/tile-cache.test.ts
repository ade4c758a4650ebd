import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasHubmapData, hubmapData } from '../tiff/corpus.js';
import { openTiffFile } from '../tiff/open-file.js';
import { readRegion } from '../tiff/region.js';
import { convertToTileCache, openTileCache } from './tile-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'nephron-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasHubmapData)('Zarr tile cache', () => {
  const slide = join(hubmapData, 'train', '5c08da6cf.tiff');

  it('stores a slide at a scale and serves tiles equal to reading the TIFF', async () => {
    const file = await openTiffFile(slide);
    const path = join(dir, 'slide.zarr');
    const cache = await convertToTileCache(file, path, { scale: 0.5, chunkSize: 256 });
    expect(readdirSync(dir)).toEqual(['slide.zarr']); // no temporary left behind
    expect(cache.width).toBe(Math.round(file.levels[0].width * 0.5));
    const reopened = await openTileCache(path);
    expect([reopened.width, reopened.height, reopened.scale]).toEqual([cache.width, cache.height, 0.5]);
    for (const [x, y] of [
      [0, 0],
      [200, 300],
      [cache.width - 300, cache.height - 200],
    ]) {
      const tile = await reopened.readTile(x, y, 300, 200);
      // A chunk-aligned read of the TIFF gives the same pixels as the cached chunks.
      const cx = Math.floor(x / 256) * 256;
      const cy = Math.floor(y / 256) * 256;
      const cw = Math.min(256, cache.width - cx);
      const ch = Math.min(256, cache.height - cy);
      const direct = await readRegion(file, {
        x: cx * 2,
        y: cy * 2,
        width: cw * 2,
        height: ch * 2,
        scale: 0.5,
      });
      const dx = x - cx;
      const dy = y - cy;
      for (const [px, py] of [
        [0, 0],
        [Math.min(cw - dx, 300) - 1, Math.min(ch - dy, 200) - 1],
      ]) {
        const a = 3 * (py * 300 + px);
        const b = 3 * ((py + dy) * cw + px + dx);
        expect(Array.from(tile.data.subarray(a, a + 3))).toEqual(Array.from(direct.data.subarray(b, b + 3)));
      }
    }
    await expect(reopened.readTile(cache.width - 10, 0, 20, 20)).rejects.toThrow(/outside/);
    await file.close();
  });

  it('replaces an existing cache atomically and names a missing one', async () => {
    const file = await openTiffFile(slide);
    const path = join(dir, 'again.zarr');
    await convertToTileCache(file, path, { scale: 0.25 });
    const second = await convertToTileCache(file, path, { scale: 0.125 });
    expect(second.scale).toBe(0.125);
    expect(readdirSync(dir).filter((n) => n.startsWith('again'))).toEqual(['again.zarr']);
    await file.close();
    expect(existsSync(join(dir, 'missing.zarr'))).toBe(false);
    await expect(openTileCache(join(dir, 'missing.zarr'))).rejects.toThrow(/missing\.zarr: not a tile cache/);
  });
});
