import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rasterizePolygons } from '../annotations/rasterize.js';
import { Mask } from './mask.js';
import { traceContours } from './trace-contours.js';

function retrace(mask: Mask, fillRule: 'evenodd' | 'nonzero'): Mask {
  const polygons = traceContours(mask).map((t) => t.rings);
  return rasterizePolygons(polygons, new Mask(mask.width, mask.height), { fillRule }) as Mask;
}

describe('contour tracing', () => {
  it('traces a square with a hole into an outer ring and a hole ring, corners only', () => {
    const mask = new Mask(5, 5);
    for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) mask.set(x, y, 1);
    mask.set(2, 2, 0);
    const [traced, ...rest] = traceContours(mask);
    expect(rest).toEqual([]);
    expect(traced.rings).toEqual([
      [
        [1, 1],
        [4, 1],
        [4, 4],
        [1, 4],
      ],
      [
        [2, 2],
        [2, 3],
        [3, 3],
        [3, 2],
      ],
    ]);
    expect(traced.component.area).toBe(8);
  });

  it('gives one polygon per 4-connected component, with scale and origin applied', () => {
    const mask = new Mask(3, 3, Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 0]));
    const traced = traceContours(mask, { scale: 0.5, originX: 100, originY: 10 });
    expect(traced.length).toBe(2);
    expect(traced[1].rings[0]).toEqual([
      [102, 12],
      [104, 12],
      [104, 14],
      [102, 14],
    ]);
    expect(traceContours(mask, { minArea: 2 })).toEqual([]);
  });

  it('rasterising the traced polygons gives back the mask exactly (random masks)', () => {
    const maskArb = fc
      .tuple(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 }))
      .chain(([w, h]) =>
        fc.uint8Array({ minLength: w * h, maxLength: w * h, max: 1 }).map((d) => new Mask(w, h, d)),
      );
    fc.assert(
      fc.property(maskArb, (mask) => {
        expect(retrace(mask, 'evenodd').data).toEqual(mask.data);
        expect(retrace(mask, 'nonzero').data).toEqual(mask.data);
        for (const { rings } of traceContours(mask)) {
          // The outer ring comes first and has positive area, holes negative.
          let area2 = 0;
          const ring = rings[0];
          for (let i = 0; i < ring.length; i++) {
            const [x0, y0] = ring[i];
            const [x1, y1] = ring[(i + 1) % ring.length];
            area2 += x0 * y1 - x1 * y0;
          }
          expect(area2).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
