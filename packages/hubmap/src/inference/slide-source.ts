import { readRegion, type TiffFile } from '@nephron/io';
import type { RasterImage } from '../augment/crop.js';

/** Where prediction reads pixels: a full-resolution size, and windows read at a downscale. */
export interface SlideSource {
  id: string;
  width: number;
  height: number;
  /**
   * RGB of the window whose top-left is (x, y) and whose side is `size`, all in DOWNSCALED pixels (full-resolution
   * pixel = downscaled × `downscale`). Pixels outside the slide are white.
   */
  readScaled(x: number, y: number, size: number, downscale: number): Promise<Uint8Array>;
}

export function tiffSlideSource(id: string, file: TiffFile): SlideSource {
  const level0 = file.levels[0];
  return {
    id,
    width: level0.width,
    height: level0.height,
    async readScaled(x, y, size, downscale) {
      const region = await readRegion(file, {
        x: x * downscale,
        y: y * downscale,
        width: size * downscale,
        height: size * downscale,
        scale: 1 / downscale,
        fill: 255,
      });
      if (region.width !== size || region.height !== size) {
        throw new Error(`${file.name}: region came back ${region.width}×${region.height}, expected ${size}²`);
      }
      return region.data;
    },
  };
}

/** A slide already in memory at full resolution (tests, the demo); downscaling averages whole pixel blocks. */
export function rasterSlideSource(id: string, image: RasterImage): SlideSource {
  return {
    id,
    width: image.width,
    height: image.height,
    async readScaled(x, y, size, downscale) {
      const out = new Uint8Array(size * size * 3);
      const s = downscale;
      if (!Number.isInteger(s))
        throw new RangeError(`${id}: in-memory slides downscale by whole factors, not ${s}`);
      for (let oy = 0; oy < size; oy++) {
        for (let ox = 0; ox < size; ox++) {
          const sum = [0, 0, 0];
          let count = 0;
          for (let dy = 0; dy < s; dy++) {
            const fy = Math.floor((y + oy) * s + dy);
            for (let dx = 0; dx < s; dx++) {
              const fx = Math.floor((x + ox) * s + dx);
              const inside = fx >= 0 && fy >= 0 && fx < image.width && fy < image.height;
              for (let c = 0; c < 3; c++) sum[c] += inside ? image.rgb[(fy * image.width + fx) * 3 + c] : 255;
              count++;
            }
          }
          for (let c = 0; c < 3; c++) out[(oy * size + ox) * 3 + c] = Math.round(sum[c] / count);
        }
      }
      return out;
    },
  };
}
