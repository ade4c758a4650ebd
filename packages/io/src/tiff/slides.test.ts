import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasHubmapData, hubmapData } from './corpus.js';
import { encodePng } from './encode-png.js';
import { describeTiff } from './inspect.js';
import { openTiffFile } from './open-file.js';
import { createDecoderPool } from './pool.js';
import { readRegion } from './region.js';

const slides = hasHubmapData
  ? ['train', 'test'].flatMap((split) =>
      readdirSync(join(hubmapData, split))
        .filter((name) => name.endsWith('.tiff'))
        .map((name) => join(hubmapData, split, name)),
    )
  : [];

function meanOf(data: Uint8Array): number {
  let sum = 0;
  for (const v of data) sum += v;
  return sum / data.length;
}

describe.skipIf(!hasHubmapData)('real kidney slides (../shared/data/hubmap-vanderbilt)', () => {
  it('opens every slide and reads tissue windows at full and reduced scale', async () => {
    const forms = new Set<string>();
    for (const path of slides) {
      const file = await openTiffFile(path);
      const info = describeTiff(file, 0);
      const main = file.levels[0];
      forms.add(
        `${info.bigTiff ? 'BigTIFF' : 'TIFF'} ${main.tiled ? 'tiled' : 'strips'} ${info.pages[0].compression}`,
      );
      const x = Math.floor(main.width / 2) - 256;
      const y = Math.floor(main.height / 2) - 256;
      const full = await readRegion(file, { x, y, width: 512, height: 512 });
      expect(full.data.length).toBe(512 * 512 * 3);
      // Stained tissue or white glass, never the all-black of a failed decode.
      expect(meanOf(full.data), path).toBeGreaterThan(60);
      const quarter = await readRegion(file, { x, y, width: 512, height: 512, scale: 0.25 });
      expect([quarter.width, quarter.height]).toEqual([128, 128]);
      expect(Math.abs(meanOf(quarter.data) - meanOf(full.data)), path).toBeLessThan(3);
      await file.close();
    }
    expect(slides.length).toBe(10);
    expect([...forms].sort()).toEqual(
      expect.arrayContaining(['TIFF strips deflate', 'TIFF tiled LZW', 'TIFF tiled JPEG']),
    );
  });

  it('picks a reduced pyramid level for a small scale and decodes on a worker pool alike', async () => {
    const pyramid = [];
    for (const path of slides) {
      const file = await openTiffFile(path);
      if (file.levels.length > 1) pyramid.push(file);
      else await file.close();
    }
    expect(pyramid.length).toBeGreaterThan(0);
    const pool = createDecoderPool(2);
    try {
      for (const file of pyramid) {
        const main = file.levels[0];
        const request = { x: 0, y: 0, width: main.width, height: main.height, scale: 0.25 };
        const direct = await readRegion(file, request);
        expect(direct.level).toBeGreaterThan(0);
        const pooled = await readRegion(file, { ...request, pool });
        expect(Buffer.compare(pooled.data, direct.data)).toBe(0);
        expect(encodePng(direct).subarray(1, 4)).toEqual(new Uint8Array([80, 78, 71])); // "PNG"
        await file.close();
      }
    } finally {
      await pool.destroy();
    }
  });
});
