import { type BinaryMask, checkMaskSize } from './binary-mask.js';

/**
 * A binary mask with one byte per pixel (0 or 1), row-major. The simple, fast form for tiles and
 * downscaled slides; a full-resolution 45 000 x 35 000 slide wants a {@link BitMask} instead.
 */
export class Mask implements BinaryMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;

  constructor(width: number, height: number, data?: Uint8Array) {
    checkMaskSize(width, height, 'Mask');
    this.width = width;
    this.height = height;
    if (data === undefined) {
      this.data = new Uint8Array(width * height);
    } else {
      if (data.length !== width * height) {
        throw new RangeError(
          `Mask: data has ${data.length} values, a ${width} x ${height} mask needs ${width * height}`,
        );
      }
      this.data = data;
    }
  }

  /** A mask of the pixels of `values` (row-major) that are above `threshold`. */
  static fromValues(width: number, height: number, values: ArrayLike<number>, threshold = 0): Mask {
    const mask = new Mask(width, height);
    if (values.length !== width * height) {
      throw new RangeError(`Mask.fromValues: ${values.length} values for a ${width} x ${height} mask`);
    }
    for (let i = 0; i < values.length; i++) mask.data[i] = values[i] > threshold ? 1 : 0;
    return mask;
  }

  /** A byte copy of any binary mask. */
  static from(source: BinaryMask): Mask {
    if (source instanceof Mask) return source.clone();
    const mask = new Mask(source.width, source.height);
    const runs = new Int32Array(source.width + 1);
    for (let y = 0; y < source.height; y++) {
      const n = source.rowRuns(y, runs);
      for (let r = 0; r < n; r++) mask.fillRowSpan(y, runs[2 * r], runs[2 * r + 1]);
    }
    return mask;
  }

  clone(): Mask {
    return new Mask(this.width, this.height, this.data.slice());
  }

  get(x: number, y: number): number {
    return this.data[y * this.width + x];
  }

  set(x: number, y: number, value: number): void {
    this.data[y * this.width + x] = value ? 1 : 0;
  }

  fillRowSpan(y: number, x0: number, x1: number): void {
    if (x1 > x0) this.data.fill(1, y * this.width + x0, y * this.width + x1);
  }

  rowRuns(y: number, out: Int32Array): number {
    const data = this.data;
    const start = y * this.width;
    const end = start + this.width;
    let n = 0;
    let i = start;
    while (i < end) {
      while (i < end && data[i] === 0) i++;
      if (i === end) break;
      const x0 = i;
      while (i < end && data[i] !== 0) i++;
      out[n++] = x0 - start;
      out[n++] = i - start;
    }
    return n >> 1;
  }

  packRow(y: number, out: Uint32Array): void {
    const data = this.data;
    const start = y * this.width;
    const words = (this.width + 31) >>> 5;
    for (let w = 0; w < words; w++) {
      let word = 0;
      const x0 = w << 5;
      const x1 = Math.min(this.width, x0 + 32);
      for (let x = x0; x < x1; x++) if (data[start + x] !== 0) word |= 1 << (x - x0);
      out[w] = word >>> 0;
    }
  }

  countOnes(): number {
    let n = 0;
    const data = this.data;
    for (let i = 0; i < data.length; i++) n += data[i] !== 0 ? 1 : 0;
    return n;
  }
}
