import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  bytesToFloat32,
  bytesToNumbers,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  numbersToBytes,
} from './dtypes.js';
import { parseSafetensors, type SafetensorsEntry, serializeSafetensors } from './format.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

interface Expected {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; data: number[] }>;
}

/** Builds a file by hand from a header object and data bytes, for the malformed cases. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(), lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

describe('safetensors format', () => {
  it('reads a file written by PyTorch-side code, every dtype decoded as PyTorch holds it', () => {
    const bytes = new Uint8Array(readFileSync(fixture('tensors.safetensors')));
    const expected = JSON.parse(readFileSync(fixture('safetensors.json'), 'utf8')) as Expected;
    const file = parseSafetensors(bytes, 'tensors.safetensors');
    expect(file.metadata).toEqual(expected.metadata);
    expect(new Set(file.tensors.keys())).toEqual(new Set(Object.keys(expected.tensors)));
    for (const [name, want] of Object.entries(expected.tensors)) {
      const entry = file.tensors.get(name)!;
      expect(entry.dtype, name).toBe(want.dtype);
      expect(entry.shape, name).toEqual(want.shape);
      const isFloat = ['F32', 'F16', 'BF16', 'F64'].includes(want.dtype);
      const got = Array.from(
        isFloat ? bytesToFloat32(entry.data, entry.dtype) : bytesToNumbers(entry.data, entry.dtype),
      );
      const wantValues = want.dtype === 'F64' ? want.data.map(Math.fround) : want.data;
      expect(got, name).toEqual(wantValues);
    }
  });

  it('round-trips through serialize and parse, aligning every tensor', () => {
    const entries: Record<string, SafetensorsEntry> = {
      a: { dtype: 'F16', shape: [3], data: numbersToBytes([1, 2, 3], 'F16') },
      b: { dtype: 'F32', shape: [2, 2], data: numbersToBytes([1.5, -2, 3, 4], 'F32') },
      c: { dtype: 'I64', shape: [], data: numbersToBytes([-5], 'I64') },
      d: { dtype: 'U8', shape: [0], data: new Uint8Array() },
    };
    const bytes = serializeSafetensors(entries, { format: 'pt' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const [name, e] of Object.entries(entries)) {
      const got = file.tensors.get(name)!;
      expect(got.dtype).toBe(e.dtype);
      expect(got.shape).toEqual(e.shape);
      expect(Array.from(got.data)).toEqual(Array.from(e.data));
      expect((got.data.byteOffset - 8 - headerLength) % (e.dtype === 'I64' ? 8 : 1)).toBe(0);
    }
    expect(Array.from(bytesToNumbers(file.tensors.get('c')!.data, 'I64'))).toEqual([-5]);
  });

  it('converts half and bfloat16 with round-to-nearest-even', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds up to infinity
    expect(floatToHalf(2 ** -24)).toBe(1);
    expect(floatToHalf(2 ** -25)).toBe(0); // a tie rounds to even (zero)
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
    expect(floatToBfloat16(1)).toBe(0x3f80);
    expect(floatToBfloat16(1 + 2 ** -8)).toBe(0x3f80); // tie to even
    expect(floatToBfloat16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(Array.from(bytesToFloat32(numbersToBytes([3.140625, -0], 'BF16'), 'BF16'))).toEqual([
      3.140625, -0,
    ]);
  });

  it('refuses integers that do not fit the dtype, naming the tensor', () => {
    expect(() => numbersToBytes([300], 'U8', 'tensor "x"')).toThrow(/tensor "x": value 300 .* U8/);
    expect(() => numbersToBytes([1.5], 'I32', 'y')).toThrow(/y: value 1.5/);
  });

  describe('rejects malformed files with the file and key named', () => {
    const f32 = (n: number) => new Uint8Array(4 * n);
    const cases: [string, Uint8Array, RegExp][] = [
      ['too short', new Uint8Array(5), /bad\.safetensors: 5 bytes is too short/],
      [
        'header past the end',
        rawFile({}, new Uint8Array(), 1n << 40n),
        /header length 1099511627776 runs past the end/,
      ],
      ['huge header length', rawFile({}, new Uint8Array(), 0xffffffffffffffffn), /runs past the end/],
      ['not JSON', rawFile('{"a": '), /not valid UTF-8 JSON/],
      ['not an object', rawFile('[1, 2]'), /does not start with "\{"/],
      [
        'unknown dtype',
        rawFile({ w: { dtype: 'F128', shape: [1], data_offsets: [0, 4] } }, f32(1)),
        /tensor "w" has unknown dtype "F128"/,
      ],
      [
        'bad shape',
        rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)),
        /tensor "w" has invalid shape/,
      ],
      [
        'fractional shape',
        rawFile({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)),
        /invalid shape/,
      ],
      [
        'bad offsets',
        rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1)),
        /tensor "w" has invalid data_offsets/,
      ],
      [
        'reversed offsets',
        rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32(1)),
        /end before they begin/,
      ],
      [
        'offsets past the data',
        rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1)),
        /tensor "w" has data_offsets \[0, 8\] past the end of the data \(4 bytes\)/,
      ],
      [
        'shape/byte mismatch',
        rawFile({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 8] } }, f32(2)),
        /tensor "w" of dtype F32 and shape \[2,3\] needs 24 bytes but data_offsets hold 8/,
      ],
      [
        'overlap',
        rawFile(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          f32(3),
        ),
        /tensor "b" overlaps tensor "a"/,
      ],
      [
        'hole',
        rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)),
        /bytes 0\.\.4 of the data belong to no tensor/,
      ],
      [
        'trailing bytes',
        rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)),
        /bytes 4\.\.8 of the data belong to no tensor/,
      ],
      ['bad metadata', rawFile({ __metadata__: { a: 1 } }), /__metadata__ value "a" is not a string/],
      [
        'huge shape product',
        rawFile({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, f32(1)),
        /needs .* bytes but data_offsets hold 4/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      it(name, () => {
        expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(message);
        expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(/^bad\.safetensors: /);
      });
    }
  });
});
