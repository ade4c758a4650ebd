import type { Pool, TypedArray } from 'geotiff';
import { assertDecodable } from './features.js';
import type { TiffPage } from './page.js';
import { interleavePlanes, toRgb8 } from './rgb.js';

/** A rectangle in a page's own pixel grid. */
export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixels of a window, samples interleaved (`[r, g, b, r, g, b, ...]`), row after row. */
export interface Raster<T extends TypedArray = TypedArray> {
  data: T;
  width: number;
  height: number;
  channels: number;
}

export interface ReadWindowOptions {
  /** Decode compressed tiles on these workers. */
  pool?: Pool;
  /** Value for the parts of the window that lie outside the image (default 0). */
  fill?: number;
  signal?: AbortSignal;
}

function checkWindow(file: string, page: TiffPage, w: Window): void {
  const { x, y, width, height } = w;
  if (![x, y, width, height].every(Number.isInteger) || width <= 0 || height <= 0) {
    throw new RangeError(
      `${file}: window x=${x} y=${y} w=${width} h=${height} must be integers with positive size`,
    );
  }
  if (x >= page.width || y >= page.height || x + width <= 0 || y + height <= 0) {
    throw new RangeError(
      `${file}: window x=${x} y=${y} w=${width} h=${height} lies outside page ${page.id} (${page.width}x${page.height})`,
    );
  }
}

function wrapError(file: string, page: TiffPage, error: unknown): Error {
  if (error instanceof Error && error.message.startsWith(file)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${file}: cannot decode page ${page.id}: ${message}`);
}

/** Copies `inner` (a part of the window) into a window-sized array filled with `fill`. */
function pad<T extends TypedArray>(
  inner: Raster<T>,
  window: Window,
  ox: number,
  oy: number,
  fill: number,
): Raster<T> {
  const { channels } = inner;
  const Ctor = inner.data.constructor as new (n: number) => T;
  const data = new Ctor(window.width * window.height * channels);
  if (fill !== 0) data.fill(fill as never);
  const rowLength = inner.width * channels;
  for (let row = 0; row < inner.height; row++) {
    const from = row * rowLength;
    data.set(
      inner.data.subarray(from, from + rowLength) as never,
      ((oy + row) * window.width + ox) * channels,
    );
  }
  return { data, width: window.width, height: window.height, channels };
}

async function readClipped<T extends TypedArray>(
  file: string,
  page: TiffPage,
  window: Window,
  options: ReadWindowOptions,
  read: (box: [number, number, number, number]) => Promise<Raster<T>>,
): Promise<Raster<T>> {
  checkWindow(file, page, window);
  const x0 = Math.max(0, window.x);
  const y0 = Math.max(0, window.y);
  const x1 = Math.min(page.width, window.x + window.width);
  const y1 = Math.min(page.height, window.y + window.height);
  let inner: Raster<T>;
  try {
    // Inside the try: a broken tag can make the check itself throw, and that message must name the file too.
    for (const plane of page.planes ?? [page]) assertDecodable(plane.image, file);
    inner = await read([x0, y0, x1, y1]);
  } catch (error) {
    throw wrapError(file, page, error);
  }
  if (x1 - x0 === window.width && y1 - y0 === window.height) return inner;
  return pad(inner, window, x0 - window.x, y0 - window.y, options.fill ?? 0);
}

/** Reads a window of a page in the file's own sample type, all samples interleaved. */
export function readWindow(
  file: string,
  page: TiffPage,
  window: Window,
  options: ReadWindowOptions = {},
): Promise<Raster> {
  return readClipped(file, page, window, options, async (box) => {
    const read = (plane: TiffPage) =>
      plane.image.readRasters({
        window: box,
        interleave: true,
        pool: options.pool ?? null,
        signal: options.signal,
      }) as unknown as Promise<TypedArray>;
    const data = page.planes ? interleavePlanes(await Promise.all(page.planes.map(read))) : await read(page);
    return { data, width: box[2] - box[0], height: box[3] - box[1], channels: page.samplesPerPixel };
  });
}

/** Reads a window of a page as 8-bit RGB, whatever the page's colour model and depth. */
export function readWindowRgb(
  file: string,
  page: TiffPage,
  window: Window,
  options: ReadWindowOptions = {},
): Promise<Raster<Uint8Array>> {
  return readClipped(file, page, window, options, async (box) => {
    const width = box[2] - box[0];
    const height = box[3] - box[1];
    const data = await toRgb8(page, box, options.pool, options.signal);
    return { data, width, height, channels: 3 };
  });
}
