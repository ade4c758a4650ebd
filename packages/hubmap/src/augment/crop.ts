/** An image held in memory at the training scale: interleaved RGB and an optional 0/1 mask of the same size. */
export interface RasterImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  mask?: Uint8Array;
}

/** What lies outside the image: white glass, no glomerulus. */
const OUTSIDE = 0x00ffffff;

/**
 * Copies the `size`×`size` window centred on (cx, cy) into `into` at `at`, one u32 per pixel: R, G, B in the low
 * bytes and the mask in the high byte, which is how the augmentation kernel reads it.
 */
export function extractCrop(
  image: RasterImage,
  cx: number,
  cy: number,
  size: number,
  into: Uint32Array,
  at: number,
): void {
  const x0 = Math.round(cx - size / 2);
  const y0 = Math.round(cy - size / 2);
  const { width, height, rgb, mask } = image;
  for (let y = 0; y < size; y++) {
    const sy = y0 + y;
    const row = at + y * size;
    if (sy < 0 || sy >= height) {
      into.fill(OUTSIDE, row, row + size);
      continue;
    }
    for (let x = 0; x < size; x++) {
      const sx = x0 + x;
      if (sx < 0 || sx >= width) {
        into[row + x] = OUTSIDE;
        continue;
      }
      const p = sy * width + sx;
      const m = mask ? mask[p] : 0;
      into[row + x] = (rgb[p * 3] | (rgb[p * 3 + 1] << 8) | (rgb[p * 3 + 2] << 16) | (m << 24)) >>> 0;
    }
  }
}
