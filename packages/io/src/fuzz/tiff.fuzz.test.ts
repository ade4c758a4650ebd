import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasTiffCorpus, tiffCorpus, withTimeout } from '../tiff/corpus.js';
import { MAX_BLOCK_BYTES } from '../tiff/ifd-check.js';
import { bytesSource } from '../tiff/range-source.js';
import { openTiff } from '../tiff/tiff-file.js';
import { readWindow } from '../tiff/window.js';
import { fuzzParameters } from './fuzz-runs.js';
import { tinyTiff } from './tiny-tiff.js';

/**
 * The TIFF header walk on mutated real files: flipped bytes, words replaced by boundary values, cuts at
 * any offset. Each mutant must open and read a corner, or fail with an Error whose message names the
 * source; never crash with something else, hang (each case has a time limit), or hold on to memory far
 * beyond its size.
 */

const seeds: { name: string; bytes: Uint8Array }[] = [
  { name: 'tiny-striped', bytes: tinyTiff([{ width: 40, height: 30, samples: 3 }]).bytes },
  {
    name: 'tiny-tiled',
    bytes: tinyTiff([
      { width: 64, height: 48, tile: 16 },
      { width: 32, height: 24 },
    ]).bytes,
  },
];
if (hasTiffCorpus) {
  for (const path of [
    'image-tiff/images/tiled-gray-i1.tif',
    'image-tiff/images/issue_69_lzw.tiff',
    'image-tiff/images/random-fp16-pred2.tiff',
    'image-tiff/images/gradient-1c-32b.tiff',
    'image-tiff/images/palette-1c-1b.tiff',
  ]) {
    seeds.push({ name: path, bytes: new Uint8Array(readFileSync(join(tiffCorpus, path))) });
  }
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'word'; at: number; value: number }
  | { kind: 'cut'; at: number };

const boundary = fc.constantFrom(0, 1, 2, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff, 8, 16);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('word' as const), at: fc.nat(), value: fc.oneof(boundary, fc.nat()) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    if (out.byteLength === 0) break;
    const at = m.at % out.byteLength;
    if (m.kind === 'flip') out[at] ^= 1 << m.bit;
    else if (m.kind === 'word' && at + 4 <= out.byteLength)
      new DataView(out.buffer).setUint32(at, m.value >>> 0, true);
    else if (m.kind === 'cut') out = out.slice(0, at);
  }
  return out;
}

async function openAndRead(bytes: Uint8Array, name: string): Promise<void> {
  const file = await openTiff(bytesSource(bytes, name));
  try {
    for (const page of file.pages) {
      // What the walk guarantees: every block table fits in the file and no block decodes past the cap.
      const blocks = Math.ceil(page.width / page.blockWidth) * Math.ceil(page.height / page.blockHeight);
      expect(blocks * 2).toBeLessThanOrEqual(bytes.byteLength);
      const bits = page.bitsPerSample.reduce((a, b) => a + b, 0);
      expect(Math.ceil((page.blockWidth * bits) / 8) * page.blockHeight).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
    }
    const page = file.levels[0];
    await readWindow(name, page, {
      x: 0,
      y: 0,
      width: Math.min(page.width, 32),
      height: Math.min(page.height, 32),
    });
  } finally {
    await file.close();
  }
}

describe('TIFF header walk under mutation (fast-check)', () => {
  it.each(seeds)(
    '$name: mutants open or fail with a named error, quickly and without large allocations',
    async ({ name, bytes }) => {
      let accepted = 0;
      let rejected = 0;
      const baseline = process.memoryUsage().arrayBuffers;
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
          const mutant = mutate(bytes, mutations);
          const label = `mutant-of-${name}`;
          try {
            await withTimeout(openAndRead(mutant, label), 5_000, label);
            accepted++;
          } catch (error) {
            if (!(error instanceof Error)) throw new Error(`threw a non-Error: ${String(error)}`);
            if (error.message.includes('timed out')) throw error;
            // A broken expectation above is a finding, not a rejection of the file.
            if (error.name === 'AssertionError') throw error;
            expect(error.message.startsWith(`${label}: `), error.message).toBe(true);
            rejected++;
          }
          // Memory still held after a case: a few MB of pages and caches, never the gigabytes a hostile count asks for.
          expect(process.memoryUsage().arrayBuffers - baseline).toBeLessThan(256 * 1024 * 1024);
        }),
        fuzzParameters(150),
      );
      expect(accepted + rejected).toBeGreaterThan(0);
    },
  );
});
