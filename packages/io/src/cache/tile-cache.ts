import type { Pool } from 'geotiff';
import * as zarr from 'zarrita';
import { readRegion } from '../tiff/region.js';
import type { TiffFile } from '../tiff/tiff-file.js';
import type { Raster } from '../tiff/window.js';
import { installGzipCodec } from './gzip-codec.js';

/**
 * A slide stored at one chosen scale as a Zarr v3 array of shape [height, width, 3]
 * (uint8, chunked and gzip-compressed). Random tiles then cost one or a few small chunk
 * reads and inflates, instead of JPEG decodes of pyramid tiles plus resampling.
 */
export interface TileCache {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly scale: number;
  /** Reads a tile in the cache's own (scaled) pixels; parts beyond the edge are 0. */
  readTile(x: number, y: number, width: number, height: number): Promise<Raster<Uint8Array>>;
}

export interface ConvertOptions {
  /** Output pixels per full-resolution pixel, in (0, 1]. */
  scale?: number;
  /** Chunk side in output pixels. */
  chunkSize?: number;
  pool?: Pool;
}

async function fsStore(root: string) {
  const { default: FileSystemStore } = await import('@zarrita/storage/fs');
  return new FileSystemStore(root);
}

/**
 * Converts a TIFF at a scale into a Zarr store at `path`. The store is written beside
 * the destination under a temporary name and renamed into place when complete, so a
 * reader never sees half a cache and a crash leaves the old one intact.
 */
export async function convertToTileCache(
  file: TiffFile,
  path: string,
  options: ConvertOptions = {},
): Promise<TileCache> {
  const { rename, rm } = await import('node:fs/promises');
  installGzipCodec();
  const scale = options.scale ?? 1;
  const chunk = options.chunkSize ?? 512;
  if (!(scale > 0 && scale <= 1))
    throw new RangeError(`${file.name}: cache scale ${scale} must be in (0, 1]`);
  const full = file.levels[0];
  const width = Math.max(1, Math.round(full.width * scale));
  const height = Math.max(1, Math.round(full.height * scale));
  const temp = `${path}.${process.pid}-${Date.now()}.tmp`;
  try {
    const array = await zarr.create(await fsStore(temp), {
      shape: [height, width, 3],
      chunkShape: [chunk, chunk, 3],
      dtype: 'uint8',
      codecs: [
        { name: 'bytes', configuration: { endian: 'little' } },
        { name: 'gzip', configuration: { level: 6 } },
      ],
      attributes: { source: file.name, scale, sourceWidth: full.width, sourceHeight: full.height },
    });
    for (let y = 0; y < height; y += chunk) {
      for (let x = 0; x < width; x += chunk) {
        const w = Math.min(chunk, width - x);
        const h = Math.min(chunk, height - y);
        const region = await readRegion(file, {
          x: x / scale,
          y: y / scale,
          width: w / scale,
          height: h / scale,
          scale,
          pool: options.pool,
        });
        if (region.width !== w || region.height !== h) {
          throw new Error(
            `${file.name}: region at (${x}, ${y}) came back ${region.width}x${region.height}, not ${w}x${h}`,
          );
        }
        await zarr.set(array, [zarr.slice(y, y + h), zarr.slice(x, x + w), null], {
          data: region.data,
          shape: [h, w, 3],
          stride: [w * 3, 3, 1],
        });
      }
    }
    const old = `${path}.${process.pid}-${Date.now()}.old`;
    const hadOld = await rename(path, old).then(
      () => true,
      () => false,
    );
    await rename(temp, path);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return openTileCache(path);
}

/** Opens a tile cache written by `convertToTileCache`. */
export async function openTileCache(path: string): Promise<TileCache> {
  installGzipCodec();
  let array: zarr.Array<zarr.DataType, Awaited<ReturnType<typeof fsStore>>>;
  try {
    array = await zarr.open.v3(await fsStore(path), { kind: 'array' });
  } catch (error) {
    throw new Error(`${path}: not a tile cache (${(error as Error).message})`);
  }
  const [height, width, channels] = array.shape;
  if (array.dtype !== 'uint8' || channels !== 3) {
    throw new Error(
      `${path}: expected a uint8 [height, width, 3] array, found ${array.dtype} [${array.shape}]`,
    );
  }
  const scale = Number((array.attrs as { scale?: number }).scale ?? 1);
  return {
    path,
    width,
    height,
    scale,
    async readTile(x, y, w, h) {
      if (x < 0 || y < 0 || x + w > width || y + h > height || w <= 0 || h <= 0) {
        throw new RangeError(
          `${path}: tile x=${x} y=${y} w=${w} h=${h} outside the ${width}x${height} cache`,
        );
      }
      const view = await zarr.get(array, [zarr.slice(y, y + h), zarr.slice(x, x + w), null]);
      return { data: view.data as Uint8Array, width: w, height: h, channels: 3 };
    },
  };
}
