/**
 * What every binary mask in this package can do, whether it keeps one byte or one bit per pixel.
 * Pixels are addressed (x, y) with x the column and y the row; storage is row-major.
 */
export interface BinaryMask {
  readonly width: number;
  readonly height: number;
  /** 1 where the pixel is set, else 0. */
  get(x: number, y: number): number;
  set(x: number, y: number, value: number): void;
  /** Sets the pixels x0 <= x < x1 of row y to 1 (the rasteriser and the RLE decoder paint through this). */
  fillRowSpan(y: number, x0: number, x1: number): void;
  /**
   * Writes the runs of set pixels of row y into `out` as pairs x0, x1 (x1 exclusive) and returns how many
   * runs there are. `out` needs room for width + 1 numbers.
   */
  rowRuns(y: number, out: Int32Array): number;
  /** Copies row y as bits (bit i of word j is pixel 32 j + i) into `out`, which needs ceil(width / 32) words. */
  packRow(y: number, out: Uint32Array): void;
  /** How many pixels are set. */
  countOnes(): number;
}

export function checkMaskSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`${what}: width and height must be non-negative integers, got ${width} x ${height}`);
  }
}

/** Throws unless two masks have the same size; `what` names the operation for the message. */
export function checkSameSize(a: BinaryMask, b: BinaryMask, what: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`${what}: mask sizes differ (${a.width} x ${a.height} vs ${b.width} x ${b.height})`);
  }
}

/** Number of 32-bit words that hold one row of `width` bits. */
export function wordsPerRow(width: number): number {
  return (width + 31) >>> 5;
}
