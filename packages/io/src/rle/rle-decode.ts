import type { BinaryMask } from '../masks/binary-mask.js';
import { BitMask } from '../masks/bit-mask.js';
import { Mask } from '../masks/mask.js';
import { forEachRleRun, parseRle, type RleRuns, type RleShape, type RleText } from './rle-parse.js';

/**
 * Paints the runs of an encoding into `target` (a {@link Mask}, a {@link BitMask} or any other
 * {@link BinaryMask} of the encoding's size). Pixels outside the runs are left as they are.
 */
export function rleDecodeInto(text: RleText, target: BinaryMask, id?: string): BinaryMask {
  const { width, height } = target;
  const shape: RleShape = id === undefined ? { width, height } : { width, height, id };
  forEachRleRun(text, shape, (start, length) => paintColumnMajorRun(target, start, length));
  return target;
}

/** Decodes an encoding into a new byte-per-pixel {@link Mask}. */
export function rleDecode(text: RleText, width: number, height: number, id?: string): Mask {
  return rleDecodeInto(text, new Mask(width, height), id) as Mask;
}

/** Decodes an encoding into a new bit-packed {@link BitMask} (one eighth of the memory of a Mask). */
export function rleDecodeBits(text: RleText, width: number, height: number, id?: string): BitMask {
  return rleDecodeInto(text, new BitMask(width, height), id) as BitMask;
}

/** Sets the pixels of one run given in column-major numbering (0-based start). */
export function paintColumnMajorRun(target: BinaryMask, start: number, length: number): void {
  const h = target.height;
  let x = Math.floor(start / h);
  let y = start - x * h;
  let left = length;
  while (left > 0) {
    const yEnd = Math.min(h, y + left);
    for (let yy = y; yy < yEnd; yy++) target.set(x, yy, 1);
    left -= yEnd - y;
    x++;
    y = 0;
  }
}

/** One horizontal band of a decoded mask: rows y0 <= y < y0 + mask.height. */
export interface MaskBand {
  y0: number;
  mask: BitMask;
}

/**
 * Decodes an encoding band by band, `bandHeight` rows at a time, so that a slide-sized mask can be
 * consumed (written to a tile store, compared, scored) without ever holding it whole. The runs are kept
 * as vertical segments per column, which costs memory in proportion to the runs, not the pixels.
 */
export function* rleDecodeRowBands(
  text: RleText | RleRuns,
  width: number,
  height: number,
  bandHeight: number,
  id?: string,
): Generator<MaskBand> {
  if (!Number.isInteger(bandHeight) || bandHeight < 1) {
    throw new RangeError(`rleDecodeRowBands: band height must be a positive integer, got ${bandHeight}`);
  }
  const runs = isRuns(text)
    ? text
    : parseRle(text, id === undefined ? { width, height } : { width, height, id });
  const segments = columnSegments(runs, width, height);
  // Per column, the first segment that may still reach the current band.
  const cursor = segments.columnStart.slice(0, width);
  for (let y0 = 0; y0 < height; y0 += bandHeight) {
    const y1 = Math.min(height, y0 + bandHeight);
    const band = new BitMask(width, y1 - y0);
    for (let x = 0; x < width; x++) {
      const end = segments.columnStart[x + 1];
      let s = cursor[x];
      while (s < end && segments.y1[s] <= y0) s++;
      cursor[x] = s;
      for (let k = s; k < end && segments.y0[k] < y1; k++) {
        const a = Math.max(y0, segments.y0[k]);
        const b = Math.min(y1, segments.y1[k]);
        for (let y = a; y < b; y++) band.set(x, y - y0, 1);
      }
    }
    yield { y0, mask: band };
  }
}

function isRuns(value: RleText | RleRuns): value is RleRuns {
  return typeof value === 'object' && value !== null && 'starts' in value && 'lengths' in value;
}

interface ColumnSegments {
  /** Segments of column x are columnStart[x] <= k < columnStart[x + 1]. */
  columnStart: Int32Array;
  y0: Int32Array;
  y1: Int32Array;
}

/** Splits column-major runs at column ends into vertical segments, grouped by column. */
function columnSegments(runs: RleRuns, width: number, height: number): ColumnSegments {
  if (runs.width !== width || runs.height !== height) {
    throw new RangeError(`runs are for ${runs.width} x ${runs.height}, not ${width} x ${height}`);
  }
  let count = 0;
  for (let r = 0; r < runs.count; r++) {
    const first = Math.floor(runs.starts[r] / height);
    const last = Math.floor((runs.starts[r] + runs.lengths[r] - 1) / height);
    count += last - first + 1;
  }
  const columnStart = new Int32Array(width + 1);
  const y0 = new Int32Array(count);
  const y1 = new Int32Array(count);
  let k = 0;
  let column = 0;
  for (let r = 0; r < runs.count; r++) {
    let x = Math.floor(runs.starts[r] / height);
    let y = runs.starts[r] - x * height;
    let left = runs.lengths[r];
    while (left > 0) {
      // Runs arrive sorted, so the column index never goes back.
      while (column <= x) columnStart[column++] = k;
      const yEnd = Math.min(height, y + left);
      y0[k] = y;
      y1[k] = yEnd;
      k++;
      left -= yEnd - y;
      x++;
      y = 0;
    }
  }
  while (column <= width) columnStart[column++] = k;
  return { columnStart, y0, y1 };
}
