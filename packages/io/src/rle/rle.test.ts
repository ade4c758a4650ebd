import { describe, expect, it } from 'vitest';
import { BitMask } from '../masks/bit-mask.js';
import { Mask } from '../masks/mask.js';
import { rleDecode, rleDecodeBits, rleDecodeRowBands } from './rle-decode.js';
import { RleEncoder, rleEncode, rleEncodeBands, rleRuns, rleText } from './rle-encode.js';
import { RleError } from './rle-error.js';
import { forEachRleRun, parseRle } from './rle-parse.js';

/** The textbook definition, written independently: transpose, flatten, find runs of ones. */
function referenceEncode(mask: Mask): string {
  const flat: number[] = [];
  for (let x = 0; x < mask.width; x++) for (let y = 0; y < mask.height; y++) flat.push(mask.get(x, y));
  const parts: number[] = [];
  for (let i = 0; i < flat.length; i++) {
    if (flat[i] === 1 && (i === 0 || flat[i - 1] === 0)) parts.push(i + 1);
    if (flat[i] === 1 && (i === flat.length - 1 || flat[i + 1] === 0))
      parts.push(i + 2 - parts[parts.length - 1]);
  }
  return parts.join(' ');
}

function randomMask(width: number, height: number, seed: number, density = 0.4): Mask {
  let s = seed >>> 0 || 1;
  const mask = new Mask(width, height);
  for (let i = 0; i < mask.data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    mask.data[i] = (s >>> 0) / 2 ** 32 < density ? 1 : 0;
  }
  return mask;
}

describe('Kaggle RLE', () => {
  it('numbers pixels down the columns, 1-based', () => {
    // 3 wide, 2 high:   1 0 1
    //                   1 1 0      column-major: 1 1 | 0 1 | 1 0  -> runs (1,2) at 1 and (5,1)
    const mask = new Mask(3, 2, Uint8Array.from([1, 0, 1, 1, 1, 0]));
    expect(rleEncode(mask)).toBe('1 2 4 2');
    expect([...rleDecode('1 2 4 2', 3, 2).data]).toEqual([1, 0, 1, 1, 1, 0]);
  });

  it('merges a run that wraps from the bottom of one column into the next', () => {
    const mask = new Mask(2, 3);
    mask.set(0, 2, 1);
    mask.set(1, 0, 1);
    expect(rleEncode(mask)).toBe('3 2');
    expect(rleEncode(new Mask(4, 4))).toBe('');
  });

  it('matches the reference encoder and round-trips on random masks of odd sizes', () => {
    for (const [w, h, seed, density] of [
      [1, 1, 1, 0.5],
      [31, 7, 2, 0.5],
      [32, 5, 3, 0.9],
      [33, 33, 4, 0.1],
      [70, 3, 5, 0.5],
      [5, 64, 6, 0.97],
    ] as const) {
      const mask = randomMask(w, h, seed, density);
      const text = rleEncode(mask);
      expect(text).toBe(referenceEncode(mask));
      expect(rleDecode(text, w, h).data).toEqual(mask.data);
      expect(rleEncode(rleDecodeBits(text, w, h))).toBe(text);
    }
    const full = new Mask(40, 3, new Uint8Array(120).fill(1));
    expect(rleEncode(full)).toBe('1 120');
  });

  it('encodes band by band the same as whole, and decodes back band by band', () => {
    const mask = randomMask(45, 50, 9, 0.3);
    const bands: Mask[] = [];
    for (let y0 = 0; y0 < 50; y0 += 7) {
      const h = Math.min(7, 50 - y0);
      bands.push(new Mask(45, h, mask.data.slice(y0 * 45, (y0 + h) * 45)));
    }
    const whole = rleEncode(mask);
    expect([...rleEncodeBands(45, 50, bands, 16)].join('')).toBe(whole);
    const rows: number[] = [];
    for (const band of rleDecodeRowBands(whole, 45, 50, 11)) {
      for (let y = 0; y < band.mask.height; y++) for (let x = 0; x < 45; x++) rows.push(band.mask.get(x, y));
    }
    expect(Uint8Array.from(rows)).toEqual(mask.data);
  });

  it('pieces of text concatenate to the whole encoding and parse back when split anywhere', () => {
    const mask = randomMask(20, 20, 11);
    const runs = rleRuns(mask);
    const pieces = [...rleText(runs, 10)];
    expect(pieces.length).toBeGreaterThan(3);
    const text = pieces.join('');
    // Split the text into one-character pieces: tokens straddle every boundary.
    expect(rleDecode([...text], 20, 20).data).toEqual(mask.data);
  });

  it('encodes a 45 000 x 35 000 slide mask from bands without holding the mask', () => {
    const width = 45_000;
    const height = 35_000;
    const bandHeight = 1024;
    // Discs on a grid, generated band by band, as a model's prediction would arrive.
    const discs: [number, number, number][] = [];
    for (let cy = 500; cy < height; cy += 2300)
      for (let cx = 700; cx < width; cx += 2900) discs.push([cx, cy, 150 + ((cx + cy) % 140)]);
    function* bands(): Generator<BitMask> {
      for (let y0 = 0; y0 < height; y0 += bandHeight) {
        const band = new BitMask(width, Math.min(bandHeight, height - y0));
        for (const [cx, cy, r] of discs) {
          for (let y = Math.max(y0, cy - r); y < Math.min(y0 + band.height, cy + r); y++) {
            const half = Math.sqrt(r * r - (y + 0.5 - cy) ** 2);
            band.fillRowSpan(y - y0, Math.ceil(cx - half - 0.5), Math.ceil(cx + half - 0.5));
          }
        }
        yield band;
      }
    }
    const before = process.memoryUsage();
    const encoder = new RleEncoder(width, height);
    let peak = 0;
    for (const band of bands()) {
      encoder.pushRows(band);
      const now = process.memoryUsage();
      peak = Math.max(peak, now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers);
    }
    const runs = encoder.finish();
    // Far below the 1.5 GB of a byte mask (and the 197 MB of a bit mask): only bands and runs are held.
    expect(peak).toBeLessThan(150e6);
    expect(runs.count).toBeGreaterThan(discs.length * 250);
    // Every disc contributes one run per column it covers; check the pixel total against a direct count.
    let pixels = 0;
    for (let r = 0; r < runs.count; r++) pixels += runs.lengths[r];
    let expected = 0;
    for (const band of bands()) expected += band.countOnes();
    expect(pixels).toBe(expected);
    // Decoding band by band gives back the very bands that were encoded.
    const text = [...rleText(runs)];
    const source = bands();
    let differing = 0;
    for (const band of rleDecodeRowBands(text, width, height, bandHeight)) {
      const original = (source.next().value as BitMask).words;
      for (let i = 0; i < original.length; i++) if (band.mask.words[i] !== original[i]) differing++;
    }
    expect(differing).toBe(0);
  });
});

describe('RLE errors quote the image id and the token', () => {
  const cases: [string, RegExp, number][] = [
    ['1 2 3', /token 3 at character 5 \("3"\): a start without a length/, 3],
    ['1 2 x7 4', /token 3 at character 5 \("x7"\): not a number/, 3],
    ['1 2 5 1.5', /token 4 at character 7 \("1.5"\): not a number/, 4],
    ['1 2 5 0', /token 4 at character 7 \("0"\): length must be a positive integer/, 4],
    ['1 2 5 -3', /token 4 at character 7 \("-3"\): length must be a positive integer/, 4],
    ['0 2', /token 1 at character 1 \("0"\): start must be at least 1/, 1],
    ['5 3 6 1', /token 3 at character 5 \("6"\): runs overlap/, 3],
    ['5 3 2 1', /token 3 at character 5 \("2"\): runs are not sorted/, 3],
    ['10 4', /token 2 at character 4 \("4"\): run 10..13 goes past the last pixel 12 of a 4 x 3 mask/, 2],
    ['13 1', /token 1 at character 1 \("13"\): start is past the last pixel 12/, 1],
    ['99999999999999999999999 1', /start is past the last pixel/, 1],
  ];
  for (const [text, message, token] of cases) {
    it(`rejects "${text}"`, () => {
      let caught: unknown;
      try {
        parseRle(text, { width: 4, height: 3, id: 'abc123' });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RleError);
      const error = caught as RleError;
      expect(error.message).toMatch(/^RLE of image "abc123": /);
      expect(error.message).toMatch(message);
      expect(error.tokenIndex).toBe(token);
      expect(error.imageId).toBe('abc123');
    });
  }

  it('accepts runs that touch, extra whitespace and an empty encoding', () => {
    const seen: number[] = [];
    forEachRleRun('  1 2\t3 1\n', { width: 4, height: 3 }, (s, l) => seen.push(s, l));
    expect(seen).toEqual([0, 2, 2, 1]);
    expect(parseRle('', { width: 4, height: 3 }).count).toBe(0);
  });

  it('quotes a bad token that straddles two pieces of text', () => {
    expect(() => parseRle(['1 2 1', '2x 4'], { width: 9, height: 9, id: 'q' })).toThrow(
      /token 3 at character 5 \("12x"\)/,
    );
  });
});
