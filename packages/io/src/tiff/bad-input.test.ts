import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BadInputRow, docSection } from '../../../../docs/bad-input-table.js';
import { patchTag, Tag, tinyTiff } from '../fuzz/tiny-tiff.js';
import { hasTiffCorpus, tiffCorpus } from './corpus.js';
import { openTiffFile } from './open-file.js';
import { readRegion } from './region.js';
import { readWindowRgb } from './window.js';

/**
 * Broken and unusual TIFFs, each written to a temporary file and opened by path the way the CLI does.
 * A broken file must fail with a message that starts with its path and says what is wrong; an unusual
 * but valid one (grey, RGBA, 16-bit, smaller than a tile) must read as 8-bit RGB.
 */

interface TiffCase extends BadInputRow {
  bytes: () => Uint8Array;
  /** Also read pixels (some problems only show when a block is decoded). */
  read?: boolean;
  /** For accepted inputs: the RGB of pixel (0, 0) and (1, 0). */
  rgb?: number[];
}

const dir = mkdtempSync(join(tmpdir(), 'nephron-bad-tiff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const tiled = () => tinyTiff([{ width: 64, height: 64, tile: 16 }]);
const striped = () => tinyTiff([{ width: 40, height: 30 }]);
const patched = (make: typeof tiled, edits: [number, number, number?][]) => () => {
  const t = make();
  for (const [tag, value, count] of edits) patchTag(t.bytes, t.ifdOffsets[0], tag, value, count);
  return t.bytes;
};

const cases: TiffCase[] = [
  {
    name: 'empty file',
    input: '0 bytes',
    bytes: () => new Uint8Array(0),
    expected: ['not a readable TIFF', 'too short for a TIFF header'],
  },
  {
    name: 'not a TIFF',
    input: 'a PNG signature and text',
    bytes: () => new TextEncoder().encode('\x89PNG\r\n\x1a\n and then some text'),
    expected: ['not a readable TIFF', 'no TIFF byte-order mark'],
  },
  {
    name: 'wrong magic number',
    input: '"II" then 43 replaced by 7',
    bytes: () => {
      const b = striped().bytes;
      view(b).setUint16(2, 7, true);
      return b;
    },
    expected: ['not a readable TIFF', 'magic number 7'],
  },
  {
    name: 'cut inside the header',
    input: 'first 6 bytes',
    bytes: () => striped().bytes.slice(0, 6),
    expected: ['too short for a TIFF header'],
  },
  {
    name: 'cut before the IFD',
    input: 'a striped TIFF cut at byte 100 (its IFD is at the end)',
    bytes: () => striped().bytes.slice(0, 100),
    expected: ['IFD 0 at byte', 'runs past the end of the file (100 bytes)'],
  },
  {
    name: 'cut inside the IFD',
    input: 'cut 5 bytes into the IFD',
    bytes: () => {
      const t = striped();
      return t.bytes.slice(0, t.ifdOffsets[0] + 5);
    },
    expected: ['claims 10 entries, more than the file holds'],
  },
  {
    name: 'cut inside the pixels',
    input: 'IFD first, then the strip cut short',
    bytes: () => {
      // Move the IFD in front by pointing a copy of it at the original data, then drop the data's tail.
      const t = striped();
      const ifd = t.bytes.slice(t.ifdOffsets[0]);
      const out = new Uint8Array(8 + ifd.byteLength + 1200);
      out.set(t.bytes.subarray(0, 8));
      view(out).setUint32(4, 8, true);
      out.set(ifd, 8);
      out.set(t.bytes.subarray(8, 8 + 1200), 8 + ifd.byteLength);
      patchTag(out, 8, Tag.StripOffsets, 8 + ifd.byteLength);
      return out.slice(0, out.byteLength - 100);
    },
    expected: ['strip 0 lies at bytes', 'the file is truncated'],
  },
  {
    name: 'IFD loop (self)',
    input: "the IFD's next pointer names itself",
    bytes: () => {
      const t = striped();
      view(t.bytes).setUint32(t.nextPointerOffsets[0], t.ifdOffsets[0], true);
      return t.bytes;
    },
    expected: ['IFD 1 at byte', 'the IFD chain loops'],
  },
  {
    name: 'IFD loop (two pages)',
    input: "page 1's next pointer names page 0",
    bytes: () => {
      const t = tinyTiff([
        { width: 8, height: 8 },
        { width: 4, height: 4 },
      ]);
      view(t.bytes).setUint32(t.nextPointerOffsets[1], t.ifdOffsets[0], true);
      return t.bytes;
    },
    expected: ['IFD 2 at byte', 'the IFD chain loops'],
  },
  {
    name: 'flipped byte: entry count',
    input: "the IFD's entry count set to 65535",
    bytes: () => {
      const t = striped();
      view(t.bytes).setUint16(t.ifdOffsets[0], 0xffff, true);
      return t.bytes;
    },
    expected: ['claims 65535 entries, more than the file holds'],
  },
  {
    name: 'flipped byte: IFD offset',
    input: 'the header points past the end',
    bytes: () => {
      const b = striped().bytes;
      view(b).setUint32(4, 0x7ffffff0, true);
      return b;
    },
    expected: ['IFD 0 at byte 2147483632 runs past the end of the file'],
  },
  {
    name: 'flipped byte: field type',
    input: "ImageWidth's field type set to 99",
    bytes: () => {
      const t = striped();
      const b = t.bytes;
      // ImageWidth is the first entry: its type follows its tag.
      view(b).setUint16(t.ifdOffsets[0] + 2 + 2, 99, true);
      return b;
    },
    expected: ['ImageWidth (256) has field type 99, not an unsigned integer type'],
  },
  {
    name: 'absurd dimensions',
    input: '2147483647 x 64 pixels, 16 tiles',
    bytes: patched(tiled, [[Tag.ImageWidth, 0x7fffffff]]),
    expected: ['2147483647 x 64 pixels in 16 x 16 tiles needs 536870912 tiles', 'TileOffsets (324) lists 16'],
  },
  {
    name: 'zero width',
    input: 'ImageWidth 0',
    bytes: patched(striped, [[Tag.ImageWidth, 0]]),
    expected: ['IFD 0 is 0 x 30 pixels'],
  },
  {
    name: 'absurd tile count',
    input: 'TileOffsets claims 2^30 values in a 4 KB file',
    bytes: patched(tiled, [[Tag.TileOffsets, 100, 0x3fffffff]]),
    expected: ['TileOffsets (324) holds 1073741823 values at byte 100, past the end of the file'],
  },
  {
    name: 'absurd tile size',
    input: '65535 x 65535 deflate tiles',
    bytes: patched(tiled, [
      [Tag.TileWidth, 65535],
      [Tag.TileLength, 65535],
      [Tag.Compression, 8],
    ]),
    expected: ['one 65535 x 65535 tile takes 4294836225 bytes decoded, over the 268435456 allowed'],
  },
  {
    name: 'uncompressed strip larger than the file',
    input: '16-bit samples claimed for 8-bit data',
    bytes: patched(striped, [[Tag.BitsPerSample, 16]]),
    expected: ['an uncompressed strip of 2400 bytes cannot fit in a'],
  },
  {
    name: 'strip past the end',
    input: 'StripByteCounts 2^31-1',
    bytes: patched(striped, [[Tag.StripByteCounts, 0x7fffffff]]),
    expected: ['strip 0 lies at bytes 8..2147483655, past the end of the file'],
  },
  {
    name: 'no strip offsets',
    input: 'StripOffsets tag renumbered to an unknown tag',
    bytes: () => {
      const t = striped();
      const v = view(t.bytes);
      for (let i = 0; i < v.getUint16(t.ifdOffsets[0], true); i++) {
        const e = t.ifdOffsets[0] + 2 + i * 12;
        if (v.getUint16(e, true) === Tag.StripOffsets) v.setUint16(e, 65000, true);
      }
      return t.bytes;
    },
    expected: ['IFD 0 has neither StripOffsets (273) nor TileOffsets (324)'],
  },
  {
    name: 'unsupported compression (CCITT)',
    input: 'Compression 2, read pixels',
    bytes: patched(striped, [[Tag.Compression, 2]]),
    read: true,
    expected: ['unsupported TIFF feature: CCITT modified Huffman (RLE) compression (code 2)'],
  },
  {
    name: 'unknown compression',
    input: 'Compression 12345, read pixels',
    bytes: patched(striped, [[Tag.Compression, 12345]]),
    read: true,
    expected: ['unsupported TIFF feature: compression 12345'],
  },
  {
    name: 'corrupt deflate data',
    input: 'Compression 8 over raw bytes, read pixels',
    bytes: patched(tiled, [[Tag.Compression, 8]]),
    read: true,
    expected: ['cannot decode page 0'],
  },
  {
    name: 'grey 8-bit',
    input: '40 x 30, 1 sample',
    bytes: () => striped().bytes,
    read: true,
    expected: [],
    rgb: [0, 0, 0, 7, 7, 7],
  },
  {
    name: 'RGBA 8-bit',
    input: '40 x 30, 4 samples (alpha dropped)',
    bytes: () => tinyTiff([{ width: 40, height: 30, samples: 4 }]).bytes,
    read: true,
    expected: [],
    rgb: [0, 7, 14, 28, 35, 42],
  },
  {
    name: 'grey 16-bit',
    input: '40 x 30, 16 bits per sample (top 8 bits kept)',
    bytes: () => {
      const data = new Uint8Array(40 * 30 * 2);
      const v = view(data);
      for (let i = 0; i < 40 * 30; i++) v.setUint16(i * 2, i * 300, true);
      return tinyTiff([{ width: 40, height: 30, bits: 16, data }]).bytes;
    },
    read: true,
    expected: [],
    rgb: [0, 0, 0, 1, 1, 1],
  },
  {
    name: 'RGB 16-bit',
    input: '8 x 8, 3 samples of 16 bits',
    bytes: () => {
      const data = new Uint8Array(8 * 8 * 6);
      const v = view(data);
      for (let i = 0; i < 8 * 8 * 3; i++) v.setUint16(i * 2, (i * 4099) & 0xffff, true);
      return tinyTiff([{ width: 8, height: 8, samples: 3, bits: 16, data }]).bytes;
    },
    read: true,
    expected: [],
    rgb: [0, 16, 32, 48, 64, 80],
  },
];

async function attempt(path: string, read: boolean): Promise<Uint8Array | undefined> {
  const file = await openTiffFile(path);
  try {
    if (!read) return undefined;
    const page = file.levels[0];
    const raster = await readWindowRgb(file.name, page, {
      x: 0,
      y: 0,
      width: page.width,
      height: page.height,
    });
    return raster.data;
  } finally {
    await file.close();
  }
}

describe('bad TIFF input', () => {
  it.each(cases)('$name: $input', async (c) => {
    const path = join(dir, `${c.name.replace(/[^a-z0-9]+/gi, '-')}.tiff`);
    writeFileSync(path, c.bytes());
    if (c.expected.length === 0) {
      const rgb = await attempt(path, true);
      expect(Array.from(rgb!.subarray(0, 6))).toEqual(c.rgb);
      return;
    }
    const error = await attempt(path, c.read ?? false).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error, 'the file was accepted').toBeInstanceOf(Error);
    expect(error!.message.startsWith(`${path}: `), error!.message).toBe(true);
    for (const part of c.expected) expect(error!.message).toContain(part);
  });

  it('an image smaller than a 256-px tile reads as a padded tile', async () => {
    const path = join(dir, 'small.tiff');
    writeFileSync(path, striped().bytes);
    const file = await openTiffFile(path);
    const region = await readRegion(file, { x: -8, y: -8, width: 256, height: 256, fill: 255 });
    await file.close();
    expect([region.width, region.height]).toEqual([256, 256]);
    // Outside the image: the fill; (8, 8) is the image's pixel (0, 0); (9, 8) its pixel (1, 0).
    const at = (x: number, y: number) => region.data[(y * 256 + x) * 3];
    expect([at(0, 0), at(8, 8), at(9, 8), at(48, 8), at(8, 38)]).toEqual([255, 0, 7, 255, 255]);
  });

  it(
    'every cut of a real tiled slide either reads or fails naming the file',
    { skip: !hasTiffCorpus && 'tiff-corpus absent' },
    async () => {
      const source = join(tiffCorpus, 'openslide-python/boxes.tiff');
      const whole = readFileSync(source);
      const failures = new Map<string, number>();
      // Fixed offsets spread over the file, so the run is the same every time.
      for (let k = 1; k <= 24; k++) {
        const cut = Math.floor((whole.byteLength * k) / 25) + (k % 7);
        const path = join(dir, `boxes-cut-${cut}.tiff`);
        writeFileSync(path, whole.subarray(0, cut));
        const error = await attempt(path, true).then(
          () => undefined,
          (e: Error) => e,
        );
        if (error === undefined) continue;
        expect(error.message.startsWith(`${path}: `), error.message).toBe(true);
        expect(error.message).toMatch(/not a readable TIFF|cannot decode page/);
        const kind = error.message.slice(path.length + 2).replace(/\d+/g, 'N');
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
      }
      // A cut file can look whole only if the cut removed nothing the first page uses.
      expect([...failures.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
    },
  );

  it('docs/bad-input.md lists exactly these cases', () => {
    const { inDoc, rendered } = docSection('tiff', cases);
    expect(inDoc, 'run with BAD_INPUT_DOC=write to update the document').toBe(rendered);
  });
});
