import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asciiTag, type TinyPage, type TinyTag, tinyTiff } from '../fuzz/tiny-tiff.js';
import { hasTiffCorpus, tiffCorpus } from './corpus.js';
import { inspectTiff } from './inspect.js';
import { openTiffFile } from './open-file.js';
import { bytesSource } from './range-source.js';
import { readRegion } from './region.js';
import { type OpenTiffOptions, openTiff } from './tiff-file.js';
import { readWindow, readWindowRgb } from './window.js';

/**
 * Slides stored as three single-sample pages, R, G and B (some HuBMAP Kaggle files), are
 * read as one RGB image; genuine multi-page grey files are not.
 */

const width = 40;
const height = 24;

/** A test image whose three channels all differ, so a swapped or repeated plane shows. */
function pixel(x: number, y: number): [number, number, number] {
  return [(x * 5 + y) & 255, (x * y + 3) & 255, (250 - x * 3 - y * 7) & 255];
}

function image(w: number, h: number, at = pixel): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set(at(x, y), 3 * (y * w + x));
  return out;
}

/** Channel `c` of `rgb` as TIFF block bytes: one strip, or `tile`² tiles row by row, padded. */
function planeBytes(rgb: Uint8Array, w: number, h: number, c: number, tile?: number): Uint8Array {
  if (tile === undefined) return Uint8Array.from({ length: w * h }, (_, i) => rgb[3 * i + c]);
  const across = Math.ceil(w / tile);
  const down = Math.ceil(h / tile);
  const out = new Uint8Array(across * down * tile * tile);
  for (let ty = 0; ty < down; ty++) {
    for (let tx = 0; tx < across; tx++) {
      for (let y = 0; y < tile; y++) {
        for (let x = 0; x < tile; x++) {
          const [sx, sy] = [tx * tile + x, ty * tile + y];
          if (sx < w && sy < h)
            out[(ty * across + tx) * tile * tile + y * tile + x] = rgb[3 * (sy * w + sx) + c];
        }
      }
    }
  }
  return out;
}

/** Three single-sample pages holding R, G, B of `rgb`; `extra(c)` adds tags to plane c. */
function planePages(
  rgb: Uint8Array,
  w: number,
  h: number,
  options: { tile?: number; extra?: (c: number) => TinyTag[]; sub?: (c: number) => TinyPage[] } = {},
): TinyPage[] {
  return [0, 1, 2].map((c) => ({
    width: w,
    height: h,
    tile: options.tile,
    data: planeBytes(rgb, w, h, c, options.tile),
    extraTags: options.extra?.(c),
    subIfds: options.sub?.(c),
  }));
}

function open(pages: TinyPage[], options: OpenTiffOptions = {}, name = 'kaggle.tiff') {
  return openTiff(bytesSource(tinyTiff(pages).bytes, name), options);
}

const description = (text: string) => (c: number) => (c === 0 ? [asciiTag(270, text)] : []);
const whole = { x: 0, y: 0, width, height };
const rgb = image(width, height);

describe('colour planes stored as pages', () => {
  it('merges three grey pages into the RGB image they hold', async () => {
    const file = await open(planePages(rgb, width, height));
    expect(file.channels).toBe('pages');
    expect(file.pages.map((p) => p.id)).toEqual(['0', '1', '2']);
    expect(file.levels).toHaveLength(1);
    const level = file.levels[0];
    expect(level).toMatchObject({ id: '0+1+2', width, height, samplesPerPixel: 3, photometric: 2 });
    expect((await readWindowRgb(file.name, level, whole)).data).toEqual(rgb);
    const raw = await readWindow(file.name, level, whole);
    expect(raw.channels).toBe(3);
    expect(Array.from(raw.data)).toEqual(Array.from(rgb));
    // A region past the right edge: padded with the fill value.
    const region = await readRegion(file, { x: 30, y: 5, width: 20, height: 4, fill: 9 });
    expect(Array.from(region.data.subarray(0, 3))).toEqual(pixel(30, 5));
    expect(Array.from(region.data.subarray(3 * 10, 3 * 11))).toEqual([9, 9, 9]);
    await file.close();
  });

  it('merges tiled planes with sub-IFD pyramids level by level', async () => {
    const halfWidth = width / 2;
    const halfHeight = height / 2;
    const half = image(halfWidth, halfHeight, (x, y) => pixel(2 * x, 2 * y));
    const sub = (c: number): TinyPage[] => [
      {
        width: halfWidth,
        height: halfHeight,
        tile: 16,
        data: planeBytes(half, halfWidth, halfHeight, c, 16),
        extraTags: [{ tag: 254, type: 4, values: [1] }],
      },
    ];
    const file = await open(planePages(rgb, width, height, { tile: 16, sub }));
    expect(file.channels).toBe('pages');
    expect(file.levels.map((l) => l.id)).toEqual(['0+1+2', '0.0+1.0+2.0']);
    expect((await readWindowRgb(file.name, file.levels[0], whole)).data).toEqual(rgb);
    const reduced = await readRegion(file, { x: 0, y: 0, width, height, level: 1 });
    expect(reduced.data).toEqual(half);
    expect((await readRegion(file, { x: 0, y: 0, width, height, scale: 0.5 })).level).toBe(1);
    await file.close();
  });

  it('merges when the description agrees: tifffile shape, ImageJ and OME-XML with three channels', async () => {
    const agreeing = [
      `{"shape": [1, 1, 3, ${height}, ${width}]}`,
      'ImageJ=1.53t\nimages=3\nchannels=3\nslices=1\nframes=1\n',
      '<?xml version="1.0"?><OME><Image ID="Image:0"><Pixels DimensionOrder="XYCZT" SizeC="3" SizeT="1" SizeX="40" SizeY="24" SizeZ="1" Type="uint8"/></Image></OME>',
    ];
    for (const text of agreeing) {
      const file = await open(planePages(rgb, width, height, { extra: description(text) }));
      expect(file.channels, text).toBe('pages');
      expect((await readWindowRgb(file.name, file.levels[0], whole)).data).toEqual(rgb);
      await file.close();
    }
  });

  it('inspectTiff reports the merged level and its planes', async () => {
    const info = await inspectTiff(bytesSource(tinyTiff(planePages(rgb, width, height)).bytes, 'k.tiff'));
    expect(info.channels).toBe('pages');
    expect(info.pages).toHaveLength(3);
    expect(info.levels).toEqual([
      { level: 0, page: '0+1+2', width, height, downsample: 1, planes: ['0', '1', '2'] },
    ]);
  });
});

describe('grey pages that are not colour planes', () => {
  const refused: [string, TinyPage[]][] = [
    [
      'an ImageJ z-series',
      planePages(rgb, width, height, { extra: description('ImageJ=1.53t\nimages=3\nslices=3\n') }),
    ],
    [
      'an OME-XML z-series',
      planePages(rgb, width, height, {
        extra: description(
          '<OME><Image><Pixels SizeC="1" SizeZ="3" SizeT="1" SizeX="40" SizeY="24"/></Image></OME>',
        ),
      }),
    ],
    [
      'a tifffile (3, 1, H, W) stack',
      planePages(rgb, width, height, { extra: description('{"shape": [3, 1, 24, 40]}') }),
    ],
    [
      'pages of a document (PageNumber)',
      planePages(rgb, width, height, { extra: (c) => [{ tag: 297, type: 3, values: [c, 3] }] }),
    ],
    [
      'pages of a document (NewSubfileType 2)',
      planePages(rgb, width, height, { extra: () => [{ tag: 254, type: 4, values: [2] }] }),
    ],
    ['16-bit pages', [0, 1, 2].map(() => ({ width, height, bits: 16 }))],
    [
      'pages of different sizes',
      [
        { width, height },
        { width, height },
        { width, height: height - 1 },
      ],
    ],
    ['six equal pages (a series)', [...planePages(rgb, width, height), ...planePages(rgb, width, height)]],
    ['three planes and a colour page', [...planePages(rgb, width, height), { width, height, samples: 3 }]],
  ];
  for (const [what, pages] of refused) {
    it(`'auto' keeps ${what} as grey pages`, async () => {
      const file = await open(pages);
      expect(file.channels).toBe('samples');
      expect(file.levels[0].id).toBe('0');
      expect(file.levels[0].planes).toBeUndefined();
      await file.close();
    });
  }

  it("'samples' refuses to merge, 'pages' forces it", async () => {
    const grey = await open(planePages(rgb, width, height), { channels: 'samples' });
    expect(grey.channels).toBe('samples');
    expect(grey.levels[0]).toMatchObject({ id: '0', samplesPerPixel: 1 });
    const red = (await readWindowRgb(grey.name, grey.levels[0], whole)).data;
    expect(red[3 * 7]).toBe(pixel(7, 0)[0]);
    expect(red[3 * 7 + 1]).toBe(pixel(7, 0)[0]);
    await grey.close();
    const documentPages = planePages(rgb, width, height, {
      extra: (c) => [{ tag: 297, type: 3, values: [c, 3] }],
    });
    const forced = await open(documentPages, { channels: 'pages' });
    expect(forced.channels).toBe('pages');
    expect((await readWindowRgb(forced.name, forced.levels[0], whole)).data).toEqual(rgb);
    await forced.close();
  });

  it("'pages' on a file whose pages do not fit names the file and the reason", async () => {
    await expect(
      open(
        [
          { width, height },
          { width, height },
        ],
        { channels: 'pages' },
        'two.tiff',
      ),
    ).rejects.toThrow(
      /two\.tiff: cannot read the pages as R, G, B planes .*2 top-level pages is not a multiple of 3/,
    );
    await expect(
      open(
        [
          { width, height },
          { width, height, samples: 3 },
          { width, height },
        ],
        { channels: 'pages' },
        'rgb.tiff',
      ),
    ).rejects.toThrow(/rgb\.tiff: .*not all single-sample/);
    await expect(open(planePages(rgb, width, height), { channels: 'planes' as never })).rejects.toThrow(
      /kaggle\.tiff: channels must be 'samples', 'pages' or 'auto'/,
    );
  });
});

describe.skipIf(!hasTiffCorpus)(
  'corpus multi-page grey files (skipped: ../shared/data/tiff-corpus absent)',
  () => {
    const multipage = join(tiffCorpus, 'image-tiff/images/seq/seq-1c-8b-multipage-adeefdcc.tiff');
    const zSeries = join(tiffCorpus, 'libvips/multi-channel-z-series.ome.tif');

    it('are not merged in auto', async () => {
      for (const path of [multipage, zSeries]) {
        const file = await openTiffFile(path);
        expect(file.channels, path).toBe('samples');
        expect(file.levels[0]).toMatchObject({ id: '0', samplesPerPixel: 1 });
        await file.close();
      }
    });

    it("the three-page file merges when asked ('pages'), each plane one of its pages", async () => {
      const file = await openTiffFile(multipage, { channels: 'pages' });
      const level = file.levels[0];
      const merged = await readWindow(file.name, level, {
        x: 0,
        y: 0,
        width: level.width,
        height: level.height,
      });
      for (const [c, page] of file.pages.entries()) {
        const plane = await readWindow(file.name, page, {
          x: 0,
          y: 0,
          width: page.width,
          height: page.height,
        });
        expect(Array.from(merged.data).filter((_, i) => i % 3 === c)).toEqual(Array.from(plane.data));
      }
      await file.close();
    });
  },
);
