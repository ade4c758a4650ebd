import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTYPE_BYTES, type SafetensorsDType } from './dtypes.js';
import { MAX_HEADER_BYTES, parseSafetensors, SafetensorsError, serializeSafetensors } from './format.js';

/**
 * The safetensors reader on generated files: valid files mutated (flipped bytes, cuts, rewritten
 * header fields) and headers written from scratch. Each either parses into entries that tile the data
 * exactly or throws SafetensorsError naming the source; never another exception, and never a view or
 * allocation larger than the file (the entries are views into the given bytes). Runs scale with
 * NEPHRON_FUZZ_SCALE like the io fuzz suites (`pnpm fuzz`).
 */

const scale = Number(process.env.NEPHRON_FUZZ_SCALE ?? 1);
const runs = (base: number) => ({ numRuns: Math.max(1, Math.round(base * (scale > 0 ? scale : 1))) });

const dtypes = Object.keys(DTYPE_BYTES) as SafetensorsDType[];
const entry = fc
  .record({ dtype: fc.constantFrom(...dtypes), shape: fc.array(fc.nat({ max: 4 }), { maxLength: 3 }) })
  .map(({ dtype, shape }) => {
    const count = shape.reduce((a, b) => a * b, 1);
    return { dtype, shape, data: Uint8Array.from({ length: count * DTYPE_BYTES[dtype] }, (_, i) => i & 255) };
  });
const validFile = fc
  .dictionary(
    fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '__metadata__'),
    entry,
    { maxKeys: 4 },
  )
  .map((tensors) => serializeSafetensors(tensors, { note: 'fuzz' }));

function check(bytes: Uint8Array): void {
  try {
    const file = parseSafetensors(bytes, 'fuzz.safetensors');
    let total = 0;
    for (const [, e] of file.tensors) {
      expect(e.data.buffer).toBe(bytes.buffer);
      expect(e.data.byteLength).toBe(e.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[e.dtype]);
      total += e.data.byteLength;
    }
    expect(total).toBeLessThanOrEqual(bytes.byteLength);
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    expect(error.message).toMatch(/^fuzz\.safetensors: /);
  }
}

describe('safetensors reader (fast-check)', () => {
  it('mutated valid files parse consistently or fail with SafetensorsError', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('length' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
      fc.record({
        kind: fc.constant('digit' as const),
        at: fc.nat(),
        digit: fc.constantFrom('0', '9', '-', '.', 'e', '"', '}'),
      }),
    );
    fc.assert(
      fc.property(validFile, fc.array(mutation, { maxLength: 3 }), (file, mutations) => {
        let bytes = file.slice();
        for (const m of mutations) {
          if (bytes.byteLength === 0) break;
          const at = 'at' in m ? m.at % bytes.byteLength : 0;
          if (m.kind === 'flip') bytes[at] ^= 1 << m.bit;
          else if (m.kind === 'cut') bytes = bytes.slice(0, at);
          else if (m.kind === 'length' && bytes.byteLength >= 8)
            new DataView(bytes.buffer).setBigUint64(0, m.value, true);
          else if (m.kind === 'digit') bytes[at] = m.digit.charCodeAt(0);
        }
        check(bytes);
      }),
      runs(3000),
    );
  });

  it('headers written from scratch (any offsets, shapes, dtypes) parse consistently or fail with SafetensorsError', () => {
    const info = fc.record(
      {
        dtype: fc.oneof(fc.constantFrom(...dtypes), fc.string({ maxLength: 4 })),
        shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 2 ** 40 }), { maxLength: 3 }), fc.anything()),
        data_offsets: fc.oneof(
          fc.tuple(fc.nat({ max: 64 }), fc.nat({ max: 64 })),
          fc.array(fc.double(), { maxLength: 3 }),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    );
    const header = fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(info, fc.anything()), { maxKeys: 4 });
    fc.assert(
      fc.property(header, fc.nat({ max: 64 }), (h, dataBytes) => {
        const json = new TextEncoder().encode(JSON.stringify(h));
        const bytes = new Uint8Array(8 + json.byteLength + dataBytes);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(json.byteLength), true);
        bytes.set(json, 8);
        check(bytes);
      }),
      runs(3000),
    );
  });

  it('a header length can never make the reader allocate: it is checked against the file and the cap first', () => {
    expect(MAX_HEADER_BYTES).toBeLessThanOrEqual(100_000_000);
    const bytes = new Uint8Array(1024);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(() => parseSafetensors(bytes, 'fuzz.safetensors')).toThrow(
      /runs past the end of the file \(1024 bytes\)/,
    );
  });
});
