import type { Pool, TypedArray } from 'geotiff';
import type { TiffPage } from './page.js';

type Box = [number, number, number, number];

/** Maps one sample to 0..255: integers by their top 8 bits (or stretched when narrower), floats from 0..1. */
function sampleTo8(page: TiffPage, sample: number): (v: number) => number {
  const bits = page.bitsPerSample[sample];
  if (page.sampleFormat === 'float') return (v) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255));
  const offset = page.sampleFormat === 'int' ? 2 ** (bits - 1) : 0;
  if (bits >= 8) {
    const divisor = 2 ** (bits - 8);
    return (v) => Math.floor((v + offset) / divisor);
  }
  const max = 2 ** bits - 1;
  return (v) => Math.round(((v + offset) * 255) / max);
}

/** `[r r r …], [g g g …], [b b b …]` → `[r g b r g b …]`, in the planes' own type. */
export function interleavePlanes<T extends TypedArray>(planes: readonly T[]): T {
  const n = planes[0].length;
  const Ctor = planes[0].constructor as new (length: number) => T;
  const out = new Ctor(n * planes.length);
  planes.forEach((plane, c) => {
    for (let i = 0; i < n; i++) out[i * planes.length + c] = plane[i];
  });
  return out;
}

/** Colour planes stored as pages: each plane read on its own, mapped to 8 bits, interleaved. */
async function planesToRgb8(
  planes: readonly TiffPage[],
  box: Box,
  pool: Pool | undefined,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const rasters = await Promise.all(
    planes.map(
      (plane) =>
        plane.image.readRasters({
          window: box,
          samples: [0],
          interleave: true,
          pool: pool ?? null,
          signal,
        }) as unknown as Promise<TypedArray>,
    ),
  );
  const mapped = rasters.map((raster, c) => {
    if (raster instanceof Uint8Array && planes[c].bitsPerSample[0] === 8) return raster;
    const map = sampleTo8(planes[c], 0);
    return Uint8Array.from(raster as ArrayLike<number>, map);
  });
  return interleavePlanes(mapped);
}

/**
 * Decodes a box of a page to interleaved 8-bit RGB. Grey and RGB are converted here so
 * that 16-bit, signed and float samples keep their meaning; palette, CMYK, YCbCr and
 * CIELab go through geotiff's colour conversions, which already produce 8-bit RGB.
 */
export async function toRgb8(
  page: TiffPage,
  box: Box,
  pool: Pool | undefined,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (page.planes) return planesToRgb8(page.planes, box, pool, signal);
  const { photometric } = page;
  const pixels = (box[2] - box[0]) * (box[3] - box[1]);
  if (photometric === 0 || photometric === 1 || photometric === 2) {
    const colour = photometric === 2 && page.samplesPerPixel >= 3;
    const samples = colour ? [0, 1, 2] : [0];
    const raster = (await page.image.readRasters({
      window: box,
      samples,
      interleave: true,
      pool: pool ?? null,
      signal,
    })) as unknown as TypedArray;
    const out = new Uint8Array(pixels * 3);
    if (colour) {
      const maps = samples.map((s) => sampleTo8(page, s));
      const direct = page.bitsPerSample.slice(0, 3).every((b) => b === 8) && page.sampleFormat === 'uint';
      if (direct) out.set(raster as Uint8Array);
      else for (let i = 0; i < out.length; i++) out[i] = maps[i % 3](raster[i]);
    } else {
      const map = sampleTo8(page, 0);
      for (let i = 0; i < pixels; i++) {
        const v = photometric === 0 ? 255 - map(raster[i]) : map(raster[i]);
        out[3 * i] = v;
        out[3 * i + 1] = v;
        out[3 * i + 2] = v;
      }
    }
    return out;
  }
  const rgb = (await page.image.readRGB({
    window: box,
    interleave: true,
    pool: pool ?? null,
    signal,
  })) as unknown as Uint8Array | Uint8ClampedArray;
  return rgb instanceof Uint8Array ? rgb : new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength);
}
