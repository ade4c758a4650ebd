import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import { type CpuTensor, checkOp, randomCpu, rng } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
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
    [[3, 4], 0, [6, 4]], // longer than the input along the gathered dim 0
    [[5], 0, [8]],
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

/**
 * Tensors larger than one binding: the gather and its gradient cut along a dim other than the gathered one. The
 * budget is lowered so that small tensors take that path; the gathered dim itself is never cut.
 */
describe('gather over tensors larger than a binding', () => {
  afterEach(() => limitBindingBytes(null));
  const cases: [number[], number, number[], number][] = [
    [[12, 10, 8], 1, [12, 7, 8], 1024], // cut along dim 0
    [[12, 10, 8], 1, [9, 7, 8], 1024], // the index ends before the input: later slabs of the gradient are zeros
    [[2, 200, 3], 0, [2, 180, 3], 3072], // cut along dim 1: the slabs of the output are strided
  ];
  for (const [shape, dim, indexShape, budget] of cases) {
    it(`along dim ${dim} of [${shape}] with index [${indexShape}], ${budget}-byte bindings`, async () => {
      const index = randomIndex(indexShape, shape[dim], 19);
      const idx = tensor(Int32Array.from(index.data), indexShape);
      limitBindingBytes(budget);
      const before = getEngine().dispatchCount;
      await checkOp({
        label: 'gather',
        inputs: [randomCpu(shape, 23)],
        gpu: ([x]) => gather(x, dim, idx),
        cpu: ([x]) => cpuGather(x, dim, index),
      });
      expect(getEngine().dispatchCount - before).toBeGreaterThan(6);
      idx.dispose();
    });
  }

  it('refuses a 1-D input that does not fit, naming it', () => {
    const x = tensor(new Float32Array(1000), [1000]);
    limitBindingBytes(1024);
    expect(() => gather(x, 0, tensor(new Int32Array([3, 1]), [2]))).toThrow(/\[1000\].*no dim besides/);
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

  it('writes an output larger than a binding in runs of whole entries, from a strided index', async () => {
    const values = Int32Array.from({ length: 600 }, (_, i) => (i * 7) % 5);
    const idx = tensor(values, [20, 30]).transpose(0, 1); // non-contiguous: copied first
    limitBindingBytes(1024);
    const before = getEngine().dispatchCount;
    const hot = oneHot(idx, 5);
    expect(getEngine().dispatchCount - before).toBeGreaterThan(10);
    const got = await hot.toArray();
    limitBindingBytes(null);
    const want: number[] = [];
    for (let r = 0; r < 30; r++) {
      for (let c = 0; c < 20; c++) for (let k = 0; k < 5; k++) want.push(values[c * 30 + r] === k ? 1 : 0);
    }
    expect(Array.from(got)).toEqual(want);
  });
});
