import type { BinaryMask } from './binary-mask.js';
import { Mask } from './mask.js';

/** The window x <= x' < x + width, y <= y' < y + height of a mask; parts outside the mask read as 0. */
export function cropMask(mask: BinaryMask, x: number, y: number, width: number, height: number): Mask {
  const out = new Mask(width, height);
  const runs = new Int32Array(mask.width + 1);
  for (let row = Math.max(0, y); row < Math.min(mask.height, y + height); row++) {
    const n = mask.rowRuns(row, runs);
    for (let r = 0; r < n; r++) {
      const x0 = Math.max(runs[2 * r], x) - x;
      const x1 = Math.min(runs[2 * r + 1], x + width) - x;
      out.fillRowSpan(row - y, x0, x1);
    }
  }
  return out;
}

/** Size of a mask scaled by `scale` (at least one pixel a side). */
export function scaledSize(width: number, height: number, scale: number): { width: number; height: number } {
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new RangeError(`scale must be a positive number, got ${scale}`);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Resizes by nearest neighbour: each output pixel takes the source pixel under its centre. Exact for
 * integer factors, fast, and keeps masks binary; thin structures can vanish when shrinking.
 */
export function resizeMaskNearest(mask: BinaryMask, width: number, height: number): Mask {
  const out = new Mask(width, height);
  const sx = mask.width / width;
  const sy = mask.height / height;
  const column = new Int32Array(width);
  for (let x = 0; x < width; x++) column[x] = Math.min(mask.width - 1, Math.floor((x + 0.5) * sx));
  for (let y = 0; y < height; y++) {
    const source = Math.min(mask.height - 1, Math.floor((y + 0.5) * sy));
    for (let x = 0; x < width; x++) out.data[y * width + x] = mask.get(column[x], source);
  }
  return out;
}

/**
 * Area-average resize: each output pixel gets the fraction of its footprint (a box of the source,
 * fractional at the edges) that is set. This is the soft target a downscaled image's mask should have.
 */
export function maskCoverage(mask: BinaryMask, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = mask.width / width;
  const sy = mask.height / height;
  const runs = new Int32Array(mask.width + 1);
  const rowSum = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    const top = y * sy;
    const bottom = (y + 1) * sy;
    rowSum.fill(0);
    for (let row = Math.floor(top); row < Math.min(mask.height, Math.ceil(bottom)); row++) {
      const wy = Math.min(bottom, row + 1) - Math.max(top, row);
      if (wy <= 0) continue;
      const n = mask.rowRuns(row, runs);
      // Spread each run over the output columns it overlaps, by length of overlap.
      for (let r = 0; r < n; r++) {
        const a = runs[2 * r];
        const b = runs[2 * r + 1];
        for (let x = Math.floor(a / sx); x < width && x * sx < b; x++) {
          const overlap = Math.min(b, (x + 1) * sx) - Math.max(a, x * sx);
          if (overlap > 0) rowSum[x] += overlap * wy;
        }
      }
    }
    const area = sx * sy;
    for (let x = 0; x < width; x++) out[y * width + x] = rowSum[x] / area;
  }
  return out;
}

/** Area-average resize thresholded back to a binary mask (set where at least `threshold` of the footprint is). */
export function resizeMaskArea(mask: BinaryMask, width: number, height: number, threshold = 0.5): Mask {
  return Mask.fromValues(width, height, maskCoverage(mask, width, height), threshold - 1e-9);
}

/** Scales a mask by `scale` (0.25 = quarter size) with nearest or area sampling. */
export function scaleMask(mask: BinaryMask, scale: number, method: 'nearest' | 'area' = 'area'): Mask {
  const { width, height } = scaledSize(mask.width, mask.height, scale);
  return method === 'nearest' ? resizeMaskNearest(mask, width, height) : resizeMaskArea(mask, width, height);
}
