import { beforeAll, describe, expect, it } from 'vitest';
import { getEngine, init, memoryStats } from '../../engine/engine.js';
import { tidy } from '../../scope.js';
import { Tensor } from '../../tensor.js';
import { goldenMismatch, loadGolden } from '../../testing/golden.js';
import { assertClose, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { narrow, transpose } from '../views.js';
import { gemmInto, matmulTuning, setMatmulTiling } from './gemm.js';
import { linear } from './linear.js';
import { linearCpu, matmulCpu, narrowColumnsCpu, transposeCpu } from './matmul.cpu.js';
import { matmul } from './matmul.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

const TOL = { forward: { rtol: 1e-5, atol: 1e-5 }, backward: { rtol: 1e-3, atol: 1e-4 } };

describe('matmul against the float64 reference', () => {
  const cases: [string, number[], number[]][] = [
    ['2-D', [5, 7], [7, 3]],
    ['dot of two vectors', [9], [9]],
    ['vector · matrix', [6], [6, 5]],
    ['matrix · vector', [4, 6], [6]],
    ['batch · vector', [2, 3, 5], [5]],
    ['vector · batch', [3], [2, 3, 4]],
    ['3-D batches', [3, 5, 7], [3, 7, 4]],
    ['batch broadcast against size 1', [1, 5, 7], [3, 7, 2]],
    ['4-D against 3-D', [2, 1, 3, 5], [4, 5, 6]],
    ['batch · matrix (folded)', [2, 3, 5], [5, 7]],
    ['matrix · batch', [3, 5], [2, 5, 7]],
    ['size-1 dims', [1, 1], [1, 9]],
  ];
  for (const [label, as, bs] of cases) {
    it(`${label}: ${JSON.stringify(as)} · ${JSON.stringify(bs)}`, async () => {
      await checkOp({
        label,
        inputs: [randomCpu(as, 1), randomCpu(bs, 2)],
        gpu: ([a, b]) => matmul(a, b),
        cpu: ([a, b]) => matmulCpu(a, b),
        ...TOL,
      });
    });
  }

  it('reads transposed operands in place (non-contiguous views)', async () => {
    await checkOp({
      label: 'aᵀ · bᵀ',
      inputs: [randomCpu([7, 5], 3), randomCpu([3, 7], 4)],
      gpu: ([a, b]) => matmul(transpose(a, 0, 1), transpose(b, 0, 1)),
      cpu: ([a, b]) => matmulCpu(transposeCpu(a), transposeCpu(b)),
      ...TOL,
    });
  });

  it('reads narrowed operands with an offset', async () => {
    await checkOp({
      label: 'narrowed',
      inputs: [randomCpu([6, 9], 5), randomCpu([5, 4], 6)],
      gpu: ([a, b]) => matmul(narrow(a, 1, 3, 5), b),
      cpu: ([a, b]) => matmulCpu(narrowColumnsCpu(a, 3, 5), b),
      ...TOL,
    });
  });

  // 70×45 · 45×133 has partial tiles in every direction and K off the 4-deep step; 72×44 · 44×132 is 4-aligned
  // and row-major, so it takes the vec4 staging path, with partial tiles still.
  for (const [m, k, n] of [
    [70, 45, 133],
    [72, 44, 132],
  ]) {
    it(`${m}×${k} · ${k}×${n} with every tiling covers several workgroups and ragged edges`, async () => {
      const a = randomCpu([m, k], 7);
      const b = randomCpu([k, n], 8);
      const want = matmulCpu(a, b);
      const tilings = [
        null,
        { tm: 4, tn: 4, wx: 8, wy: 8, bk: 8 },
        { tm: 8, tn: 8, wx: 16, wy: 16, bk: 8 },
        { tm: 16, tn: 16, wx: 8, wy: 8, bk: 8 },
        { tm: 8, tn: 8, wx: 8, wy: 8, bk: 8 },
        { tm: 4, tn: 8, wx: 8, wy: 4, bk: 4 },
      ];
      const ga = tensor(Float32Array.from(a.data), a.shape);
      const gb = tensor(Float32Array.from(b.data), b.shape);
      try {
        // 'auto' broadcasts A's rows over the subgroup on llvmpipe (wx = 8 tilings); false reads them per thread.
        for (const subgroupA of ['auto', false] as const) {
          matmulTuning.subgroupA = subgroupA;
          for (const tiling of tilings) {
            setMatmulTiling(tiling);
            const y = matmul(ga, gb);
            const what = `${JSON.stringify(tiling)} subgroupA ${subgroupA}`;
            assertClose(await y.toArray(), want.data, { rtol: 1e-5, atol: 1e-5 }, what);
            y.dispose();
          }
        }
      } finally {
        matmulTuning.subgroupA = 'auto';
        setMatmulTiling(null);
        ga.dispose();
        gb.dispose();
      }
    });
  }

  it('4-aligned batches take the vec4 path, forward and backward', async () => {
    await checkOp({
      label: 'aligned batches',
      inputs: [randomCpu([2, 6, 8], 11), randomCpu([2, 8, 12], 12)],
      gpu: ([a, b]) => matmul(a, b),
      cpu: ([a, b]) => matmulCpu(a, b),
      ...TOL,
    });
  });

  it('rejects mismatched inner sizes, naming both shapes', () => {
    const a = tensor(new Float32Array(6), [2, 3]);
    const b = tensor(new Float32Array(8), [4, 2]);
    expect(() => matmul(a, b)).toThrow(/\[2, 3\].*\[4, 2\]/);
    a.dispose();
    b.dispose();
  });
});

describe('linear', () => {
  it('with bias on a 3-D input', async () => {
    await checkOp({
      label: 'linear',
      inputs: [randomCpu([2, 3, 7], 1), randomCpu([5, 7], 2), randomCpu([5], 3)],
      gpu: ([x, w, b]) => linear(x, w, b),
      cpu: ([x, w, b]) => linearCpu(x, w, b),
      ...TOL,
    });
  });
  it('without bias', async () => {
    await checkOp({
      label: 'linear no bias',
      inputs: [randomCpu([4, 9], 4), randomCpu([3, 9], 5)],
      gpu: ([x, w]) => linear(x, w),
      cpu: ([x, w]) => linearCpu(x, w),
      ...TOL,
    });
  });
});

describe('memory', () => {
  it('forward and backward of matmul and linear free every intermediate', async () => {
    const x = tensor(Float32Array.from(randomCpu([2, 3, 5], 1).data), [2, 3, 5], { requiresGrad: true });
    const w = tensor(Float32Array.from(randomCpu([4, 5], 2).data), [4, 5], { requiresGrad: true });
    const b = tensor(Float32Array.from(randomCpu([4], 3).data), [4], { requiresGrad: true });
    const v = tensor(Float32Array.from(randomCpu([4], 4).data), [4], { requiresGrad: true });
    const step = () =>
      tidy(() => {
        const y = linear(x, w, b);
        // [2,3,4]·[4,5] batched against a 2-D matrix, then a transposed operand, then a vector.
        matmul(matmul(y, w), matmul(transpose(w, 0, 1), w))
          .sum()
          .add(matmul(y, v).sum())
          .backward();
      });
    step();
    const after1 = memoryStats().bytesInUse;
    for (let i = 0; i < 5; i++) step();
    expect(memoryStats().bytesInUse).toBe(after1);
    for (const t of [x, w, b, v]) t.dispose();
  });
});

describe('matmul golden values from PyTorch', () => {
  for (const c of loadGolden('matmul')) {
    it(c.name, async () => {
      const upload = (name: string): Tensor => {
        const t = c.inputs[name];
        return tensor(Float32Array.from(t.data), t.shape, { requiresGrad: name in c.grads });
      };
      const a = upload('input');
      const b = upload('other');
      const y = matmul(a, b);
      const errors: (string | null)[] = [];
      errors.push(goldenMismatch(await y.toArray(), c.outputs.output, c.tolerance.outputs, 'output'));
      if (c.gradOutput) {
        const g = tensor(Float32Array.from(c.gradOutput.data), c.gradOutput.shape);
        y.backward(g);
        g.dispose();
        for (const [name, t] of [
          ['input', a],
          ['other', b],
        ] as const) {
          const want = c.grads[name];
          if (!want) continue;
          const got = t.grad ? await t.grad.toArray() : new Float32Array(0);
          errors.push(goldenMismatch(got, want, c.tolerance.grads, `grad ${name}`));
        }
      }
      for (const t of [a, b, y]) t.dispose();
      expect(errors.filter((e) => e !== null)).toEqual([]);
    });
  }
});

describe('matmul kernel with half storage', () => {
  it('reads and writes float16, accumulates in float32 (odd sizes, bias, both load paths)', async () => {
    // lavapipe, which CI runs on, offers shader-f16 (as f16-ops.test.ts also requires).
    expect(getEngine().hasF16).toBe(true);
    for (const [m, k, n] of [
      [13, 20, 36],
      [9, 7, 5],
    ]) {
      const av = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.7));
      const bv = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.3));
      const biasv = Float32Array.from({ length: n }, (_, i) => i / 8);
      const a = tensor(av, [m, k], { dtype: 'float16' });
      const b = tensor(bv, [k, n], { dtype: 'float16' });
      const bias = tensor(biasv, [n], { dtype: 'float16' });
      // The reference multiplies the half-rounded inputs in float64.
      const [ah, bh, biash] = await Promise.all([a.toArray(), b.toArray(), bias.toArray()]);
      const out = Tensor.empty([m, n], 'float16');
      gemmInto(a, b, out, bias);
      const got = await out.toArray();
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let want = biash[j];
          for (let p = 0; p < k; p++) want += ah[i * k + p] * bh[p * n + j];
          expect(Math.abs(got[i * n + j] - want), `[${m}x${k}x${n}] (${i}, ${j})`).toBeLessThanOrEqual(
            2e-3 * Math.abs(want) + 2e-3,
          );
        }
      }
      for (const t of [a, b, bias, out]) t.dispose();
    }
  });
});
