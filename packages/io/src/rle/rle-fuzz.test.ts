import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mask } from '../masks/mask.js';
import { rleDecode } from './rle-decode.js';
import { rleEncode } from './rle-encode.js';
import { RleError } from './rle-error.js';
import { parseRle } from './rle-parse.js';

describe('RLE parser properties (fast-check)', () => {
  it('never crashes or hangs on arbitrary text: it parses valid runs or throws RleError', () => {
    const token = fc.oneof(
      fc.nat({ max: 60 }).map(String),
      fc.constantFrom('-1', '0', '1.5', 'x', '+2', '', '  ', '\n', '1e3', '٣', '99999999999999999999'),
    );
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 12 }),
        fc.nat({ max: 8 }),
        fc.nat({ max: 8 }),
        (tokens, w, h) => {
          const text = tokens.join(' ');
          try {
            const runs = parseRle(text, { width: w, height: h, id: 'fuzz' });
            // Whatever was accepted is sorted, non-overlapping and inside the image.
            let end = 0;
            for (let r = 0; r < runs.count; r++) {
              expect(runs.starts[r]).toBeGreaterThanOrEqual(end);
              expect(runs.lengths[r]).toBeGreaterThan(0);
              end = runs.starts[r] + runs.lengths[r];
            }
            expect(end).toBeLessThanOrEqual(w * h);
          } catch (error) {
            expect(error).toBeInstanceOf(RleError);
            expect((error as RleError).message).toContain('"fuzz"');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('decode(encode(mask)) is the mask for random masks', () => {
    const maskArb = fc
      .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }))
      .chain(([w, h]) =>
        fc.tuple(
          fc.constant(w),
          fc.constant(h),
          fc.uint8Array({ minLength: w * h, maxLength: w * h, max: 1 }),
        ),
      );
    fc.assert(
      fc.property(maskArb, ([w, h, data]) => {
        const mask = new Mask(w, h, data);
        expect(rleDecode(rleEncode(mask), w, h).data).toEqual(data);
      }),
      { numRuns: 2000 },
    );
  });
});
