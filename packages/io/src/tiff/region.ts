import type { Pool } from 'geotiff';
import type { TiffPage } from './page.js';
import { areaResample } from './resample.js';
import type { TiffFile } from './tiff-file.js';
import { type Raster, readWindowRgb } from './window.js';

export interface RegionRequest {
  /** Region in full-resolution (level 0) pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Read this pyramid level at its own resolution. */
  level?: number;
  /** Or: output size = region size × scale (0 < scale ≤ 1), read from the best level and area-averaged. */
  scale?: number;
  /** Value for pixels outside the image (default 0). */
  fill?: number;
  pool?: Pool;
  signal?: AbortSignal;
}

export interface Region extends Raster<Uint8Array> {
  /** The pyramid level the pixels were decoded from. */
  level: number;
  /** Output pixels per full-resolution pixel. */
  scale: number;
}

/** How many full-resolution pixels one pixel of `page` stands for, across. */
export function downsampleOf(file: TiffFile, page: TiffPage): number {
  return file.levels[0].width / page.width;
}

/**
 * The coarsest level that still has at least the requested resolution, so that
 * downscaling averages real pixels rather than inventing them. A level counts as
 * sharp enough when it is within 1% of the requested scale (pyramids halve odd sizes).
 */
export function pickLevel(file: TiffFile, scale: number): number {
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`${file.name}: scale ${scale} must be in (0, 1]`);
  let best = 0;
  for (let l = 1; l < file.levels.length; l++) {
    if (downsampleOf(file, file.levels[l]) <= (1 / scale) * 1.01) best = l;
  }
  return best;
}

/**
 * Reads a region of the slide as 8-bit RGB, at full resolution, at a pyramid level, or
 * downscaled by any factor. The region is given in full-resolution pixels either way.
 */
export async function readRegion(file: TiffFile, request: RegionRequest): Promise<Region> {
  const { x, y, width, height } = request;
  if (request.level !== undefined && request.scale !== undefined) {
    throw new RangeError(`${file.name}: give a level or a scale, not both`);
  }
  const level = request.level ?? (request.scale === undefined ? 0 : pickLevel(file, request.scale));
  const page = file.levels[level];
  if (!page) {
    throw new RangeError(`${file.name}: no pyramid level ${level} (the file has ${file.levels.length})`);
  }
  const down = downsampleOf(file, page);
  const scale = request.scale ?? 1 / down;
  const outWidth = Math.max(1, Math.round(width * scale));
  const outHeight = Math.max(1, Math.round(height * scale));
  // The region in the chosen level's pixels, generally between pixel edges.
  const lx = x / down;
  const ly = y / down;
  const lw = width / down;
  const lh = height / down;
  const window = {
    x: Math.floor(lx),
    y: Math.floor(ly),
    width: Math.ceil(lx + lw) - Math.floor(lx),
    height: Math.ceil(ly + lh) - Math.floor(ly),
  };
  const options = { pool: request.pool ?? file.pool, fill: request.fill, signal: request.signal };
  const raster = await readWindowRgb(file.name, page, window, options);
  const exact =
    window.width === outWidth && window.height === outHeight && lx === window.x && ly === window.y;
  if (exact) return { ...raster, level, scale };
  const span = { x: lx - window.x, y: ly - window.y, width: lw, height: lh };
  const data = areaResample(raster.data, raster.width, raster.height, 3, span, outWidth, outHeight);
  return { data, width: outWidth, height: outHeight, channels: 3, level, scale };
}
