import { type BinaryMask, wordsPerRow } from '../masks/binary-mask.js';
import { lowestBit } from '../masks/bit-mask.js';
import type { RleRuns } from './rle-parse.js';

/**
 * Builds the Kaggle run-length encoding of a mask that arrives as horizontal bands, top to bottom.
 *
 * The encoding numbers pixels down each column, so a row-major mask cannot be encoded in one pass
 * without transposing it. Instead each row is compared with the one above: a pixel that differs opens or
 * closes a vertical run in its column. Only those runs are kept (memory grows with the runs, not the
 * pixels), so a 45 000 x 35 000 slide mask encodes band by band without a 1.5 GB intermediate.
 */
export class RleEncoder {
  readonly width: number;
  readonly height: number;
  private rows = 0;
  private prev: Uint32Array;
  private cur: Uint32Array;
  /** Row at which the open vertical run of each column began. */
  private readonly openStart: Int32Array;
  private segX: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private segY0: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private segY1: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private segCount = 0;

  constructor(width: number, height: number) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
      throw new RangeError(`RleEncoder: bad size ${width} x ${height}`);
    }
    this.width = width;
    this.height = height;
    this.prev = new Uint32Array(wordsPerRow(width));
    this.cur = new Uint32Array(wordsPerRow(width));
    this.openStart = new Int32Array(width);
  }

  /** Appends the rows of `band` (a mask as wide as the image) below those pushed so far. */
  pushRows(band: BinaryMask): void {
    if (band.width !== this.width) {
      throw new RangeError(`RleEncoder: band is ${band.width} wide, the mask is ${this.width}`);
    }
    if (this.rows + band.height > this.height) {
      throw new RangeError(
        `RleEncoder: ${this.rows + band.height} rows pushed into a mask ${this.height} high`,
      );
    }
    for (let r = 0; r < band.height; r++) {
      band.packRow(r, this.cur);
      this.compareRow(this.rows);
      this.rows++;
    }
  }

  /** Closes the runs still open at the bottom and returns all runs in column-major order. */
  finish(): RleRuns {
    if (this.rows !== this.height) {
      throw new RangeError(`RleEncoder: only ${this.rows} of ${this.height} rows were pushed`);
    }
    this.cur.fill(0);
    this.compareRow(this.height);
    return this.columnMajorRuns();
  }

  /** Records where row y (in `cur`) differs from row y - 1 (in `prev`), then makes `cur` the previous row. */
  private compareRow(y: number): void {
    const prev = this.prev;
    const cur = this.cur;
    for (let w = 0; w < cur.length; w++) {
      let t = prev[w] ^ cur[w];
      while (t !== 0) {
        const b = lowestBit(t);
        t &= t - 1;
        const x = (w << 5) + b;
        if ((cur[w] >>> b) & 1) this.openStart[x] = y;
        else this.addSegment(x, this.openStart[x], y);
      }
    }
    this.prev = cur;
    this.cur = prev;
  }

  private addSegment(x: number, y0: number, y1: number): void {
    if (this.segCount === this.segX.length) {
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.segX = grow(this.segX);
      this.segY0 = grow(this.segY0);
      this.segY1 = grow(this.segY1);
    }
    this.segX[this.segCount] = x;
    this.segY0[this.segCount] = y0;
    this.segY1[this.segCount] = y1;
    this.segCount++;
  }

  /** Orders the vertical segments by column (a counting sort keeps each column's top-to-bottom order). */
  private columnMajorRuns(): RleRuns {
    const { width, height, segCount } = this;
    const columnStart = new Int32Array(width + 1);
    for (let k = 0; k < segCount; k++) columnStart[this.segX[k] + 1]++;
    for (let x = 0; x < width; x++) columnStart[x + 1] += columnStart[x];
    const order = new Int32Array(segCount);
    const fill = columnStart.slice(0, width);
    for (let k = 0; k < segCount; k++) order[fill[this.segX[k]]++] = k;

    const starts = new Float64Array(segCount);
    const lengths = new Float64Array(segCount);
    let count = 0;
    for (let i = 0; i < segCount; i++) {
      const k = order[i];
      const start = this.segX[k] * height + this.segY0[k];
      const length = this.segY1[k] - this.segY0[k];
      // A run that reaches the bottom of a column continues at the top of the next one.
      if (count > 0 && starts[count - 1] + lengths[count - 1] === start) {
        lengths[count - 1] += length;
      } else {
        starts[count] = start;
        lengths[count] = length;
        count++;
      }
    }
    return { width, height, starts: starts.subarray(0, count), lengths: lengths.subarray(0, count), count };
  }
}

/** Column-major runs of a whole mask. */
export function rleRuns(mask: BinaryMask): RleRuns {
  const encoder = new RleEncoder(mask.width, mask.height);
  encoder.pushRows(mask);
  return encoder.finish();
}

/**
 * The text of an encoding in pieces of about `chunkChars` characters, ready to be written to a stream
 * without building one giant string.
 */
export function* rleText(runs: RleRuns, chunkChars = 1 << 16): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (let r = 0; r < runs.count; r++) {
    const pair = `${runs.starts[r] + 1} ${runs.lengths[r]}`;
    parts.push(pair);
    size += pair.length + 1;
    if (size >= chunkChars) {
      // Every piece after the first starts with the separator, so the pieces simply concatenate.
      yield (r + 1 === parts.length ? '' : ' ') + parts.join(' ');
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) yield (runs.count === parts.length ? '' : ' ') + parts.join(' ');
}

/** The Kaggle encoding of a mask as one string ('' for an empty mask). */
export function rleEncode(mask: BinaryMask): string {
  return [...rleText(rleRuns(mask))].join('');
}

/**
 * Encodes a mask delivered as bands (each as wide as the image, top to bottom) and yields the text in
 * pieces: the streaming path for slide-sized predictions.
 */
export function* rleEncodeBands(
  width: number,
  height: number,
  bands: Iterable<BinaryMask>,
  chunkChars = 1 << 16,
): Generator<string> {
  const encoder = new RleEncoder(width, height);
  for (const band of bands) encoder.pushRows(band);
  yield* rleText(encoder.finish(), chunkChars);
}
