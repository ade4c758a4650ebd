import { decode, encode } from 'fast-png';
import type { BinaryMask } from '../masks/binary-mask.js';
import { Mask } from '../masks/mask.js';

export interface MaskPngOptions {
  /**
   * 1 writes a 1-bit greyscale PNG (smallest; black 0, white 1); 8 writes 0 and 255 bytes, which every
   * viewer and most Python snippets read as they expect. Default 8.
   */
  depth?: 1 | 8;
}

/** Encodes a binary mask as a greyscale PNG (set pixels white). */
export function encodeMaskPng(mask: BinaryMask, options: MaskPngOptions = {}): Uint8Array {
  const depth = options.depth ?? 8;
  const { width, height } = mask;
  const runs = new Int32Array(width + 1);
  if (depth === 8) {
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      const n = mask.rowRuns(y, runs);
      for (let r = 0; r < n; r++) data.fill(255, y * width + runs[2 * r], y * width + runs[2 * r + 1]);
    }
    return encode({ width, height, data, depth: 8, channels: 1 });
  }
  // 1-bit rows are padded to whole bytes, most significant bit first.
  const rowBytes = (width + 7) >>> 3;
  const data = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) {
    const n = mask.rowRuns(y, runs);
    for (let r = 0; r < n; r++) {
      for (let x = runs[2 * r]; x < runs[2 * r + 1]; x++) data[y * rowBytes + (x >>> 3)] |= 0x80 >>> (x & 7);
    }
  }
  return encode({ width, height, data, depth: 1, channels: 1 });
}

/**
 * Decodes a PNG into a binary mask: a pixel is set when any colour channel is non-zero (alpha is
 * ignored), so 0/1, 0/255, palette and RGB masks written by other tools all read as intended.
 * `source` names the file in error messages.
 */
export function decodeMaskPng(bytes: Uint8Array, source = 'PNG'): Mask {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (error) {
    throw new Error(`${source}: not a readable PNG (${(error as Error).message})`);
  }
  const { width, height, depth, data } = png;
  const mask = new Mask(width, height);
  const out = mask.data;
  if (png.palette !== undefined) {
    // Indexed colour: a palette entry is "set" when any of its colour components is non-zero.
    const lit = png.palette.map((entry) => (entry[0] || entry[1] || entry[2] ? 1 : 0));
    const perByte = 8 / depth;
    const rowBytes = Math.ceil(width / perByte);
    const indexMask = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const index =
          depth === 8
            ? data[y * width + x]
            : (data[y * rowBytes + Math.floor(x / perByte)] >>> (8 - depth * ((x % perByte) + 1))) &
              indexMask;
        out[y * width + x] = lit[index] ?? 0;
      }
    }
    return mask;
  }
  const channels = png.channels;
  // Grey+alpha has one colour channel, RGB and RGBA three.
  const colour = channels <= 2 ? 1 : 3;
  if (depth < 8) {
    if (channels !== 1)
      throw new Error(`${source}: ${depth}-bit PNG with ${channels} channels is not a mask`);
    const perByte = 8 / depth;
    const rowBytes = Math.ceil(width / perByte);
    const sampleMask = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const shift = 8 - depth * ((x % perByte) + 1);
        out[y * width + x] = (data[y * rowBytes + Math.floor(x / perByte)] >>> shift) & sampleMask ? 1 : 0;
      }
    }
    return mask;
  }
  for (let i = 0, p = 0; i < out.length; i++, p += channels) {
    let v = 0;
    for (let c = 0; c < colour; c++) v |= data[p + c];
    out[i] = v !== 0 ? 1 : 0;
  }
  return mask;
}
