import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import type { Tensor } from '../../tensor.js';
import { assertClose, type CpuTensor, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { flip, permute } from '../views.js';
import { argmax, argmin, max, min } from './minmax.js';
import { cpuArgExtreme, cpuMean, cpuReduce, cpuSum, cpuVar } from './reduce.cpu.js';
import { reduce } from './reduce.js';
import { mean, sum } from './sum.js';
import { std, variance } from './variance.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

const reduceRef = (dims: number[], keepdim: boolean, f: (v: number[]) => number) => (xs: CpuTensor[]) =>
  cpuReduce(xs[0], dims, keepdim, f);

describe('sum and mean', () => {
  const cases: [number[], number[], boolean][] = [
    [[3, 5, 7], [1], false],
    [[3, 5, 7], [0, 2], true],
    [[3, 5, 7], [0, 1, 2], false],
    [[2, 1, 9], [2], true],
    [[4, 33], [0], false],
  ];
  for (const [shape, dims, keepdim] of cases) {
    it(`sum over [${dims}] of [${shape}] keepdim ${keepdim}`, async () => {
      await checkOp({
        label: 'sum',
        inputs: [randomCpu(shape, 3)],
        gpu: ([x]) => sum(x, dims, keepdim),
        cpu: reduceRef(dims, keepdim, cpuSum),
      });
    });
    it(`mean over [${dims}] of [${shape}] keepdim ${keepdim}`, async () => {
      await checkOp({
        label: 'mean',
        inputs: [randomCpu(shape, 4)],
        gpu: ([x]) => mean(x, dims, keepdim),
        cpu: reduceRef(dims, keepdim, cpuMean),
      });
    });
  }

  it('reduces a permuted (non-contiguous) view', async () => {
    // The GPU permutes [5, 3, 7] to [7, 5, 3]; the reference gets the permuted data directly.
    const src = randomCpu([5, 3, 7], 6);
    const permuted = permuteCpu(src, [2, 0, 1]);
    await checkOp({
      label: 'sum permuted',
      inputs: [src],
      gpu: ([x]) => sum(permute(x, [2, 0, 1]), [0, 2], false),
      cpu: ([x]) => cpuReduce(permuteCpu(x, [2, 0, 1]), [0, 2], false, cpuSum),
    });
    expect(permuted.shape).toEqual([7, 5, 3]);
  });

  it('long reductions split across workgroups (two passes) stay accurate', async () => {
    // 3 outputs of 20000 elements: split into several workgroups per output, then combined.
    const x = randomCpu([3, 20000], 7, -1, 1);
    const t = tensor(Float32Array.from(x.data), x.shape);
    const got = await sum(t, 1).toArray();
    const want = cpuReduce(x, [1], false, cpuSum).data;
    for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(want[i], 2);
    // Reducing the leading dim of a [20000, 3] view: strided reads, also split.
    const tt = tensor(Float32Array.from(x.data), [20000, 3]);
    const gotCols = await sum(tt, 0).toArray();
    const wantCols = cpuReduce({ data: x.data, shape: [20000, 3] }, [0], false, cpuSum).data;
    for (let i = 0; i < 3; i++) expect(gotCols[i]).toBeCloseTo(wantCols[i], 2);
    const all = await sum(t).item();
    expect(all).toBeCloseTo(cpuSum(Array.from(x.data)), 2);
  });

  it('sums int32 and bool tensors as int32', async () => {
    const i = tensor(new Int32Array([1, -2, 3, 4, 5, -6]), [2, 3]);
    const s = sum(i, 1);
    expect(s.dtype).toBe('int32');
    expect(Array.from(await s.toArray())).toEqual([2, 3]);
    const b = tensor(new Uint8Array([1, 0, 1, 1]), [4]);
    expect(await sum(b).item()).toBe(3);
  });
});

describe('max, min, argmax, argmin', () => {
  it('max along a dim: values, first indices and gradient to the chosen element', async () => {
    const x = randomCpu([3, 5, 7], 21, -3, 3);
    for (const [dim, keepdim] of [
      [1, true],
      [2, false],
      [0, false],
    ] as const) {
      await checkOp({
        label: `max dim ${dim}`,
        inputs: [x],
        gpu: ([t]) => max(t, dim, keepdim).values,
        cpu: ([t]) => cpuReduce(t, [dim], keepdim, (v) => Math.max(...v)),
      });
      await checkOp({
        label: `min dim ${dim}`,
        inputs: [x],
        gpu: ([t]) => min(t, dim, keepdim).values,
        cpu: ([t]) => cpuReduce(t, [dim], keepdim, (v) => Math.min(...v)),
      });
      const t = tensor(Float32Array.from(x.data), x.shape);
      const want = cpuReduce(x, [dim], keepdim, (v) => cpuArgExtreme(v, 1)).data;
      expect(Array.from(await max(t, dim, keepdim).indices.toArray())).toEqual(Array.from(want));
      expect(Array.from(await argmax(t, dim, keepdim).toArray())).toEqual(Array.from(want));
      const wantMin = cpuReduce(x, [dim], keepdim, (v) => cpuArgExtreme(v, -1)).data;
      expect(Array.from(await argmin(t, dim, keepdim).toArray())).toEqual(Array.from(wantMin));
    }
  });

  it('ties pick the first index, also across workgroups and split passes', async () => {
    const n = 9000;
    const data = new Float32Array(2 * n).fill(0.5);
    data[1234] = 2; // row 0: the first of two maxima
    data[7777] = 2;
    data[n + 8999] = -1; // row 1: all equal but one smaller: the max is at index 0
    const t = tensor(data, [2, n]);
    const { values, indices } = max(t, 1);
    expect(Array.from(await values.toArray())).toEqual([2, 0.5]);
    expect(Array.from(await indices.toArray())).toEqual([1234, 0]);
    expect(await argmin(t).item()).toBe(n + 8999);
    expect(Array.from(await argmax(tensor([1, 3, 3, 2], [4]), 0).toArray())).toEqual([1]);
  });

  it('max and min over all elements share the gradient between ties', async () => {
    const x = randomCpu([4, 9], 23);
    await checkOp({
      label: 'max all',
      inputs: [x],
      gpu: ([t]) => max(t),
      cpu: ([t]) => cpuReduce(t, [0, 1], false, (v) => Math.max(...v)),
    });
    await checkOp({
      label: 'min all',
      inputs: [x],
      gpu: ([t]) => min(t),
      cpu: ([t]) => cpuReduce(t, [0, 1], false, (v) => Math.min(...v)),
    });
    const tied = tensor([1, 4, 4, 0], [4], { requiresGrad: true });
    max(tied).backward();
    expect(Array.from(await tied.grad!.toArray())).toEqual([0, 0.5, 0.5, 0]);
  });

  it('NaN wins a max, as in PyTorch', async () => {
    const t = tensor([1, Number.NaN, 3, 2], [2, 2]);
    const { values, indices } = max(t, 1);
    const v = await values.toArray();
    expect(Number.isNaN(v[0])).toBe(true);
    expect(v[1]).toBe(3);
    expect(Array.from(await indices.toArray())).toEqual([1, 0]);
  });

  it('int32 max keeps the dtype', async () => {
    const t = tensor(new Int32Array([3, -7, 12, 5, 5, -1]), [2, 3]);
    const { values, indices } = max(t, 1);
    expect(values.dtype).toBe('int32');
    expect(Array.from(await values.toArray())).toEqual([12, 5]);
    expect(Array.from(await indices.toArray())).toEqual([2, 0]);
  });
});

describe('var and std', () => {
  const cases: [number[], number[] | undefined, boolean, boolean][] = [
    [[3, 5, 7], [1], true, true],
    [[3, 5, 7], [2], false, false],
    [[2, 3, 5, 7], [0, 2, 3], true, false],
    [[3, 5, 7], undefined, false, false],
  ];
  for (const [shape, dims, unbiased, keepdim] of cases) {
    const all = dims ?? shape.map((_, i) => i);
    it(`var and std over [${all}] of [${shape}], unbiased ${unbiased}, keepdim ${keepdim}`, async () => {
      const x = randomCpu(shape, 31);
      await checkOp({
        label: 'var',
        inputs: [x],
        gpu: ([t]) => variance(t, dims, unbiased, keepdim),
        cpu: ([t]) => cpuReduce(t, all, keepdim, (v) => cpuVar(v, unbiased ? 1 : 0)),
      });
      await checkOp({
        label: 'std',
        inputs: [x],
        gpu: ([t]) => std(t, dims, unbiased, keepdim),
        cpu: ([t]) => cpuReduce(t, all, keepdim, (v) => Math.sqrt(cpuVar(v, unbiased ? 1 : 0))),
      });
    });
  }

  it('is stable for a large mean over a long, split reduction', async () => {
    // Values 1000 + U(-1, 1): E[x²] − E[x]² in float32 would lose every digit of the variance (~1/3).
    const x = randomCpu([2, 30000], 41, 999, 1001);
    const got = await variance(tensor(Float32Array.from(x.data), x.shape), 1).toArray();
    const want = cpuReduce(x, [1], false, (v) => cpuVar(v, 1)).data;
    for (let i = 0; i < 2; i++) expect(Math.abs(got[i] - want[i]) / want[i]).toBeLessThan(1e-4);
  });
});

describe('gradients of two reductions of one tensor', () => {
  it('accumulate correctly when both are broadcast views', async () => {
    // exp(x) feeds two sums; their broadcast gradients meet at exp's node and must add, not alias.
    await checkOp({
      label: 'sum twice',
      inputs: [randomCpu([3, 4], 51)],
      gpu: ([t]) => {
        const a = t.exp();
        return sum(a, 0).add(sum(a));
      },
      cpu: ([t]) => {
        const e = { data: t.data.map(Math.exp), shape: t.shape };
        const col = cpuReduce(e, [0], false, cpuSum);
        const total = cpuSum(Array.from(e.data));
        return { data: col.data.map((v) => v + total), shape: col.shape };
      },
    });
  });
});

describe('reductions of tensors larger than one storage binding', () => {
  afterEach(() => limitBindingBytes(null));

  it('split into slabs along a kept or a reduced first dim, bound as windows', async () => {
    const x = randomCpu([6, 5, 140], 61, -2, 2); // 16.8 kB
    const t = tensor(Float32Array.from(x.data), x.shape);
    // Reference results with whole bindings, then again with bindings capped at 2 kB.
    const run = async () => ({
      sumLast: await sum(t, 2).toArray(), // every piece writes its own outputs
      sumInner: await sum(t, [1, 2]).toArray(), // first dim kept
      sumOuter: await sum(t, [0, 2]).toArray(), // first dim reduced
      maxOuter: await max(t, 0).indices.toArray(),
      argmaxAll: await argmax(t).item(),
      variance: await variance(t, [0, 2]).toArray(),
      meanAll: await mean(t).item(),
    });
    const full = await run();
    limitBindingBytes(2048);
    const split = await run();
    assertClose(split.sumLast, full.sumLast, { rtol: 1e-5, atol: 1e-5 }, 'sum, kept pieces');
    assertClose(split.sumInner, full.sumInner, { rtol: 1e-5, atol: 1e-5 }, 'sum, kept slabs');
    assertClose(split.sumOuter, full.sumOuter, { rtol: 1e-5, atol: 1e-5 }, 'sum, reduced slabs');
    expect(Array.from(split.maxOuter)).toEqual(Array.from(full.maxOuter));
    expect(split.argmaxAll).toBe(full.argmaxAll);
    assertClose(split.variance, full.variance, { rtol: 1e-5, atol: 1e-6 }, 'variance, reduced slabs');
    expect(split.meanAll).toBeCloseTo(full.meanAll, 6);
    const want = cpuReduce(x, [0, 2], false, cpuSum).data;
    assertClose(split.sumOuter, want, { rtol: 1e-5, atol: 1e-5 }, 'sum against the CPU');
    expect(split.argmaxAll).toBe(cpuArgExtreme(Array.from(x.data), 1));
  });
});

describe('reductions of views with negative strides', () => {
  afterEach(() => limitBindingBytes(null));

  it('read flipped views, whole and split into windows', async () => {
    const x = randomCpu([4, 6, 90], 71, -2, 2);
    const t = tensor(Float32Array.from(x.data), x.shape);
    // The reference flips dims 0 and 2 on the CPU.
    const flipped = new Float64Array(x.data.length);
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 6; b++)
        for (let c = 0; c < 90; c++)
          flipped[(a * 6 + b) * 90 + c] = x.data[((3 - a) * 6 + b) * 90 + (89 - c)];
    const ref = { data: flipped, shape: [4, 6, 90] };
    for (const cap of [null, 1024]) {
      limitBindingBytes(cap);
      const v = flip(t, [0, 2]);
      assertClose(
        await sum(v, [0, 2]).toArray(),
        cpuReduce(ref, [0, 2], false, cpuSum).data,
        { rtol: 1e-5, atol: 1e-5 },
        `sum, cap ${cap}`,
      );
      const want = cpuReduce(ref, [2], false, (r) => cpuArgExtreme(r, 1)).data;
      expect(Array.from(await argmax(v, 2).toArray())).toEqual(Array.from(want));
    }
  });
});

/** Every monoid with the CPU reference of each of its outputs; `count` elements are reduced per output. */
function monoidCases(count: number) {
  return [
    { monoid: 'sum', outputs: [{ dtype: 'float32', expr: 's.v' }], want: [cpuSum] },
    {
      monoid: 'max',
      outputs: [
        { dtype: 'float32', expr: 's.v' },
        { dtype: 'int32', expr: 'i32(s.i)' },
      ],
      want: [(v: number[]) => Math.max(...v), (v: number[]) => cpuArgExtreme(v, 1)],
    },
    {
      monoid: 'welford',
      outputs: [
        { dtype: 'float32', expr: 's.mean' },
        { dtype: 'float32', expr: 's.m2 * uf(4u)' },
      ],
      want: [cpuMean, (v: number[]) => cpuVar(v, 1)],
      scale: 1 / (count - 1),
    },
  ] as const;
}

/**
 * Runs every monoid over `dims` of `t` (whose float64 contents are `ref`) in both layouts, checks each output
 * against the CPU, and returns the names of the kernels that ran.
 */
async function checkMonoids(t: Tensor, ref: CpuTensor, dims: number[]): Promise<Set<string>> {
  const count = dims.reduce((n, d) => n * t.shape[d], 1);
  const names = new Set<string>();
  const engine = getEngine();
  const dispatch = engine.dispatch.bind(engine);
  const spy = vi.spyOn(engine, 'dispatch').mockImplementation((kernel, ...rest) => {
    names.add(kernel.name);
    dispatch(kernel, ...rest);
  });
  try {
    for (const m of monoidCases(count)) {
      for (const layout of ['thread', 'group'] as const) {
        const outs = reduce({
          name: m.monoid,
          monoid: m.monoid,
          inputs: [t],
          dims,
          outputs: m.outputs,
          layout,
          scale: 'scale' in m ? m.scale : 1,
        });
        for (let k = 0; k < outs.length; k++) {
          const want = cpuReduce(ref, dims, false, m.want[k]).data;
          assertClose(
            await outs[k].toArray(),
            want,
            { rtol: 1e-5, atol: 1e-5 },
            `${m.monoid} ${layout} output ${k}`,
          );
        }
      }
    }
  } finally {
    spy.mockRestore();
  }
  return names;
}

describe('both layouts of the reduction kernel', () => {
  it('agree with the CPU for every monoid, with three unmergeable reduced dims of a permuted view', async () => {
    // [3, 4, 5, 6] permuted to [4, 3, 6, 5]; reducing dims 0, 2, 3 leaves reduced dims that cannot merge.
    const src = randomCpu([3, 4, 5, 6], 101, -2, 2);
    const t = tensor(Float32Array.from(src.data), src.shape).permute([1, 0, 3, 2]);
    await checkMonoids(t, permuteCpu(src, [1, 0, 3, 2]), [0, 2, 3]);
  });

  it('read quads of 4-aligned rows as vec4s (batch norm over NCHW), and single elements otherwise', async () => {
    // Per channel over N, H, W: the reduced dims merge to [N, H·W], H·W = 24 a multiple of 4.
    const src = randomCpu([3, 5, 4, 6], 102, -2, 2);
    const t = tensor(Float32Array.from(src.data), src.shape);
    const quads = await checkMonoids(t, src, [0, 2, 3]);
    expect([...quads].filter((n) => n.startsWith('reduce_')).every((n) => n.endsWith('_v4'))).toBe(true);
    // Columns 1…4 of 6-wide rows: an offset of 1 cannot start a vec4.
    const wide = randomCpu([4, 2, 6], 103, -2, 2);
    const w = tensor(Float32Array.from(wide.data), wide.shape).narrow(2, 1, 4);
    const cols = { data: new Float64Array(32), shape: [4, 2, 4] };
    for (let r = 0; r < 8; r++) cols.data.set(wide.data.subarray(r * 6 + 1, r * 6 + 5), r * 4);
    const single = await checkMonoids(w, cols, [0, 2]);
    expect([...single].some((n) => n.endsWith('_v4'))).toBe(false);
  });
});

/** A contiguous float64 copy of `x` with its dims permuted. */
function permuteCpu(x: CpuTensor, perm: number[]): CpuTensor {
  const shape = perm.map((p) => x.shape[p]);
  const inStrides = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const data = new Float64Array(x.data.length);
  for (let o = 0; o < data.length; o++) {
    let rem = o;
    let at = 0;
    for (let k = shape.length - 1; k >= 0; k--) {
      at += (rem % shape[k]) * inStrides[perm[k]];
      rem = Math.floor(rem / shape[k]);
    }
    data[o] = x.data[at];
  }
  return { data, shape };
}
