/**
 * A small streaming writer of tiled, deflate-compressed RGB BigTIFFs, for generating
 * huge test slides without holding them in memory: tiles go to disk as they are made,
 * the IFD goes last and the header is patched to point at it. The file writer is Node only;
 * {@link encodeTiledBigTiff} builds the same layout in memory anywhere.
 */
export interface TiledBigTiffSpec {
  width: number;
  height: number;
  /** Square tile side, a multiple of 16 as TIFF requires. */
  tileSize: number;
  /** The RGB pixels of tile (tx, ty), tileSize² × 3 bytes (edge tiles are padded, as TIFF stores them). */
  tile(tx: number, ty: number): Uint8Array;
  /** Tiles with equal keys have equal pixels, so each distinct tile is compressed once. */
  tileKey?(tx: number, ty: number): string;
}

const SHORT = 3;
const LONG = 4;
const LONG8 = 16;

export async function writeTiledBigTiff(path: string, spec: TiledBigTiffSpec): Promise<void> {
  const { open, rename, rm } = await import('node:fs/promises');
  const { deflateSync } = await import('node:zlib');
  const { tileSize } = spec;
  if (tileSize % 16 !== 0) throw new RangeError(`${path}: tile size ${tileSize} is not a multiple of 16`);
  const layout = tileLayout(spec);
  const compressed = new Map<string, Uint8Array>();
  const temp = `${path}.${process.pid}.tmp`;
  const handle = await open(temp, 'w');
  try {
    let position = 16;
    for (const [index, tx, ty] of layout.tiles()) {
      const key = spec.tileKey?.(tx, ty);
      let bytes = key === undefined ? undefined : compressed.get(key);
      if (!bytes) {
        bytes = deflateSync(spec.tile(tx, ty), { level: 6 });
        if (key !== undefined) compressed.set(key, bytes);
      }
      await handle.write(bytes, 0, bytes.length, position);
      layout.place(index, position, bytes.length);
      position += bytes.length;
    }
    const tail = layout.directory(position);
    await handle.write(tail, 0, tail.length, position);
    const header = layout.header(position);
    await handle.write(header, 0, header.length, 0);
    await handle.close();
    await rename(temp, path);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * The same file as {@link writeTiledBigTiff}, built in memory with the web's CompressionStream, so it runs in a
 * page too (the demo writes its synthetic slides through the host's files). For slides of a few megabytes.
 */
export async function encodeTiledBigTiff(spec: TiledBigTiffSpec, name = 'TIFF'): Promise<Uint8Array> {
  if (spec.tileSize % 16 !== 0)
    throw new RangeError(`${name}: tile size ${spec.tileSize} is not a multiple of 16`);
  const layout = tileLayout(spec);
  const compressed = new Map<string, Uint8Array>();
  const parts: Uint8Array[] = [];
  let position = 16;
  for (const [index, tx, ty] of layout.tiles()) {
    const key = spec.tileKey?.(tx, ty);
    let bytes = key === undefined ? undefined : compressed.get(key);
    if (!bytes) {
      bytes = await zlibDeflate(spec.tile(tx, ty));
      if (key !== undefined) compressed.set(key, bytes);
    }
    parts.push(bytes);
    layout.place(index, position, bytes.length);
    position += bytes.length;
  }
  parts.push(layout.directory(position));
  const file = new Uint8Array(position + parts.at(-1)!.length);
  file.set(layout.header(position), 0);
  let at = 16;
  for (const part of parts) {
    file.set(part, at);
    at += part.length;
  }
  return file;
}

/** Deflate in the zlib wrapper that TIFF's compression 8 expects, through the web streams standard. */
async function zlibDeflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Where the parts of a tiled BigTIFF go: the 16-byte header, the tiles one after another, then the tile
 * offsets and byte counts, then the one IFD. The header's pointer to the IFD is known only at the end.
 */
function tileLayout(spec: TiledBigTiffSpec) {
  const { width, height, tileSize } = spec;
  const across = Math.ceil(width / tileSize);
  const down = Math.ceil(height / tileSize);
  const count = across * down;
  const offsets = new BigUint64Array(count);
  const byteCounts = new BigUint64Array(count);
  return {
    *tiles(): Generator<[index: number, tx: number, ty: number]> {
      for (let ty = 0; ty < down; ty++) for (let tx = 0; tx < across; tx++) yield [ty * across + tx, tx, ty];
    },
    place(index: number, offset: number, length: number) {
      offsets[index] = BigInt(offset);
      byteCounts[index] = BigInt(length);
    },
    /** The bytes after the last tile, which starts at `offsetsAt`: the offset and count arrays and the IFD. */
    directory(offsetsAt: number): Uint8Array {
      // Arrays too long to sit in their IFD entry go right before the IFD.
      const countsAt = offsetsAt + count * 8;
      const ifdAt = countsAt + count * 8;
      const entries: [tag: number, type: number, n: number, value: number | number[]][] = [
        [256, LONG, 1, width],
        [257, LONG, 1, height],
        [258, SHORT, 3, [8, 8, 8]],
        [259, SHORT, 1, 8], // deflate
        [262, SHORT, 1, 2], // RGB
        [277, SHORT, 1, 3],
        [284, SHORT, 1, 1], // chunky
        [322, SHORT, 1, tileSize],
        [323, SHORT, 1, tileSize],
        [324, LONG8, count, count === 1 ? Number(offsets[0]) : offsetsAt],
        [325, LONG8, count, count === 1 ? Number(byteCounts[0]) : countsAt],
      ];
      const out = new Uint8Array(ifdAt - offsetsAt + 8 + entries.length * 20 + 8);
      out.set(new Uint8Array(offsets.buffer), 0);
      out.set(new Uint8Array(byteCounts.buffer), count * 8);
      const ifd = new DataView(out.buffer, ifdAt - offsetsAt);
      ifd.setBigUint64(0, BigInt(entries.length), true);
      entries.forEach(([tag, type, n, value], i) => {
        const at = 8 + i * 20;
        ifd.setUint16(at, tag, true);
        ifd.setUint16(at + 2, type, true);
        ifd.setBigUint64(at + 4, BigInt(n), true);
        const values = Array.isArray(value) ? value : [value];
        values.forEach((v, k) => {
          if (type === SHORT) ifd.setUint16(at + 12 + 2 * k, v, true);
          else if (type === LONG) ifd.setUint32(at + 12 + 4 * k, v, true);
          else ifd.setBigUint64(at + 12, BigInt(v), true);
        });
      });
      return out;
    },
    header(offsetsAt: number): Uint8Array {
      const header = new DataView(new ArrayBuffer(16));
      header.setUint16(0, 0x4949, false); // "II": little-endian
      header.setUint16(2, 43, true); // BigTIFF
      header.setUint16(4, 8, true); // offset size
      header.setBigUint64(8, BigInt(offsetsAt + count * 16), true);
      return new Uint8Array(header.buffer);
    },
  };
}

/**
 * The synthetic slide's pattern: red = x mod 256, green = (y mod tileSize) / 16, blue = 16 ×
 * a tile variant (0..15). Rows repeat in runs of 16, so deflate squeezes a tile to a few
 * kilobytes; any pixel can still be checked after reading.
 */
export function syntheticPixel(x: number, y: number, tileSize: number): [number, number, number] {
  const tx = Math.floor(x / tileSize);
  const ty = Math.floor(y / tileSize);
  return [x & 255, ((y % tileSize) >> 4) & 255, ((tx * 7 + ty * 3) % 16) * 16];
}

export function syntheticSlideSpec(width: number, height: number, tileSize = 512): TiledBigTiffSpec {
  return {
    width,
    height,
    tileSize,
    tileKey: (tx, ty) => String((tx * 7 + ty * 3) % 16),
    tile(tx, ty) {
      const pixels = new Uint8Array(tileSize * tileSize * 3);
      for (let y = 0; y < tileSize; y++) {
        for (let x = 0; x < tileSize; x++) {
          const [r, g, b] = syntheticPixel(tx * tileSize + x, ty * tileSize + y, tileSize);
          const i = 3 * (y * tileSize + x);
          pixels[i] = r;
          pixels[i + 1] = g;
          pixels[i + 2] = b;
        }
      }
      return pixels;
    },
  };
}
