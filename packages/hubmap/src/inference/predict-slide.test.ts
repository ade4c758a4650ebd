import { rleDecode, rleText } from '@nephron/io';
import { init, type Tensor, tensor } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RasterImage } from '../augment/crop.js';
import { gaussianWeights, tileOrigins } from './gaussian.js';
import { predictSlide } from './predict-slide.js';
import { rasterSlideSource } from './slide-source.js';

beforeAll(async () => {
  await init();
});

/** Pink tissue with blue discs standing in for glomeruli. */
function slide(width: number, height: number): { image: RasterImage; truth: Uint8Array } {
  const rgb = new Uint8Array(width * height * 3);
  const truth = new Uint8Array(width * height);
  const discs = [
    [40, 30, 14],
    [150, 90, 20],
    [90, 120, 10],
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const inside = discs.some(([cx, cy, r]) => (x - cx) ** 2 + (y - cy) ** 2 < r * r);
      truth[p] = inside ? 1 : 0;
      rgb.set(inside ? [40, 40, 220] : [220, 150, 190], p * 3);
    }
  }
  return { image: { width, height, rgb }, truth };
}

/** A "network" that calls blue-minus-red glomerulus: enough to test the merging and encoding around it. */
function blueDetector(x: Tensor): Tensor {
  const gap = x.narrow(1, 2, 1).sub(x.narrow(1, 0, 1));
  return gap.mul(tensor([0, 10], [1, 2, 1, 1]));
}

function decode(runs: Parameters<typeof rleText>[0], width: number, height: number): Uint8Array {
  const mask = rleDecode([...rleText(runs)].join(''), width, height);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = mask.get(x, y);
  return out;
}

function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i];
    sa += a[i];
    sb += b[i];
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}

describe('sliding-window prediction', () => {
  it('tiles cover the image with the last tile flush, and the Gaussian peaks at the centre', () => {
    expect(tileOrigins(100, 32, 8)).toEqual([0, 24, 48, 68]);
    expect(tileOrigins(20, 32, 8)).toEqual([0]);
    const g = gaussianWeights(16);
    expect(Math.max(...g)).toBeCloseTo(1, 6);
    expect(g[0]).toBeGreaterThan(0);
    expect(g[0]).toBeLessThan(g[8 * 16 + 8]);
  });

  it("at full resolution, merges overlapping tiles into exactly the detector's mask", async () => {
    const { image, truth } = slide(203, 151);
    const result = await predictSlide(rasterSlideSource('s1', image), [blueDetector], {
      downscale: 1,
      tile: 48,
      overlap: 12,
    });
    expect(dice(decode(result.runs, 203, 151), truth)).toBe(1);
  });

  it('at a downscale, upsamples each model pixel to its block, with and without flip TTA', async () => {
    const { image } = slide(203, 151);
    const source = rasterSlideSource('s1', image);
    // What the detector must say: a 2x2 block is glomerulus when its average is bluer than red.
    const expected = new Uint8Array(203 * 151);
    for (let y = 0; y < 151; y++) {
      for (let x = 0; x < 203; x++) {
        let blue = 0;
        let red = 0;
        for (const [dx, dy] of [
          [0, 0],
          [1, 0],
          [0, 1],
          [1, 1],
        ]) {
          const fx = (x & ~1) + dx;
          const fy = (y & ~1) + dy;
          const inside = fx < 203 && fy < 151;
          blue += inside ? image.rgb[(fy * 203 + fx) * 3 + 2] : 255;
          red += inside ? image.rgb[(fy * 203 + fx) * 3] : 255;
        }
        expected[y * 203 + x] = (blue / 4 / 255 - 0.406) / 0.225 > (red / 4 / 255 - 0.485) / 0.229 ? 1 : 0;
      }
    }
    const plain = await predictSlide(source, [blueDetector], {
      downscale: 2,
      tile: 32,
      overlap: 8,
      batchSize: 3,
    });
    expect(plain.tiles).toBe(4 * 3);
    expect(dice(decode(plain.runs, 203, 151), expected)).toBe(1);
    const tta = await predictSlide(source, [blueDetector, blueDetector], {
      downscale: 2,
      tile: 32,
      tta: true,
      batchSize: 5,
    });
    expect(dice(decode(tta.runs, 203, 151), expected)).toBe(1);
  });

  it('skips tiles without tissue and predicts them empty', async () => {
    const width = 64;
    const height = 64;
    const image: RasterImage = { width, height, rgb: new Uint8Array(width * height * 3).fill(245) };
    const result = await predictSlide(rasterSlideSource('glass', image), [blueDetector], {
      downscale: 1,
      tile: 32,
      overlap: 0,
    });
    expect(result.skippedTiles).toBe(4);
    expect(result.runs.count).toBe(0);
  });
});
