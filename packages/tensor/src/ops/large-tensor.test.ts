import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getEngine, init } from '../engine/engine.js';
import { assertClose, cpuBroadcast, randomCpu } from '../testing/index.js';
import { full, tensor } from './creation.js';
import { add, mul } from './elementwise/binary.js';
import { limitBindingBytes } from './elementwise/binding-range.js';
import { exp } from './elementwise/unary.js';
import { cat } from './join/cat.js';
import { cpuCat, cpuTranspose } from './join/join.cpu.js';
import { matmul } from './matmul/matmul.js';
import { Generator } from './random/generator.js';
import { philox4x32 } from './random/philox.js';
import { rand } from './random/random.js';
import { blocksPerDispatch } from './random/random-kernel.js';
import { sum } from './reduce/sum.js';
import { softmax } from './softmax/softmax.js';
import { flip, transpose } from './views.js';
import '../index.js';

beforeAll(async () => {
  await init();
});

afterEach(() => limitBindingBytes(null));

/**
 * Kernels split their work when a buffer is larger than one storage binding may be. These tests lower the
 * binding budget to 1 KiB so that small tensors take the same paths a 150 MB activation takes on a device
 * with a 128 MiB binding limit.
 */
describe('elementwise kernels over buffers larger than a binding', () => {
  const gpu = (x: { data: Float64Array; shape: number[] }) => tensor(Float32Array.from(x.data), x.shape);

  it('contiguous: a flat range per dispatch', async () => {
    const x = randomCpu([3001], 1);
    const t = gpu(x);
    limitBindingBytes(1024);
    const before = getEngine().dispatchCount;
    const y = exp(t);
    expect(getEngine().dispatchCount - before).toBeGreaterThan(10);
    assertClose(await y.toArray(), x.data.map(Math.exp), { rtol: 2e-6 }, 'exp');
  });

  it('strided and broadcast operands: boxes cut along the outer dims', async () => {
    const a = randomCpu([40, 50], 2);
    const b = randomCpu([40], 3);
    const ta = gpu(a);
    const tb = gpu(b);
    limitBindingBytes(1024);
    const y = add(transpose(ta, 0, 1), tb);
    assertClose(
      await y.toArray(),
      cpuBroadcast([cpuTranspose(a, 0, 1), b], (p, q) => p + q).data,
      { rtol: 1e-7 },
      'add',
    );
  });

  it('negative strides (flip): windows still cover what each box reads', async () => {
    const a = randomCpu([40, 50], 6);
    const ta = gpu(a);
    limitBindingBytes(1024);
    const y = flip(ta, [0, 1]);
    expect(Array.from(await y.toArray())).toEqual(Array.from(a.data).reverse());
  });

  it('in place, fills, and copies into a window of a larger output', async () => {
    const a = randomCpu([30, 41], 4);
    const b = randomCpu([30, 17], 5);
    const ta = gpu(a);
    const tb = gpu(b);
    limitBindingBytes(1024);
    const joined = cat([ta, tb], 1);
    const f = full([2000], 2.5);
    f.addInPlace(full([2000], 0.25));
    expect(new Set(await f.toArray())).toEqual(new Set([2.75]));
    expect(Array.from(await joined.toArray())).toEqual(Array.from(cpuCat([a, b], 1).data, Math.fround));
  });
});

describe('a real 150 MB tensor (device limit: maxStorageBufferBindingSize)', () => {
  const n = (150 * 2 ** 20) / 4;

  it('fills, computes elementwise, samples and reads back; a kernel that cannot split says why', async () => {
    const engine = getEngine();
    expect(n * 4).toBeGreaterThan(engine.maxBindingBytes);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = i % 4099;
    const x = tensor(data, [n]);
    const x2 = mul(x, 2);
    const y = add(x2, full([n], 1));
    const values = await y.toArray();
    expect(values.length).toBe(n);
    let wrong = 0;
    for (let i = 0; i < n; i++) if (values[i] !== 2 * (i % 4099) + 1) wrong++;
    expect(wrong).toBe(0);
    x.dispose();
    x2.dispose();

    // Random numbers split over bindings are the same as if drawn in one go: check across every seam.
    const g = new Generator(21);
    const u = rand([n], { generator: g });
    const got = await u.toArray();
    const seam = 4 * blocksPerDispatch(4);
    expect(seam).toBeLessThan(n);
    const checked = [0, 1, 2, 3, n - 1];
    for (let at = seam; at < n; at += seam) for (let e = at - 9; e < at + 9; e++) checked.push(e);
    for (const e of checked) {
      const words = philox4x32([Math.floor(e / 4), 0, 0, 0], [21, 0]);
      expect(got[e]).toBe((words[e % 4] >>> 8) * 2 ** -24);
    }
    u.dispose();

    // Matrix products cut their operands: rows of y (each row sum of integers is exact in float32), and yᵀ's
    // inner dim, whose parts are summed and added (column sums of ~2.5M values, to float32 rounding).
    const rows = n / 16;
    const y2 = y.asView([rows, 16], [16, 1], 0);
    const rowSums = await matmul(y2, full([16, 1], 1)).toArray();
    const columnSums = await matmul(transpose(y2, 0, 1), full([rows, 1], 1)).toArray();
    wrong = 0;
    const wantColumns = new Float64Array(16);
    for (let r = 0; r < rows; r++) {
      let rowSum = 0;
      for (let j = 0; j < 16; j++) {
        const v = 2 * ((16 * r + j) % 4099) + 1;
        rowSum += v;
        wantColumns[j] += v;
      }
      if (rowSums[r] !== rowSum) wrong++;
    }
    expect(wrong).toBe(0);
    assertClose(columnSums, wantColumns, { rtol: 1e-4 }, 'yᵀ·1');
    y2.dispose();

    // Reductions split over bindings too; softmax splits only between rows, so one row this long is refused.
    let want = 0;
    for (let i = 0; i < n; i++) want += 2 * (i % 4099) + 1;
    expect(Math.abs((await sum(y).item()) - want) / want).toBeLessThan(1e-5);
    expect(() => softmax(y, 0)).toThrow(/maxStorageBufferBindingSize/);
    y.dispose();
  });
});
