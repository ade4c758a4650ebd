import { init, type Tensor } from '@nephron/tensor';
import { assertClose } from '@nephron/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../random.js';
import { augmentBatch, IMAGENET_MEAN, IMAGENET_STD } from './augment.js';
import { extractCrop, type RasterImage } from './crop.js';
import { cropSize, DEFAULT_AUGMENT, drawAugment, NO_AUGMENT } from './params.js';
import { augmentTileReference } from './reference.js';

beforeAll(async () => {
  await init();
});

/** A test image whose colour encodes position, with a square "glomerulus" whose pixels are pure blue. */
function testImage(width: number, height: number): RasterImage {
  const rgb = new Uint8Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const inside = x >= 20 && x < 44 && y >= 30 && y < 50;
      mask[p] = inside ? 1 : 0;
      rgb.set(inside ? [0, 0, 255] : [(x * 5) % 256, (y * 7) % 256, 40], p * 3);
    }
  }
  return { width, height, rgb, mask };
}

async function arrays(t: Tensor) {
  return Array.from(await t.toArray());
}

describe('GPU tile augmentation', () => {
  it('with no augmentation, returns the centred window, normalised, with its mask', async () => {
    const img = testImage(64, 64);
    const tile = 16;
    const side = 20;
    const crops = new Uint32Array(side * side);
    extractCrop(img, 32, 40, side, crops, 0);
    const p = drawAugment(NO_AUGMENT, new Random(1));
    const { image, mask } = augmentBatch(crops, side, tile, [p], NO_AUGMENT);
    const got = await image.toArray();
    const m = await mask.toArray();
    // Output pixel (x, y) is source pixel (32 - 8 + x, 40 - 8 + y).
    for (const [x, y] of [
      [0, 0],
      [5, 9],
      [15, 15],
    ]) {
      const sx = 24 + x;
      const sy = 32 + y;
      const p3 = (sy * 64 + sx) * 3;
      for (let c = 0; c < 3; c++) {
        const expected = (img.rgb[p3 + c] / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
        expect(got[c * tile * tile + y * tile + x]).toBeCloseTo(expected, 4);
      }
      expect(m[y * tile + x]).toBe(img.mask![sy * 64 + sx]);
    }
  });

  it('matches the CPU reference under every augmentation at once', async () => {
    const img = testImage(96, 96);
    const tile = 24;
    const config = { ...DEFAULT_AUGMENT, blurProbability: 1 };
    const side = cropSize(tile, config);
    const random = new Random(5);
    const params = [drawAugment(config, random), drawAugment(config, random)];
    const crops = new Uint32Array(2 * side * side);
    extractCrop(img, 40, 40, side, crops, 0);
    extractCrop(img, 30, 55, side, crops, side * side);
    const { image, mask } = augmentBatch(crops, side, tile, params, config);
    const gotImage = await image.toArray();
    const gotMask = await mask.toArray();
    for (let n = 0; n < 2; n++) {
      const ref = augmentTileReference(
        crops.subarray(n * side * side, (n + 1) * side * side),
        side,
        tile,
        config.elasticGrid,
        params[n],
        IMAGENET_MEAN,
        IMAGENET_STD,
      );
      const size = 3 * tile * tile;
      assertClose(
        gotImage.subarray(n * size, (n + 1) * size),
        ref.image,
        { rtol: 1e-3, atol: 2e-3 },
        `tile ${n} image`,
      );
      // Nearest-neighbour mask lookups may differ only where a sample lands on a pixel boundary.
      const m = gotMask.subarray(n * tile * tile, (n + 1) * tile * tile);
      let differ = 0;
      for (let i = 0; i < m.length; i++) if (m[i] !== ref.mask[i]) differ++;
      expect(differ).toBeLessThanOrEqual(2);
    }
  });

  it('moves image and mask together: masked pixels stay blue after warping', async () => {
    const img = testImage(96, 96);
    const tile = 32;
    const config = {
      ...DEFAULT_AUGMENT,
      brightness: 0,
      contrast: 0,
      gamma: 0,
      hue: 0,
      saturation: 0,
      noise: 0,
      blurProbability: 0,
    };
    const side = cropSize(tile, config);
    const random = new Random(9);
    const params = Array.from({ length: 4 }, () => drawAugment(config, random));
    const crops = new Uint32Array(4 * side * side);
    for (let n = 0; n < 4; n++) extractCrop(img, 32, 40, side, crops, n * side * side);
    const { image, mask } = augmentBatch(crops, side, tile, params, config);
    const pixels = await arrays(image);
    const m = await arrays(mask);
    let inside = 0;
    for (let n = 0; n < 4; n++) {
      for (let i = 0; i < tile * tile; i++) {
        if (m[n * tile * tile + i] !== 1) continue;
        const blue = pixels[(n * 3 + 2) * tile * tile + i] * IMAGENET_STD[2] + IMAGENET_MEAN[2];
        const red = pixels[n * 3 * tile * tile + i] * IMAGENET_STD[0] + IMAGENET_MEAN[0];
        // Bilinear sampling blends with neighbours only at the square's edge.
        if (blue > 0.9 && red < 0.2) inside++;
      }
    }
    const total = m.filter((v) => v === 1).length;
    expect(total).toBeGreaterThan(200);
    expect(inside / total).toBeGreaterThan(0.8);
  });

  it('draws reproducible parameters from a seed', () => {
    expect(drawAugment(DEFAULT_AUGMENT, new Random(3))).toEqual(drawAugment(DEFAULT_AUGMENT, new Random(3)));
  });
});
