import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, type Tensor } from '@nephron/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BadInputRow, docSection } from '../../../../docs/bad-input-table.js';
import { Sequential } from '../layers/container.js';
import { Linear } from '../layers/linear.js';
import { loadSafetensorsFile } from './node.js';

/**
 * Broken safetensors files, read from disk and uploaded as a checkpoint is; then well-formed files whose
 * tensors do not fit the model, through Module.loadStateDict.
 */

interface FileCase extends BadInputRow {
  bytes: () => Uint8Array;
}

const dir = mkdtempSync(join(tmpdir(), 'nephron-bad-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await init();
});

/** A file from a header object (or raw header text) and data bytes; `length` overrides the length field. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), length?: bigint): Uint8Array {
  const json =
    typeof header === 'string'
      ? new TextEncoder().encode(header)
      : new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

const f32 = (n: number) => new Uint8Array(new Float32Array(n).fill(0.5).buffer);
const t = (dtype: string, shape: number[], begin: number, end: number) => ({
  dtype,
  shape,
  data_offsets: [begin, end],
});

const fileCases: FileCase[] = [
  {
    name: 'too short',
    input: '5 bytes',
    bytes: () => new Uint8Array(5),
    expected: ['5 bytes is too short for the 8-byte header length'],
  },
  {
    name: 'header length past the end',
    input: 'length field 4096 in a 40-byte file',
    bytes: () => file({ a: t('F32', [2], 0, 8) }, f32(2), 4096n),
    expected: ['header length 4096 runs past the end of the file'],
  },
  {
    name: 'header length 2^64-1',
    input: 'length field 0xffffffffffffffff',
    bytes: () => file({}, f32(2), 0xffffffffffffffffn),
    expected: ['header length 18446744073709551615 runs past the end of the file'],
  },
  {
    name: 'header not JSON',
    input: '`{"a": [`',
    bytes: () => file('{"a": ['),
    expected: ['header is not valid UTF-8 JSON'],
  },
  {
    name: 'header not UTF-8',
    input: 'bytes 0xff 0xfe inside the header',
    bytes: () => file('{"\xff\xfe": 1}'.replace(/[\xff\xfe]/g, '?')).map((b, i) => (i === 10 ? 0xff : b)),
    expected: ['header is not valid UTF-8 JSON'],
  },
  {
    name: 'header a JSON array',
    input: '`[1, 2]`',
    bytes: () => file('[1, 2]'),
    expected: ['header does not start with "{"'],
  },
  {
    name: 'unknown dtype',
    input: 'dtype "F128"',
    bytes: () => file({ w: t('F128', [2], 0, 8) }, f32(2)),
    expected: ['tensor "w" has unknown dtype "F128"'],
  },
  {
    name: 'negative dimension',
    input: 'shape [-2]',
    bytes: () => file({ w: t('F32', [-2], 0, 8) }, f32(2)),
    expected: ['tensor "w" has invalid shape [-2]'],
  },
  {
    name: 'shape/byte mismatch',
    input: 'F32 [3] over 8 bytes',
    bytes: () => file({ w: t('F32', [3], 0, 8) }, f32(2)),
    expected: ['tensor "w" of dtype F32 and shape [3] needs 12 bytes but data_offsets hold 8'],
  },
  {
    name: 'offsets reversed',
    input: 'data_offsets [8, 0]',
    bytes: () => file({ w: t('F32', [2], 8, 0) }, f32(2)),
    expected: ['tensor "w" has data_offsets [8, 0] that end before they begin'],
  },
  {
    name: 'offsets out of range',
    input: 'data_offsets [0, 4000] over 8 bytes of data',
    bytes: () => file({ w: t('F32', [1000], 0, 4000) }, f32(2)),
    expected: ['tensor "w" has data_offsets [0, 4000] past the end of the data (8 bytes)'],
  },
  {
    name: 'offsets not integers',
    input: 'data_offsets [0, "8"]',
    bytes: () => file({ w: { dtype: 'F32', shape: [2], data_offsets: [0, '8'] } }, f32(2)),
    expected: ['tensor "w" has invalid data_offsets [0,"8"]'],
  },
  {
    name: 'overlapping offsets',
    input: 'a [0, 8] and b [4, 12]',
    bytes: () => file({ a: t('F32', [2], 0, 8), b: t('F32', [2], 4, 12) }, f32(3)),
    expected: ['tensor "b" overlaps tensor "a"'],
  },
  {
    name: 'hole in the data',
    input: 'a [0, 4] and b [8, 12]',
    bytes: () => file({ a: t('F32', [1], 0, 4), b: t('F32', [1], 8, 12) }, f32(3)),
    expected: ['bytes 4..8 of the data belong to no tensor'],
  },
  {
    name: 'trailing bytes',
    input: '4 bytes after the last tensor',
    bytes: () => file({ a: t('F32', [1], 0, 4) }, f32(2)),
    expected: ['bytes 4..8 of the data belong to no tensor'],
  },
  {
    name: 'metadata not strings',
    input: '`__metadata__: {"epoch": 3}`',
    bytes: () => file({ __metadata__: { epoch: 3 } }),
    expected: ['__metadata__ value "epoch" is not a string'],
  },
  {
    name: 'I64 value past int32',
    input: 'I64 tensor holding 2^40',
    bytes: () => {
      const data = new Uint8Array(8);
      new DataView(data.buffer).setBigInt64(0, 2n ** 40n, true);
      return file({ steps: t('I64', [1], 0, 8) }, data);
    },
    expected: ['tensor "steps"', 'I64 value 1099511627776 at element 0 does not fit int32'],
  },
  {
    name: 'F8 tensor',
    input: 'dtype F8_E4M3',
    bytes: () => file({ w: t('F8_E4M3', [4], 0, 4) }, new Uint8Array(4)),
    expected: ['tensor "w"', 'F8_E4M3 tensors cannot be loaded'],
  },
];

/** A two-layer model: keys 0.weight [3, 2], 0.bias [3], 1.weight [1, 3], 1.bias [1]. */
const model = () => new Sequential([new Linear(2, 3), new Linear(3, 1)]);
const goodTensors = {
  '0.weight': t('F32', [3, 2], 0, 24),
  '0.bias': t('F32', [3], 24, 36),
  '1.weight': t('F32', [1, 3], 36, 48),
  '1.bias': t('F32', [1], 48, 52),
};

interface StateCase extends BadInputRow {
  header: Record<string, unknown>;
  dataBytes: number;
}

const { '1.bias': _dropped, ...withoutBias } = goodTensors;
const stateCases: StateCase[] = [
  {
    name: 'missing key',
    input: 'no "1.bias"',
    header: withoutBias,
    dataBytes: 48,
    expected: ['missing keys: 1.bias'],
  },
  {
    name: 'extra key',
    input: 'an added "2.weight"',
    header: { ...goodTensors, '2.weight': t('F32', [1], 52, 56) },
    dataBytes: 56,
    expected: ['unexpected keys: 2.weight'],
  },
  {
    name: 'wrongly shaped tensor',
    input: '"0.weight" [2, 3] for [3, 2]',
    header: { ...goodTensors, '0.weight': t('F32', [2, 3], 0, 24) },
    dataBytes: 52,
    expected: ['size mismatch for 0.weight: checkpoint has [2,3], model has [3,2]'],
  },
  {
    name: 'integer tensor for a float parameter',
    input: '"1.bias" as I32',
    header: { ...goodTensors, '1.bias': t('I32', [1], 48, 52) },
    dataBytes: 52,
    expected: ['dtype mismatch for 1.bias: checkpoint has int32, model has float32'],
  },
];

describe('bad safetensors input', () => {
  it.each(fileCases)('$name: $input', async (c) => {
    const path = join(dir, `${c.name.replace(/[^a-z0-9]+/gi, '-')}.safetensors`);
    writeFileSync(path, c.bytes());
    const error = await loadSafetensorsFile(path).then(
      ({ tensors }) => {
        for (const x of tensors.values()) x.dispose();
      },
      (e: Error) => e,
    );
    expect(error, 'the file was accepted').toBeInstanceOf(Error);
    expect(error!.message.startsWith(`${path}: `), error!.message).toBe(true);
    for (const part of c.expected) expect(error!.message).toContain(part);
  });

  it.each(stateCases)('loadStateDict, $name: $input', async (c) => {
    const path = join(dir, `state-${c.name.replace(/[^a-z0-9]+/gi, '-')}.safetensors`);
    writeFileSync(path, file(c.header, f32(c.dataBytes / 4)));
    const { tensors } = await loadSafetensorsFile(path);
    const m = model();
    const before = await m.stateDict().get('0.weight')!.toArray();
    let message = '';
    try {
      m.loadStateDict(tensors as Map<string, Tensor>);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^Sequential\.loadStateDict: 1 problem/);
    for (const part of c.expected) expect(message).toContain(part);
    // Nothing was copied: the model is as it was.
    expect(await m.stateDict().get('0.weight')!.toArray()).toEqual(before);
    for (const x of tensors.values()) x.dispose();
    m.dispose();
  });

  it('a missing file is named', async () => {
    await expect(loadSafetensorsFile(join(dir, 'absent.safetensors'))).rejects.toThrow(/absent\.safetensors/);
  });

  it('docs/bad-input.md lists exactly these cases', () => {
    const rows = [...fileCases, ...stateCases.map((c) => ({ ...c, name: `loadStateDict: ${c.name}` }))];
    const { inDoc, rendered } = docSection('safetensors', rows);
    expect(inDoc, 'run with BAD_INPUT_DOC=write to update the document').toBe(rendered);
  });
});
