import type { RangeSource } from './range-source.js';

/**
 * A walk over a TIFF's directory structure that runs before geotiff parses anything, because geotiff
 * trusts the file: it allocates a typed array as long as any tag's stated count (so a 1 KB file claiming a
 * billion tile offsets costs gigabytes), it follows IFD chains that loop back forever, and it decodes
 * blocks as large as the stated tile size. Here every count, offset and size is checked against the
 * file's length first, so that whatever geotiff later allocates is bounded by what the file holds.
 */

/** The most one decoded tile or strip may take; an 8192 x 8192 RGBA 8-bit tile is exactly this. */
export const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

/** Guards against IFD chains and sub-IFD trees that are long only to exhaust the reader. */
export const MAX_DIRECTORIES = 10_000;

const TYPE_BYTES: Record<number, number> = {
  1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8,
}; // biome-ignore format: one field type per column is easier to check against the spec

const TAG_NAMES: Record<number, string> = {
  256: 'ImageWidth',
  257: 'ImageLength',
  258: 'BitsPerSample',
  259: 'Compression',
  262: 'PhotometricInterpretation',
  273: 'StripOffsets',
  277: 'SamplesPerPixel',
  278: 'RowsPerStrip',
  279: 'StripByteCounts',
  284: 'PlanarConfiguration',
  322: 'TileWidth',
  323: 'TileLength',
  324: 'TileOffsets',
  325: 'TileByteCounts',
  317: 'Predictor',
  330: 'SubIFDs',
};

/** BYTE, SHORT, LONG, LONG8 (IFD and IFD8 are read as LONG and LONG8). */
const UNSIGNED_TYPES = new Set([1, 3, 4, 16]);

/** Tags geotiff reads as one number without waiting for them, so their value must sit in the IFD. */
const SCALAR_TAGS = [254, 256, 257, 259, 262, 277, 278, 284, 317, 322, 323];

const tagName = (tag: number) => `${TAG_NAMES[tag] ?? 'tag'} (${tag})`;

/** The problem found, worded to follow "<file>: not a readable TIFF (...)". */
export class TiffStructureError extends Error {
  override readonly name = 'TiffStructureError';
}

interface Entry {
  tag: number;
  type: number;
  count: number;
  /** Where the values are: inside the entry, or at an offset in the file. */
  valueAt: number;
  bytes: number;
}

class Walker {
  private bigTiff = false;
  private little = true;
  private seen = new Set<number>();

  constructor(private readonly source: RangeSource) {}

  private fail(problem: string): never {
    throw new TiffStructureError(problem);
  }

  private async bytes(offset: number, length: number, what: string): Promise<DataView> {
    if (offset + length > this.source.size) {
      this.fail(`${what} at byte ${offset} runs past the end of the file (${this.source.size} bytes)`);
    }
    const data = await this.source.read(offset, length);
    if (data.byteLength < length) this.fail(`${what} at byte ${offset}: the file ended early`);
    return new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private readUint(view: DataView, at: number, size: number): number {
    if (size === 1) return view.getUint8(at);
    if (size === 2) return view.getUint16(at, this.little);
    if (size === 4) return view.getUint32(at, this.little);
    const value = view.getBigUint64(at, this.little);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`a 64-bit value ${value} at byte ${at} is absurd`);
    return Number(value);
  }

  /** Reads the header; returns the offset of the first IFD. */
  async header(): Promise<number> {
    if (this.source.size < 8) this.fail(`${this.source.size} bytes is too short for a TIFF header`);
    const head = await this.bytes(0, Math.min(16, this.source.size), 'the header');
    const order = String.fromCharCode(head.getUint8(0), head.getUint8(1));
    if (order !== 'II' && order !== 'MM') this.fail('no TIFF byte-order mark ("II" or "MM") at byte 0');
    this.little = order === 'II';
    const magic = head.getUint16(2, this.little);
    if (magic === 42) return head.getUint32(4, this.little);
    if (magic !== 43) this.fail(`magic number ${magic} is neither 42 (TIFF) nor 43 (BigTIFF)`);
    this.bigTiff = true;
    if (head.byteLength < 16) this.fail('the BigTIFF header is cut short');
    return this.readUint(head, 8, 8);
  }

  private async entries(offset: number, where: string): Promise<{ entries: Entry[]; next: number }> {
    if (offset < 8) this.fail(`${where} is at byte ${offset}, which cannot start an IFD`);
    if (this.seen.has(offset)) this.fail(`${where} at byte ${offset} was already read: the IFD chain loops`);
    if (this.seen.size >= MAX_DIRECTORIES) this.fail(`more than ${MAX_DIRECTORIES} IFDs`);
    this.seen.add(offset);
    const countSize = this.bigTiff ? 8 : 2;
    const entrySize = this.bigTiff ? 20 : 12;
    const pointerSize = this.bigTiff ? 8 : 4;
    const count = this.readUint(await this.bytes(offset, countSize, where), 0, countSize);
    const length = count * entrySize + pointerSize;
    if (offset + countSize + length > this.source.size) {
      this.fail(`${where} at byte ${offset} claims ${count} entries, more than the file holds`);
    }
    const view = await this.bytes(offset + countSize, length, where);
    const entries: Entry[] = [];
    for (let i = 0; i < count; i++) {
      const e = i * entrySize;
      const tag = view.getUint16(e, this.little);
      const type = view.getUint16(e + 2, this.little);
      const n = this.readUint(view, e + 4, pointerSize);
      const bytes = n * (TYPE_BYTES[type] ?? 1);
      const inline = bytes <= pointerSize;
      const valueAt = inline
        ? offset + countSize + e + 4 + pointerSize
        : this.readUint(view, e + 4 + pointerSize, pointerSize);
      if (!inline && valueAt + bytes > this.source.size) {
        this.fail(
          `${where} at byte ${offset}: ${tagName(tag)} holds ${n} values at byte ${valueAt}, past the end of the file (${this.source.size} bytes)`,
        );
      }
      entries.push({ tag, type, count: n, valueAt, bytes });
    }
    return { entries, next: this.readUint(view, count * entrySize, pointerSize) };
  }

  private async values(entry: Entry): Promise<number[]> {
    const size = TYPE_BYTES[entry.type];
    // geotiff reads signed and floating types as such, so a negative or fractional size could slip through.
    if (!UNSIGNED_TYPES.has(entry.type))
      this.fail(`${tagName(entry.tag)} has field type ${entry.type}, not an unsigned integer type`);
    const view = await this.bytes(entry.valueAt, entry.bytes, tagName(entry.tag));
    return Array.from({ length: entry.count }, (_, i) => this.readUint(view, i * size, size));
  }

  /** Checks one IFD's image layout: sizes, block tables that cover the image, blocks inside the file. */
  private async checkImage(entries: Entry[], where: string): Promise<void> {
    const byTag = new Map(entries.map((e) => [e.tag, e]));
    const first = async (tag: number, fallback?: number): Promise<number> => {
      const entry = byTag.get(tag);
      if (!entry || entry.count === 0) {
        if (fallback === undefined) this.fail(`${where} has no ${tagName(tag)}`);
        return fallback;
      }
      return (await this.values({ ...entry, count: 1, bytes: TYPE_BYTES[entry.type] }))[0];
    };
    for (const tag of SCALAR_TAGS) {
      const entry = byTag.get(tag);
      if (entry && entry.count !== 1)
        this.fail(`${where}: ${tagName(tag)} holds ${entry.count} values, not one`);
    }
    if (!byTag.has(273) && !byTag.has(324))
      this.fail(`${where} has neither StripOffsets (273) nor TileOffsets (324)`);
    const width = await first(256);
    const height = await first(257);
    if (width < 1 || height < 1) this.fail(`${where} is ${width} x ${height} pixels`);
    const samples = await first(277, 1);
    if (samples < 1 || samples > 64) this.fail(`${where} has ${samples} samples per pixel`);
    const bitsEntry = byTag.get(258);
    if (!bitsEntry || bitsEntry.count < samples) {
      this.fail(
        `${where}: BitsPerSample (258) lists ${bitsEntry?.count ?? 0} values for ${samples} samples per pixel`,
      );
    }
    const bits = await this.values({
      ...bitsEntry,
      count: samples,
      bytes: samples * TYPE_BYTES[bitsEntry.type],
    });
    if (bits.some((b) => b < 1 || b > 64)) this.fail(`${where} has ${bits.join('/')} bits per sample`);
    const planar = (await first(284, 1)) === 2;
    const compression = await first(259, 1);
    // As geotiff decides: a page without strip offsets is tiled (and then needs its tile size).
    const tiled = byTag.has(322) || !byTag.has(273);
    const blockWidth = tiled ? await first(322) : width;
    const blockHeight = tiled ? await first(323) : Math.min(await first(278, 2 ** 32 - 1), height);
    if (blockWidth < 1 || blockHeight < 1) {
      this.fail(`${where} has ${tiled ? 'tiles' : 'strips'} of ${blockWidth} x ${blockHeight} pixels`);
    }
    const blocks = Math.ceil(width / blockWidth) * Math.ceil(height / blockHeight) * (planar ? samples : 1);
    const kind = tiled ? 'tile' : 'strip';
    // Some early tiled writers stored tile positions under the strip tags (see page.ts).
    const offsets = byTag.get(tiled ? 324 : 273) ?? byTag.get(tiled ? 273 : 324);
    const counts = byTag.get(tiled ? 325 : 279) ?? byTag.get(tiled ? 279 : 325);
    if (!offsets || !counts) this.fail(`${where} has no ${kind} offsets or byte counts`);
    if (offsets.count < blocks || counts.count < blocks) {
      this.fail(
        `${where}: ${width} x ${height} pixels in ${blockWidth} x ${blockHeight} ${kind}s needs ${blocks} ${kind}s, ` +
          `but ${tagName(offsets.tag)} lists ${offsets.count} and ${tagName(counts.tag)} ${counts.count}`,
      );
    }
    const bitsPerPixel = planar ? bits[0] : bits.reduce((a, b) => a + b, 0);
    const blockBytes = Math.ceil((blockWidth * bitsPerPixel) / 8) * blockHeight;
    if (blockBytes > MAX_BLOCK_BYTES) {
      this.fail(
        `${where}: one ${blockWidth} x ${blockHeight} ${kind} takes ${blockBytes} bytes decoded, over the ${MAX_BLOCK_BYTES} allowed`,
      );
    }
    if (compression === 1 && blockBytes > this.source.size) {
      this.fail(
        `${where}: an uncompressed ${kind} of ${blockBytes} bytes cannot fit in a ${this.source.size}-byte file`,
      );
    }
    const starts = await this.values({ ...offsets, count: blocks, bytes: blocks * TYPE_BYTES[offsets.type] });
    const lengths = await this.values({ ...counts, count: blocks, bytes: blocks * TYPE_BYTES[counts.type] });
    for (let i = 0; i < blocks; i++) {
      if (lengths[i] > 0 && starts[i] + lengths[i] > this.source.size) {
        this.fail(
          `${where}: ${kind} ${i} lies at bytes ${starts[i]}..${starts[i] + lengths[i]}, past the end of the file ` +
            `(${this.source.size} bytes): the file is truncated or its ${kind} table is corrupt`,
        );
      }
    }
  }

  /** Walks one IFD and its sub-IFDs. */
  private async directory(offset: number, where: string): Promise<number> {
    const { entries, next } = await this.entries(offset, where);
    await this.checkImage(entries, where);
    const sub = entries.find((e) => e.tag === 330);
    if (sub) {
      const offsets = await this.values(
        sub.type === 13 ? { ...sub, type: 4 } : sub.type === 18 ? { ...sub, type: 16 } : sub,
      );
      for (const [i, at] of offsets.entries()) await this.directory(at, `${where} sub-IFD ${i}`);
    }
    return next;
  }

  async walk(): Promise<number> {
    let offset = await this.header();
    let page = 0;
    if (offset === 0) this.fail('the header points to no IFD');
    while (offset !== 0) {
      offset = await this.directory(offset, `IFD ${page}`);
      page++;
    }
    return page;
  }
}

/**
 * Checks that the TIFF's structure is sound before it is parsed: a valid header, IFDs and tag values inside
 * the file, no IFD read twice (loops), at most {@link MAX_DIRECTORIES} IFDs, every image with a positive size,
 * tile or strip tables long enough for that size and pointing inside the file, and no decoded block over
 * {@link MAX_BLOCK_BYTES}. Reads only the header, the IFDs and the block tables. Returns the page count.
 * Throws {@link TiffStructureError}.
 */
export function checkTiffStructure(source: RangeSource): Promise<number> {
  return new Walker(source).walk();
}
