import { encode } from 'fast-png';
import type { Raster } from './window.js';

/** Encodes 8-bit grey, grey+alpha, RGB or RGBA pixels as a PNG file's bytes. */
export function encodePng(raster: Raster<Uint8Array>): Uint8Array {
  const { data, width, height, channels } = raster;
  if (data.length !== width * height * channels) {
    throw new RangeError(`encodePng: ${data.length} bytes for ${width}x${height}x${channels} pixels`);
  }
  return encode({ width, height, data, channels, depth: 8 });
}
