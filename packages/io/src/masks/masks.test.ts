import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitMask } from './bit-mask.js';
import { connectedComponents, labelImage } from './components.js';
import { Mask } from './mask.js';
import { cropMask, maskCoverage, resizeMaskArea, resizeMaskNearest, scaleMask } from './resize.js';

const maskArb = fc
  .tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 12 }))
  .chain(([w, h]) =>
    fc.uint8Array({ minLength: w * h, maxLength: w * h, max: 1 }).map((d) => new Mask(w, h, d)),
  );

/** Flood fill from every unlabelled pixel: the slow, obvious definition of 4-connected components. */
function floodLabels(mask: Mask): Int32Array {
  const { width, height, data } = mask;
  const labels = new Int32Array(width * height);
  let next = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0 || labels[i] !== 0) continue;
    labels[i] = ++next;
    const stack = [i];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const x = p % width;
      const neighbours = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width];
      for (const q of neighbours) {
        if (q >= 0 && q < data.length && data[q] === 1 && labels[q] === 0) {
          labels[q] = next;
          stack.push(q);
        }
      }
    }
  }
  return labels;
}

describe('Mask and BitMask', () => {
  it('agree on pixels, runs, packed rows and counts', () => {
    fc.assert(
      fc.property(maskArb, (mask) => {
        const bits = BitMask.from(mask);
        const runsA = new Int32Array(mask.width + 1);
        const runsB = new Int32Array(mask.width + 1);
        for (let y = 0; y < mask.height; y++) {
          const n = mask.rowRuns(y, runsA);
          expect(bits.rowRuns(y, runsB)).toBe(n);
          expect(runsB.subarray(0, 2 * n)).toEqual(runsA.subarray(0, 2 * n));
        }
        expect(bits.countOnes()).toBe(mask.countOnes());
        expect(Mask.from(bits).data).toEqual(mask.data);
      }),
      { numRuns: 300 },
    );
  });

  it('fills spans across word boundaries', () => {
    const bits = new BitMask(100, 2);
    bits.fillRowSpan(1, 30, 97);
    bits.fillRowSpan(0, 31, 32);
    expect(bits.countOnes()).toBe(68);
    expect([bits.get(29, 1), bits.get(30, 1), bits.get(96, 1), bits.get(97, 1), bits.get(31, 0)]).toEqual([
      0, 1, 1, 0, 1,
    ]);
    const runs = new Int32Array(101);
    expect(bits.rowRuns(1, runs)).toBe(1);
    expect([runs[0], runs[1]]).toEqual([30, 97]);
    const full = new BitMask(64, 1);
    full.fillRowSpan(0, 0, 64);
    expect(full.rowRuns(0, runs)).toBe(1);
    expect([runs[0], runs[1]]).toEqual([0, 64]);
  });

  it('rejects data of the wrong size', () => {
    expect(() => new Mask(3, 3, new Uint8Array(8))).toThrow(/data has 8 values, a 3 x 3 mask needs 9/);
    expect(() => new BitMask(-1, 3)).toThrow(/non-negative integers/);
  });
});

describe('connected components', () => {
  it('match flood fill (4-connected), with areas and boxes', () => {
    fc.assert(
      fc.property(maskArb, (mask) => {
        const result = connectedComponents(mask);
        const got = labelImage(result);
        const want = floodLabels(mask);
        // Both number components in order of first pixel in raster order, so the labels must be equal.
        expect(got).toEqual(want);
        for (const c of result.components) {
          let area = 0;
          let minX = Infinity;
          let maxX = -1;
          let minY = Infinity;
          let maxY = -1;
          want.forEach((l, i) => {
            if (l !== c.label) return;
            area++;
            const x = i % mask.width;
            const y = Math.floor(i / mask.width);
            minX = Math.min(minX, x);
            maxX = Math.max(maxX, x);
            minY = Math.min(minY, y);
            maxY = Math.max(maxY, y);
          });
          expect([c.area, c.x, c.y, c.width, c.height]).toEqual([
            area,
            minX,
            minY,
            maxX - minX + 1,
            maxY - minY + 1,
          ]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps diagonal neighbours apart and joins a U shape', () => {
    const diagonal = new Mask(2, 2, Uint8Array.from([1, 0, 0, 1]));
    expect(connectedComponents(diagonal).components.length).toBe(2);
    const u = new Mask(3, 2, Uint8Array.from([1, 0, 1, 1, 1, 1]));
    expect(connectedComponents(u).components).toEqual([
      { label: 1, area: 5, x: 0, y: 0, width: 3, height: 2 },
    ]);
  });
});

describe('crop and resize', () => {
  const mask = new Mask(4, 4, Uint8Array.from([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1]));

  it('crops with zero padding outside', () => {
    expect([...cropMask(mask, 1, -1, 3, 3).data]).toEqual([0, 0, 0, 1, 0, 0, 1, 0, 0]);
    expect([...cropMask(BitMask.from(mask), 2, 2, 2, 2).data]).toEqual([0, 1, 1, 1]);
  });

  it('downscales by nearest and by area', () => {
    expect([...resizeMaskNearest(mask, 2, 2).data]).toEqual([1, 0, 0, 1]);
    expect([...maskCoverage(mask, 2, 2)]).toEqual([1, 0, 0, 0.75]);
    expect([...resizeMaskArea(mask, 2, 2).data]).toEqual([1, 0, 0, 1]);
    // A factor of 4/3: the middle output pixel straddles source pixels and gets fractional weights.
    const coverage = maskCoverage(mask, 3, 1);
    expect(coverage[0]).toBeCloseTo(((1 + 1 / 3) * 2) / (4 * (4 / 3)), 6);
    expect(scaleMask(mask, 0.5, 'nearest').width).toBe(2);
    expect(scaleMask(mask, 2, 'area').data.length).toBe(64);
  });

  it('area resize preserves the number of set pixels in total', () => {
    fc.assert(
      fc.property(maskArb, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), (m, w, h) => {
        const coverage = maskCoverage(m, w, h);
        let sum = 0;
        for (const v of coverage) sum += v;
        expect(sum * ((m.width / w) * (m.height / h))).toBeCloseTo(m.countOnes(), 4);
      }),
      { numRuns: 200 },
    );
  });
});
