import { beforeAll, describe, expect, it } from 'vitest';
import { requestDevice } from '../device/device.js';
import { fromHalfBits, toHalfBits } from '../dtype.js';
import { Engine, getEngine, init, setEngine } from '../engine/engine.js';
import { rng } from '../testing/cpu-tensor.js';
import { assertClose } from '../testing/index.js';
import { full, tensor } from './creation.js';
import { dropout } from './dropout/dropout.js';
import { add, mul } from './elementwise/binary.js';
import { exp, relu, sigmoid, tanh } from './elementwise/unary.js';
import { cast } from './elementwise/where.js';
import { cat, stack } from './join/cat.js';
import { pad } from './pad/pad.js';
import { Generator } from './random/generator.js';
import { cpuRand } from './random/random.cpu.js';
import { rand, randn } from './random/random.js';
import { sum } from './reduce/sum.js';
import { transpose } from './views.js';
import '../index.js';

/**
 * float16 tensors (devices with `shader-f16`). Storage is half precision; elementwise kernels compute in f32 and
 * round once on store, reductions accumulate in f32.
 *
 * conv2d, matmul/linear, batch norm, pooling, interpolate, softmax, crossEntropy and autocast (mixed precision)
 * are tested in float16 in precision/f16-ops.test.ts. `variance` returns float32; `randint`/`randomBits` are
 * integer by nature. Gradients through f16 ops are f16 (no f32 master copy: keep weights f32 and cast activations,
 * as `autocast` does). `toArray()` returns a Float32Array because Node 20 has no Float16Array. Ops without a
 * float16 test here or there are untested in float16.
 */

const half = (v: number) => fromHalfBits(toHalfBits(v));
/** One unit in the last place of float16 near 1, relative. */
const HALF_ULP = 2 ** -10;

let hasF16 = false;
beforeAll(async () => {
  hasF16 = (await init()).hasF16;
});

function values(n: number, seed: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => half(lo + (hi - lo) * r()));
}

describe('float16', () => {
  it('needs shader-f16: without it, creating a float16 tensor says so', async () => {
    expect(hasF16).toBe(true);
    const main = getEngine();
    const plain = new Engine(await requestDevice({ noOptionalFeatures: true }));
    setEngine(plain);
    try {
      expect(() => tensor([1], [1], { dtype: 'float16' })).toThrow(/shader-f16/);
    } finally {
      setEngine(main);
      plain.destroy();
    }
  });

  it('round-trips exactly, including subnormals, the largest half and signed zero', async () => {
    const data = [0, -0, 1, -2.5, 65504, -65504, 2 ** -24, 3 * 2 ** -20, 0.1, 1 / 3, 1234.5];
    const t = tensor(data, [data.length], { dtype: 'float16' });
    expect(t.dtype).toBe('float16');
    expect(t.storage.bytes).toBe(2 * data.length);
    expect(Array.from(await t.toArray())).toEqual(data.map(half));
    t.dispose();
  });

  it('elementwise ops compute and round like the CPU', async () => {
    const a = values(37, 1, -3, 3);
    const b = values(37, 2, -3, 3);
    const ta = tensor(a, [37], { dtype: 'float16' });
    const tb = tensor(b, [37], { dtype: 'float16' });
    const cases: [string, ReturnType<typeof add>, number[]][] = [
      ['add', add(ta, tb), a.map((v, i) => v + b[i])],
      ['mul', mul(ta, tb), a.map((v, i) => v * b[i])],
      ['exp', exp(ta), a.map(Math.exp)],
      ['relu', relu(ta), a.map((v) => Math.max(v, 0))],
      ['sigmoid', sigmoid(ta), a.map((v) => 1 / (1 + Math.exp(-v)))],
      ['tanh', tanh(ta), a.map(Math.tanh)],
      ['scalar', add(mul(ta, 0.5), 1), a.map((v) => v * 0.5 + 1)],
    ];
    for (const [name, t, expected] of cases) {
      expect(t.dtype).toBe('float16');
      assertClose(await t.toArray(), expected.map(half), { rtol: HALF_ULP, atol: 2 ** -24 }, name);
    }
  });

  it('cast to and from float32 rounds to the nearest half', async () => {
    const x = values(64, 3, -100, 100).map((v, i) => v + (i % 7) * 1e-3);
    const t = tensor(x, [64]);
    const h = cast(t, 'float16');
    expect(h.dtype).toBe('float16');
    assertClose(await h.toArray(), x.map(half), { rtol: HALF_ULP / 2, atol: 0 }, 'cast to f16');
    const back = cast(h, 'float32');
    expect(back.dtype).toBe('float32');
    expect(Array.from(await back.toArray())).toEqual(Array.from(await h.toArray()));
    const mixed = add(h, t);
    expect(mixed.dtype).toBe('float32');
  });

  it('sums in f32 and gradients flow through f16 ops', async () => {
    const x = values(300, 4, 0, 1);
    const t = tensor(x, [300], { dtype: 'float16', requiresGrad: true });
    const s = sum(t);
    expect(s.dtype).toBe('float16');
    assertClose([await s.item()], [half(x.reduce((p, q) => p + q, 0))], { rtol: HALF_ULP }, 'sum');
    sum(mul(t, t)).backward();
    const g = t.grad;
    expect(g?.dtype).toBe('float16');
    assertClose(
      await (g as NonNullable<typeof g>).toArray(),
      x.map((v) => half(2 * v)),
      { rtol: HALF_ULP },
      'grad',
    );
  });

  it('cat, stack, pad and dropout keep float16', async () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'float16' });
    const b = tensor([0.5, -0.25], [2, 1], { dtype: 'float16' });
    const c = cat([transpose(a, 0, 1), tensor([7, 8], [1, 2], { dtype: 'float16' })], 0);
    expect(c.dtype).toBe('float16');
    expect(Array.from(await c.toArray())).toEqual([1, 4, 2, 5, 3, 6, 7, 8]);
    expect(Array.from(await cat([a, b], 1).toArray())).toEqual([1, 2, 3, 0.5, 4, 5, 6, -0.25]);
    expect(Array.from(await stack([b, b], 0).toArray())).toEqual([0.5, -0.25, 0.5, -0.25]);
    const p = pad(b, [1, 0], 1.5);
    expect(p.dtype).toBe('float16');
    expect(Array.from(await p.toArray())).toEqual([1.5, 0.5, 1.5, -0.25]);
    const y = dropout(full([1000], 1, { dtype: 'float16' }), 0.5, true, { generator: new Generator(1) });
    expect(y.dtype).toBe('float16');
    expect(new Set(await y.toArray())).toEqual(new Set([0, 2]));
  });

  it('rand and randn sample float16', async () => {
    const g = new Generator(8);
    const state = g.getState();
    const u = rand([101], { generator: g, dtype: 'float16' });
    expect(Array.from(await u.toArray())).toEqual(Array.from(cpuRand(state, 101), half));
    const z = randn([1000], { generator: g, dtype: 'float16' });
    expect(z.dtype).toBe('float16');
    const zs = await z.toArray();
    const mean = zs.reduce((p, q) => p + q, 0) / zs.length;
    expect(Math.abs(mean)).toBeLessThan(0.2);
  });
});
