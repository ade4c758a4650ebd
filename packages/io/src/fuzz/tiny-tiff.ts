/**
 * Builds small classic (32-bit offset) TIFFs byte by byte, so that tests can make exactly the broken
 * file they mean: a tag with an absurd value, an IFD chain that loops, a tile table longer than the file.
 * Only what those tests need: one or more pages (each with optional sub-IFDs), ASCII/SHORT/LONG
 * tags, uncompressed data.
 */

/** One IFD entry: a tag number, its TIFF field type (2 = ASCII bytes, 3 = SHORT, 4 = LONG) and its values. */
export interface TinyTag {
  tag: number;
  type: 2 | 3 | 4;
  values: readonly number[];
}

/** An ASCII tag (such as ImageDescription) holding `text` and its terminating NUL. */
export function asciiTag(tag: number, text: string): TinyTag {
  return { tag, type: 2, values: [...Array.from(text, (ch) => ch.charCodeAt(0) & 255), 0] };
}

export interface TinyPage {
  width: number;
  height: number;
  /** Samples per pixel (default 1). */
  samples?: number;
  /** Bits per sample (default 8). */
  bits?: number;
  /** Photometric interpretation (default: 1 for one sample, 2 for three or more). */
  photometric?: number;
  /** Compression code (default 1, none). */
  compression?: number;
  /** Tile side; the page is striped (one strip) when left out. */
  tile?: number;
  /** Tags to add or to replace the built-in ones with. */
  extraTags?: readonly TinyTag[];
  /** Pixel bytes to store (default: a ramp of the size the page needs). */
  data?: Uint8Array;
  /** Pages stored as this page's sub-IFDs (SubIFDs tag), outside the main IFD chain. */
  subIfds?: readonly TinyPage[];
}

export const Tag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  PlanarConfiguration: 284,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  SubIFDs: 330,
  ExtraSamples: 338,
} as const;

/** Where things landed in the built file, so tests can corrupt a chosen field. */
export interface TinyTiffLayout {
  bytes: Uint8Array;
  /** Byte offset of each page's IFD (its entry count). */
  ifdOffsets: number[];
  /** Byte offset of each page's next-IFD pointer. */
  nextPointerOffsets: number[];
}

function pageBytes(page: TinyPage): number {
  const samples = page.samples ?? 1;
  const bits = page.bits ?? 8;
  if (page.tile === undefined) return Math.ceil((page.width * samples * bits) / 8) * page.height;
  const across = Math.ceil(page.width / page.tile);
  const down = Math.ceil(page.height / page.tile);
  return across * down * Math.ceil((page.tile * samples * bits) / 8) * page.tile;
}

/** A little-endian classic TIFF holding `pages` in order. */
export function tinyTiff(pages: readonly TinyPage[]): TinyTiffLayout {
  const chunks: Uint8Array[] = [];
  let size = 8;
  const place = (bytes: Uint8Array): number => {
    const at = size;
    chunks.push(bytes);
    size += bytes.byteLength;
    if (size % 2 === 1) {
      chunks.push(new Uint8Array(1));
      size++;
    }
    return at;
  };
  const words = (type: 2 | 3 | 4, values: readonly number[]): Uint8Array => {
    if (type === 2) return Uint8Array.from(values);
    const width = type === 3 ? 2 : 4;
    const out = new Uint8Array(values.length * width);
    const view = new DataView(out.buffer);
    values.forEach((v, i) => {
      if (type === 3) view.setUint16(i * 2, v, true);
      else view.setUint32(i * 4, v >>> 0, true);
    });
    return out;
  };

  const ifdOffsets: number[] = [];
  const nextPointerOffsets: number[] = [];
  const ifds: { at: number; view: DataView }[] = [];
  const writeIfd = (page: TinyPage): { at: number; view: DataView; entries: number } => {
    const samples = page.samples ?? 1;
    const bits = page.bits ?? 8;
    const total = pageBytes(page);
    const data = page.data ?? Uint8Array.from({ length: total }, (_, i) => (i * 7) & 255);
    const dataAt = place(data);
    const tags = new Map<number, TinyTag>();
    const set = (tag: number, type: 2 | 3 | 4, values: readonly number[]) =>
      tags.set(tag, { tag, type, values });
    set(Tag.ImageWidth, 4, [page.width]);
    set(Tag.ImageLength, 4, [page.height]);
    set(Tag.BitsPerSample, 3, Array(samples).fill(bits));
    set(Tag.Compression, 3, [page.compression ?? 1]);
    set(Tag.Photometric, 3, [page.photometric ?? (samples >= 3 ? 2 : 1)]);
    set(Tag.SamplesPerPixel, 3, [samples]);
    set(Tag.PlanarConfiguration, 3, [1]);
    if (samples === 2 || samples === 4) set(Tag.ExtraSamples, 3, [2]);
    if (page.tile === undefined) {
      set(Tag.StripOffsets, 4, [dataAt]);
      set(Tag.RowsPerStrip, 4, [page.height]);
      set(Tag.StripByteCounts, 4, [data.byteLength]);
    } else {
      const count = Math.ceil(page.width / page.tile) * Math.ceil(page.height / page.tile);
      const tileBytes = Math.ceil((page.tile * samples * bits) / 8) * page.tile;
      set(Tag.TileWidth, 4, [page.tile]);
      set(Tag.TileLength, 4, [page.tile]);
      set(
        Tag.TileOffsets,
        4,
        Array.from({ length: count }, (_, i) => dataAt + i * tileBytes),
      );
      set(Tag.TileByteCounts, 4, Array(count).fill(tileBytes));
    }
    if (page.subIfds?.length) {
      set(
        Tag.SubIFDs,
        4,
        page.subIfds.map((sub) => writeIfd(sub).at),
      );
    }
    for (const t of page.extraTags ?? []) tags.set(t.tag, t);
    const sorted = [...tags.values()].sort((a, b) => a.tag - b.tag);
    // Values longer than four bytes live outside the IFD.
    const outside = new Map<number, number>();
    for (const t of sorted) {
      const bytes = words(t.type, t.values);
      if (bytes.byteLength > 4) outside.set(t.tag, place(bytes));
    }
    const ifd = new Uint8Array(2 + sorted.length * 12 + 4);
    const view = new DataView(ifd.buffer);
    view.setUint16(0, sorted.length, true);
    sorted.forEach((t, i) => {
      const e = 2 + i * 12;
      view.setUint16(e, t.tag, true);
      view.setUint16(e + 2, t.type, true);
      view.setUint32(e + 4, t.values.length, true);
      const far = outside.get(t.tag);
      if (far !== undefined) view.setUint32(e + 8, far, true);
      else ifd.set(words(t.type, t.values), e + 8);
    });
    return { at: place(ifd), view, entries: sorted.length };
  };
  for (const page of pages) {
    const { at, view, entries } = writeIfd(page);
    ifdOffsets.push(at);
    nextPointerOffsets.push(at + 2 + entries * 12);
    ifds.push({ at, view });
  }
  // Chain the IFDs: each next-pointer names the following one, the last holds 0.
  for (let i = 0; i + 1 < ifds.length; i++) {
    ifds[i].view.setUint32(ifds[i].view.byteLength - 4, ifds[i + 1].at, true);
  }
  const bytes = new Uint8Array(size);
  bytes.set([0x49, 0x49, 42, 0]);
  new DataView(bytes.buffer).setUint32(4, ifdOffsets[0] ?? 0, true);
  let at = 8;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return { bytes, ifdOffsets, nextPointerOffsets };
}

/** Overwrites the value of `tag` in the IFD at `ifdOffset` with a LONG count-1 value (an inline edit). */
export function patchTag(bytes: Uint8Array, ifdOffset: number, tag: number, value: number, count = 1): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = view.getUint16(ifdOffset, true);
  for (let i = 0; i < entries; i++) {
    const e = ifdOffset + 2 + i * 12;
    if (view.getUint16(e, true) !== tag) continue;
    view.setUint16(e + 2, 4, true);
    view.setUint32(e + 4, count, true);
    view.setUint32(e + 8, value >>> 0, true);
    return;
  }
  throw new Error(`patchTag: no tag ${tag} in the IFD at ${ifdOffset}`);
}
