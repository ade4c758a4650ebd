import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { decode as decodePng } from 'fast-png';
import type { TypedArray } from 'geotiff';
import { describe, expect, it } from 'vitest';
import { hasTiffCorpus, tiffCorpus, withTimeout } from './corpus.js';
import { TiffUnsupportedError } from './features.js';
import { parseNetpbm } from './netpbm.js';
import { openTiffFile } from './open-file.js';
import { type Raster, readWindow, readWindowRgb } from './window.js';

/**
 * Decodes every TIFF of the conformance corpus (files written by libtiff, GIMP,
 * ImageMagick, tifffile, libvips, scanners) and compares with the references the
 * corpus provides. Prints a table of file, form and result.
 */

const perFileMs = 30_000;

/** Forms we knowingly do not decode; each must fail with an error naming the feature and the file. */
const expectedUnsupported: Record<string, RegExp> = {
  'image-tiff/images/big_g4.tif': /CCITT Group 4/,
  'image-tiff/images/fax4.tiff': /CCITT Group 4/,
  'image-tiff/images/imagemagick_group4.tiff': /CCITT Group 4/,
  'image-tiff/images/seq/seq-1c-1b-fax3-71f6a21a.tiff': /CCITT Group 3/,
  'image-tiff/images/seq/seq-1c-1b-fax3-fillbits-71f6a21a.tiff': /CCITT Group 3/,
  'image-tiff/images/seq/seq-1c-1b-fax3-lsb-71f6a21a.tiff': /CCITT Group 3/,
  'image-tiff/libtiffpic/fax2d.tif': /CCITT Group 3/,
  'image-tiff/libtiffpic/g3test.tif': /CCITT Group 3/,
  'image-tiff/images/logluv-3c-16b.tiff': /LogLuv/,
  'image-tiff/libtiffpic/off_l16.tif': /LogLuv/,
  'image-tiff/libtiffpic/off_luv24.tif': /LogLuv/,
  'image-tiff/libtiffpic/off_luv32.tif': /LogLuv/,
  'image-tiff/libtiffpic/text.tif': /ThunderScan/,
  'image-tiff/libtiffpic/smallliz.tif': /old-style JPEG/,
  'image-tiff/libtiffpic/zackthecat.tif': /old-style JPEG/,
  'libvips/ojpeg-tile.tif': /old-style JPEG/,
  'image-tiff/images/gradient-1c-64b.tiff': /64-bit integer/,
  'image-tiff/images/gradient-3c-64b.tiff': /64-bit integer/,
  'image-tiff/images/seq/seq-1c-24b-072a9dc9.tiff': /24-bit integer/,
  'image-tiff/images/seq/seq-1c-24b-hpredict-072a9dc9.tiff': /24-bit integer/,
  'image-tiff/images/seq/seq-1c-24b-miniswhite-072a9dc9.tiff': /24-bit integer/,
  'image-tiff/images/seq/seq-3c-24b-contig-27b9f8ce.tiff': /24-bit integer/,
  'image-tiff/images/seq/seq-3c-24b-planar-6296c0c9.tiff': /24-bit integer/,
  'image-tiff/libtiffpic/depth/flower-minisblack-24.tif': /24-bit integer/,
  'image-tiff/libtiffpic/depth/flower-rgb-contig-24.tif': /24-bit integer/,
  'image-tiff/libtiffpic/depth/flower-rgb-planar-24.tif': /24-bit integer/,
  'image-tiff/images/hpredict-1c-12b.tiff': /predictor 2 with 12-bit/,
  'image-tiff/libtiffpic/dscf0013.tif': /chroma subsampling/,
  'libvips/subsampled.tif': /chroma subsampling/,
  'image-tiff/libtiffpic/ycbcr-cat.tif': /chroma subsampling/,
  'openslide-python/unreadable.svs': /unreadable\.svs: cannot decode page 0/,
};

interface Decoded {
  raw: Raster;
  /** Raw samples with MINISWHITE inverted, so both grey conventions compare as one image. */
  values: ArrayLike<number>;
  rgb: Raster<Uint8Array>;
  form: string;
}

function listTiffs(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return listTiffs(path);
      return /\.(tiff?|svs)$/i.test(name) ? [path] : [];
    })
    .sort();
}

async function decodeFile(path: string): Promise<Decoded> {
  const file = await openTiffFile(path);
  try {
    const page = file.levels[0];
    const whole = { x: 0, y: 0, width: page.width, height: page.height };
    const raw = await readWindow(file.name, page, whole);
    const rgb = await readWindowRgb(file.name, page, whole);
    const bits = [...new Set(page.bitsPerSample)].join('/');
    const form = [
      file.bigTiff ? 'BigTIFF' : 'TIFF',
      file.littleEndian ? 'LE' : 'BE',
      `${page.tiled ? 'tiled' : 'strips'}`,
      page.planarConfiguration === 2 ? 'planar' : 'chunky',
      `${page.samplesPerPixel}x${bits}b-${page.sampleFormat}`,
      `photo=${page.photometric}`,
      `comp=${page.compression}`,
      file.pages.length > 1 ? `pages=${file.pages.length}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const max = 2 ** page.bitsPerSample[0] - 1;
    const values = page.photometric === 0 ? Array.from(raw.data as TypedArray, (v) => max - v) : raw.data;
    return { raw, values, rgb, form };
  } finally {
    await file.close();
  }
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

describe.skipIf(!hasTiffCorpus)('TIFF conformance corpus (../shared/data/tiff-corpus)', () => {
  const decoded = new Map<string, Decoded>();
  const failures = new Map<string, Error>();
  const table: { file: string; form: string; result: string }[] = [];
  const rel = (path: string) => relative(tiffCorpus, path);
  const get = (name: string) => {
    const d = decoded.get(name);
    if (!d) throw new Error(`${name} did not decode: ${failures.get(name)?.message}`);
    return d;
  };
  const results = new Map<string, string>();
  const note = (name: string, result: string) => results.set(name, result);

  it('decodes every file or fails it with an error naming the feature and the file', async () => {
    for (const path of hasTiffCorpus ? listTiffs(tiffCorpus) : []) {
      const name = rel(path);
      try {
        decoded.set(name, await withTimeout(decodeFile(path), perFileMs, path));
      } catch (error) {
        failures.set(name, error as Error);
      }
    }
    for (const [name, error] of failures) {
      const expected = expectedUnsupported[name];
      expect(expected, `${name} failed unexpectedly: ${error.message}`).toBeDefined();
      expect(error.message).toContain(name.split('/').pop());
      expect(error.message).toMatch(expected);
    }
    for (const name of Object.keys(expectedUnsupported)) {
      if (name.endsWith('unreadable.svs')) continue;
      const error = failures.get(name);
      expect(error, `${name} was expected to be reported unsupported`).toBeInstanceOf(TiffUnsupportedError);
    }
    expect(failures.has('openslide-python/unreadable.svs')).toBe(true);
    expect(decoded.size).toBeGreaterThan(150);
  });

  it('matches the Netpbm twins exactly', () => {
    const ppm = parseNetpbm(readFileSync(join(tiffCorpus, 'image-tiff/images/rgb-3c-8b.ppm')));
    expect(sameArray(get('image-tiff/images/rgb-3c-8b.tiff').raw.data, ppm.data)).toBe(true);
    note('image-tiff/images/rgb-3c-8b.tiff', 'identical to rgb-3c-8b.ppm');
    const pgm = parseNetpbm(readFileSync(join(tiffCorpus, 'image-tiff/images/minisblack-1c-8b.pgm')));
    expect(sameArray(get('image-tiff/images/minisblack-1c-8b.tiff').raw.data, pgm.data)).toBe(true);
    note('image-tiff/images/minisblack-1c-8b.tiff', 'identical to minisblack-1c-8b.pgm');
    const pbm = parseNetpbm(readFileSync(join(tiffCorpus, 'image-tiff/images/miniswhite-1c-1b.pbm')));
    expect(sameArray(get('image-tiff/images/miniswhite-1c-1b.tiff').raw.data, pbm.data)).toBe(true);
    note('image-tiff/images/miniswhite-1c-1b.tiff', 'identical to miniswhite-1c-1b.pbm');
  });

  it('decodes level 0 of boxes.tiff to boxes.png', () => {
    const png = decodePng(readFileSync(join(tiffCorpus, 'openslide-python/boxes.png')));
    const rgb = get('openslide-python/boxes.tiff').rgb;
    expect([rgb.width, rgb.height]).toEqual([png.width, png.height]);
    const pngRgb = new Uint8Array(png.width * png.height * 3);
    // boxes.png is a packed palette image: unpack the indices and look them up.
    const palette = png.palette ?? [];
    expect(palette.length).toBeGreaterThan(0);
    const perByte = 8 / png.depth;
    const rowBytes = Math.ceil(png.width / perByte);
    for (let y = 0; y < png.height; y++) {
      for (let x = 0; x < png.width; x++) {
        const byte = png.data[y * rowBytes + Math.floor(x / perByte)];
        const index = (byte >> (8 - png.depth * ((x % perByte) + 1))) & ((1 << png.depth) - 1);
        for (let c = 0; c < 3; c++) pngRgb[3 * (y * png.width + x) + c] = palette[index][c];
      }
    }
    expect(sameArray(rgb.data, pngRgb)).toBe(true);
    note('openslide-python/boxes.tiff', 'identical to boxes.png');
  });

  it('decodes identical pixels across each same-hash group of images/seq and the libtiff twins', () => {
    const groups = new Map<string, string[]>();
    for (const name of decoded.keys()) {
      const m = /^image-tiff\/images\/seq\/.*-([0-9a-f]{8})\.tiff$/.exec(name);
      if (m) groups.set(m[1], [...(groups.get(m[1]) ?? []), name]);
    }
    const twins = [
      ['image-tiff/images/bigtiff/BigTIFF.tif', 'image-tiff/images/bigtiff/BigTIFFLong.tif'],
      ['image-tiff/images/bigtiff/BigTIFF.tif', 'image-tiff/images/bigtiff/BigTIFFMotorola.tif'],
      ['image-tiff/libtiffpic/quad-lzw.tif', 'image-tiff/libtiffpic/quad-tile.tif'],
      ['image-tiff/libtiffpic/quad-lzw.tif', 'image-tiff/images/quad-lzw-compat.tiff'],
    ];
    let compared = 0;
    for (const members of [...groups.values(), ...twins]) {
      const [first, ...rest] = members;
      for (const other of rest) {
        // rgba vs unassociated rgba differ by definition (PIL agrees); compare their colour only.
        const a = get(first);
        const b = get(other);
        const same = first.includes('rgba')
          ? sameArray(a.rgb.data, b.rgb.data)
          : sameArray(a.values, b.values);
        expect(same, `${other} differs from ${first}`).toBe(true);
        note(other, `identical to ${first.split('/').pop()}`);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('decodes tiles stored under the strip tags like the PackBits strips (cramps)', () => {
    const strips = get('image-tiff/libtiffpic/cramps.tif').raw.data as TypedArray;
    const tiles = get('image-tiff/libtiffpic/cramps-tile.tif').raw.data as TypedArray;
    expect(sameArray(strips, tiles)).toBe(true);
    note('image-tiff/libtiffpic/cramps-tile.tif', 'identical to cramps.tif');
  });

  it('decodes lossy JPEG within a small tolerance of the lossless twin', () => {
    const lossless = get('image-tiff/libtiffpic/quad-lzw.tif').rgb.data;
    for (const name of ['image-tiff/libtiffpic/quad-jpeg.tif', 'image-tiff/images/quad-tile.jpg.tiff']) {
      const diff = meanAbsDiff(get(name).rgb.data, lossless);
      expect(diff, name).toBeLessThan(4);
      note(name, `JPEG, mean |diff| ${diff.toFixed(2)} vs quad-lzw.tif`);
    }
  });

  it('prints the conformance table', () => {
    for (const name of [...decoded.keys(), ...failures.keys()].sort()) {
      const d = decoded.get(name);
      const f = failures.get(name);
      const result = d
        ? (results.get(name) ?? 'decoded')
        : f instanceof TiffUnsupportedError
          ? `unsupported: ${f.feature}`
          : `error: ${f?.message.replace(/^[^:]*: /, '')}`;
      table.push({ file: name, form: d?.form ?? '', result });
    }
    const counts = { decoded: decoded.size, verified: results.size, unsupported: failures.size };
    console.log(
      [
        '| file | form | result |',
        '| --- | --- | --- |',
        ...table.map((r) => `| ${r.file} | ${r.form} | ${r.result} |`),
        '',
        `decoded ${counts.decoded}, of which verified against a reference ${counts.verified}; not decoded ${counts.unsupported}`,
      ].join('\n'),
    );
    expect(table.length).toBe(decoded.size + failures.size);
  });
});
