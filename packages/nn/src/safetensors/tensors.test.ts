import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, tensor } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from './format.js';
import { loadSafetensorsFile, readSafetensorsFile, saveSafetensorsFile } from './node.js';
import { entryToTensor, loadSafetensors, saveSafetensors } from './tensors.js';

const fixture = fileURLToPath(new URL('../../fixtures/tensors.safetensors', import.meta.url));

beforeAll(async () => {
  await init();
});

describe('safetensors and GPU tensors', () => {
  it('uploads floats of every width as float32 and small integers as int32', async () => {
    const file = await readSafetensorsFile(fixture);
    const bf16 = entryToTensor(file.tensors.get('brain.bf16')!);
    expect(bf16.dtype).toBe('float32');
    expect(bf16.shape).toEqual([2, 2]);
    // 1e30 as PyTorch rounded it to bfloat16.
    expect(Array.from(await bf16.toArray())).toEqual([1, -3.140625, 1.0002555517425873e30, -0]);
    const labels = entryToTensor(file.tensors.get('labels.i64')!);
    expect(labels.dtype).toBe('int32');
    expect(Array.from(await labels.toArray())).toEqual([0, 1, 2, -3, 4, 5]);
    const mask = entryToTensor(file.tensors.get('mask.bool')!);
    expect(mask.dtype).toBe('bool');
    expect(Array.from(await mask.toArray())).toEqual([1, 0, 1]);
    for (const t of [bf16, labels, mask]) t.dispose();
  });

  it('refuses an I64 value outside int32, naming the file and tensor, and frees what it uploaded', async () => {
    await expect(loadSafetensorsFile(fixture)).rejects.toThrow(
      /tensors\.safetensors: tensor "encoder\._bn0\.num_batches_tracked": I64 value 12345678901 .* does not fit int32/,
    );
  });

  it('saves a state dict PyTorch reads (floats F32, int32 as I64) and loads it back', async () => {
    const sd = new Map([
      ['conv.weight', tensor([0.5, -1.25, 3, 4], [2, 1, 1, 2])],
      ['bn.num_batches_tracked', tensor([7], [], { dtype: 'int32' })],
    ]);
    const bytes = await saveSafetensors(sd, { metadata: { format: 'pt' } });
    const raw = parseSafetensors(bytes);
    expect(raw.tensors.get('conv.weight')!.dtype).toBe('F32');
    expect(raw.tensors.get('bn.num_batches_tracked')!.dtype).toBe('I64');
    expect(raw.tensors.get('bn.num_batches_tracked')!.shape).toEqual([]);
    const { tensors, metadata } = loadSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Array.from(await tensors.get('conv.weight')!.toArray())).toEqual([0.5, -1.25, 3, 4]);
    expect(await tensors.get('bn.num_batches_tracked')!.item()).toBe(7);
    const half = parseSafetensors(await saveSafetensors(sd, { floatDtype: 'F16', intDtype: 'I32' }));
    expect(half.tensors.get('conv.weight')!.dtype).toBe('F16');
    expect(half.tensors.get('bn.num_batches_tracked')!.dtype).toBe('I32');
    for (const t of [...sd.values(), ...tensors.values()]) t.dispose();
  });

  it('writes files atomically, leaving no temporary file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nephron-st-'));
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'old contents');
    const w = tensor([1, 2, 3], [3]);
    await saveSafetensorsFile(path, { w });
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const { tensors } = await loadSafetensorsFile(path);
    expect(Array.from(await tensors.get('w')!.toArray())).toEqual([1, 2, 3]);
    expect(readFileSync(path).subarray(8, 9).toString()).toBe('{');
    w.dispose();
    tensors.get('w')!.dispose();
  });
});
