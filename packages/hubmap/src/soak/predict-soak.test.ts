import { Conv2d } from '@nephron/nn';
import { Generator, init, memoryStats, type Tensor } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { predictSlide } from '../inference/predict-slide.js';
import { rasterSlideSource } from '../inference/slide-source.js';
import { renderSlide } from '../synthetic/tissue.js';

/**
 * Soak for prediction: sliding-window prediction over many tiles of a synthetic slide, repeated, sampling GPU bytes in
 * use and process RSS after each pass. After the first pass (pipelines compiled, pool filled) both must stay flat.
 * CI runs 4 passes; `pnpm soak` (NEPHRON_SOAK_PASSES) runs more.
 */
const passes = Number(process.env.NEPHRON_SOAK_PASSES ?? 4);
const MiB = 2 ** 20;

beforeAll(async () => {
  await init();
});

describe('soak: prediction over many tiles', () => {
  it(`${passes} passes over a slide keep GPU memory and RSS flat`, async () => {
    const g = new Generator(3);
    const conv1 = new Conv2d(3, 8, 3, { padding: 1, generator: g });
    const conv2 = new Conv2d(8, 2, 3, { padding: 1, generator: g });
    const model = (x: Tensor) => conv2.forward(conv1.forward(x).relu());
    const slide = renderSlide({ width: 384, height: 320, seed: 2 });
    const source = rasterSlideSource('soak', slide);
    const samples: { tiles: number; gpuInUse: number; gpuAllocated: number; rss: number }[] = [];
    let tiles = 0;
    for (let pass = 0; pass < passes; pass++) {
      const result = await predictSlide(source, [model], {
        downscale: 1,
        tile: 32,
        overlap: 8,
        batchSize: 8,
        tta: true,
        minTissue: 0,
      });
      tiles += result.tiles;
      const m = memoryStats();
      samples.push({
        tiles,
        gpuInUse: m.bytesInUse,
        gpuAllocated: m.bytesAllocated,
        rss: process.memoryUsage().rss,
      });
    }
    console.log(
      [
        'tiles  gpu-in-use  gpu-pool  rss-MiB',
        ...samples.map((s) => `${s.tiles}  ${s.gpuInUse}  ${s.gpuAllocated}  ${(s.rss / MiB).toFixed(1)}`),
      ].join('\n'),
    );
    const first = samples[0];
    for (const s of samples.slice(1)) {
      expect(s.gpuInUse).toBe(first.gpuInUse);
      expect(s.gpuAllocated - first.gpuAllocated).toBeLessThanOrEqual(1 * MiB);
      expect(s.rss - first.rss).toBeLessThan(96 * MiB);
    }
    expect(tiles).toBeGreaterThan(passes * 150);
  });
});
