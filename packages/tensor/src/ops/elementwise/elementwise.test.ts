import { beforeAll, describe, expect, it, vi } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import type { Tensor } from '../../tensor.js';
import { assertClose, type CpuTensor, checkOp, cpuBroadcast, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { add, div, maximum, mul, pow, sub } from './binary.js';
import { UNARY, unary } from './unary.js';
import { clamp, where } from './where.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const CPU: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  relu: (x) => Math.max(x, 0),
  sigmoid,
  silu: (x) => x * sigmoid(x),
  tanh: Math.tanh,
  sin: Math.sin,
  cos: Math.cos,
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  sign: Math.sign,
};
const POSITIVE = new Set(['log', 'sqrt', 'rsqrt', 'reciprocal']);
const map1 = (f: (x: number) => number) => (xs: CpuTensor[]) => cpuBroadcast(xs, f);

describe('unary ops', () => {
  for (const name of Object.keys(UNARY)) {
    it(`${name}: forward and gradient match the CPU reference`, async () => {
      const lo = POSITIVE.has(name) ? 0.2 : -3;
      // 3x5x7 avoids multiples of 4/8/16; nudge values away from relu/abs kinks where differences are undefined.
      const x = randomCpu([3, 5, 7], 11, lo, 3);
      for (let i = 0; i < x.data.length; i++) if (Math.abs(x.data[i]) < 1e-3) x.data[i] = 0.25;
      await checkOp({
        label: name,
        inputs: [x],
        gpu: ([a]) => unary(name, a),
        cpu: map1(CPU[name]),
        forward: { rtol: 2e-6, atol: 2e-6 },
        wrt: name === 'sign' ? [] : [0],
      });
    });
  }
});

describe('binary ops with broadcasting', () => {
  const cases: [string, typeof add, (a: number, b: number) => number][] = [
    ['add', add, (a, b) => a + b],
    ['sub', sub, (a, b) => a - b],
    ['mul', mul, (a, b) => a * b],
    ['div', div, (a, b) => a / b],
    ['maximum', maximum, Math.max],
  ];
  for (const [name, op, f] of cases) {
    it(`${name} of [2,1,5] and [3,1]`, async () => {
      const a = randomCpu([2, 1, 5], 1, -2, 2);
      const b = randomCpu([3, 1], 2, 0.5, 2);
      await checkOp({
        label: name,
        inputs: [a, b],
        gpu: ([x, y]) => op(x, y),
        cpu: (xs) => cpuBroadcast(xs, f),
      });
    });
  }
  it('pow with a tensor exponent and positive base', async () => {
    const a = randomCpu([4, 3], 5, 0.5, 2);
    const b = randomCpu([3], 6, -1.5, 2);
    await checkOp({
      label: 'pow',
      inputs: [a, b],
      gpu: ([x, y]) => pow(x, y),
      cpu: (xs) => cpuBroadcast(xs, Math.pow),
      forward: { rtol: 1e-5, atol: 1e-6 },
    });
  });
  it('pow with an integral scalar exponent keeps the sign of negative bases', async () => {
    const a = randomCpu([9], 7, -2, 2);
    await checkOp({
      label: 'pow3',
      inputs: [a],
      gpu: ([x]) => pow(x, 3),
      cpu: (xs) => cpuBroadcast(xs, (v) => v ** 3),
    });
  });
  it('scalar operands', async () => {
    const a = randomCpu([5, 3], 8);
    await checkOp({
      label: 'mul scalar',
      inputs: [a],
      gpu: ([x]) => mul(add(x, 1.5), -2),
      cpu: (xs) => cpuBroadcast(xs, (v) => (v + 1.5) * -2),
    });
  });
});

describe('where, clamp, comparisons', () => {
  it('where routes gradients to the chosen side', async () => {
    const a = randomCpu([4, 6], 3);
    const b = randomCpu([6], 4);
    await checkOp({
      label: 'where',
      inputs: [a, b],
      gpu: ([x, y]) => where(x.gt(y), x, y),
      cpu: (xs) => cpuBroadcast(xs, (p, q) => (p > q ? p : q)),
    });
  });
  it('clamp', async () => {
    const a = randomCpu([7, 3], 9, -2, 2);
    await checkOp({
      label: 'clamp',
      inputs: [a],
      gpu: ([x]) => clamp(x, -0.5, 0.75),
      cpu: (xs) => cpuBroadcast(xs, (v) => Math.min(Math.max(v, -0.5), 0.75)),
    });
  });
  it('comparison ops return bool and integer arithmetic stays integer', async () => {
    const a = tensor([1, 2, 3, 4], [4]);
    expect(Array.from(await a.ge(3).toArray())).toEqual([0, 0, 1, 1]);
    expect(a.ge(3).dtype).toBe('bool');
    const i = tensor(new Int32Array([7, -7, 5]), [3]);
    const q = i.mul(3).add(-1);
    expect(q.dtype).toBe('int32');
    expect(Array.from(await q.toArray())).toEqual([20, -22, 14]);
    expect(Array.from(await i.to('float32').div(2).toArray())).toEqual([3.5, -3.5, 2.5]);
    expect(Array.from(await tensor([2.7, -2.7], [2]).to('int32').toArray())).toEqual([2, -2]);
  });
});

describe('contiguous operands in quads of 4 (vec4 reads and writes)', () => {
  /** The result of `run`, and whether its kernels read quads. */
  async function quadsOf(run: () => Tensor): Promise<{ values: number[]; quads: boolean[] }> {
    const engine = getEngine();
    const quads: boolean[] = [];
    const dispatch = engine.dispatch.bind(engine);
    const spy = vi.spyOn(engine, 'dispatch').mockImplementation((kernel, ...rest) => {
      quads.push(kernel.code.includes('let q = i;'));
      dispatch(kernel, ...rest);
    });
    try {
      const t = run();
      return { values: Array.from(await t.toArray()), quads };
    } finally {
      spy.mockRestore();
    }
  }
  const data = Array.from({ length: 24 }, (_, i) => (i % 7) - 3 + i / 16);
  const round = (v: number[]) => v.map((x) => Math.fround(x));

  it('where every view starts on a vec4 and the count is a multiple of 4, elementwise results are unchanged', async () => {
    const x = tensor(data, [4, 6]);
    const y = tensor(
      data.map((v) => v * 2 + 1),
      [4, 6],
    );
    const sum = await quadsOf(() => add(x, y));
    expect(sum.quads).toEqual([true]);
    expect(sum.values).toEqual(round(data.map((v) => v + (v * 2 + 1))));
    // Rows 2…3 start at element 12; rows 1…2 at element 6, which cannot start a vec4.
    const aligned = await quadsOf(() => unary('exp', x.narrow(0, 2, 2)));
    const shifted = await quadsOf(() => unary('exp', x.narrow(0, 1, 2)));
    expect([aligned.quads, shifted.quads]).toEqual([[true], [false]]);
    assertClose(aligned.values, data.slice(12).map(Math.exp), { rtol: 2e-6 }, 'exp, rows 2…3');
    assertClose(shifted.values, data.slice(6, 18).map(Math.exp), { rtol: 2e-6 }, 'exp, rows 1…2');
    // 21 elements: not whole quads.
    expect((await quadsOf(() => unary('neg', tensor(data.slice(0, 21), [21])))).quads).toEqual([false]);
  });

  it('in place, into integer and bool outputs, and with float16 storage', async () => {
    const x = tensor(data, [24]);
    const inPlace = await quadsOf(() => x.addInPlace(tensor(data, [24])));
    expect(inPlace.quads).toEqual([true]);
    expect(inPlace.values).toEqual(round(data.map((v) => 2 * v)));
    const ints = tensor(
      Int32Array.from(data, (v) => Math.round(v * 4)),
      [24],
    );
    const scaled = await quadsOf(() => ints.mul(3));
    expect(scaled.values).toEqual(Array.from(data, (v) => Math.round(v * 4) * 3));
    const flags = await quadsOf(() => x.ge(0));
    expect(flags.quads).toEqual([true]);
    expect(flags.values).toEqual(data.map((v) => (2 * v >= 0 ? 1 : 0)));
    if (getEngine().hasF16) {
      const half = await quadsOf(() => tensor(data, [24]).to('float16').mul(0.5));
      expect(half.quads.every((q) => q)).toBe(true);
      assertClose(
        half.values,
        data.map((v) => v * 0.5),
        { rtol: 1e-3, atol: 1e-3 },
        'float16 · 0.5',
      );
    }
  });
});
