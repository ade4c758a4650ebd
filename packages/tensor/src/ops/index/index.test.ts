import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../engine/engine.js';
import { type CpuTensor, checkOp, randomCpu, rng } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { gather } from './gather.js';
import { cpuGather } from './index.cpu.js';
import { oneHot } from './one-hot.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

function randomIndex(shape: number[], size: number, seed: number): CpuTensor {
  const r = rng(seed);
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1)).map(() => Math.floor(r() * size));
  return { data, shape };
}

describe('gather', () => {
  const cases: [number[], number, number[]][] = [
    [[3, 5], 1, [3, 7]], // repeated picks: gradients add up
    [[4, 3, 5], 0, [2, 3, 4]], // a smaller index in other dims
    [[2, 6, 3], 1, [2, 1, 3]],
  ];
  for (const [shape, dim, indexShape] of cases) {
    it(`along dim ${dim} of [${shape}] with index [${indexShape}]`, async () => {
      const index = randomIndex(indexShape, shape[dim], 17);
      const idx = tensor(Int32Array.from(index.data), indexShape);
      await checkOp({
        label: 'gather',
        inputs: [randomCpu(shape, 13)],
        gpu: ([x]) => gather(x, dim, idx),
        cpu: ([x]) => cpuGather(x, dim, index),
      });
      idx.dispose();
    });
  }

  it('reads a transposed view and rejects bad index tensors', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]).transpose(0, 1); // [[1,4],[2,5],[3,6]]
    const idx = tensor(new Int32Array([1, 0, 0]), [3, 1]);
    expect(Array.from(await gather(x, 1, idx).toArray())).toEqual([4, 2, 3]);
    expect(() => gather(x, 1, tensor([1, 0, 0], [3, 1]))).toThrow(/int32/);
    expect(() => gather(x, 1, tensor(new Int32Array([0]), [1]))).toThrow(/rank/);
  });
});

describe('oneHot', () => {
  it('encodes int32 indices along a new last dim', async () => {
    const idx = tensor(new Int32Array([2, 0, 1, 2]), [2, 2]);
    const hot = oneHot(idx, 3);
    expect(hot.shape).toEqual([2, 2, 3]);
    expect(hot.dtype).toBe('int32');
    expect(Array.from(await hot.toArray())).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(() => oneHot(idx, 0)).toThrow(/numClasses/);
  });
});
