import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import type { Kernel } from '../../engine/kernel.js';
import { checkOp, randomCpu } from '../../testing/index.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { transpose } from '../views.js';
import { linear } from './linear.js';
import { linearCpu, matmulCpu, transposeCpu } from './matmul.cpu.js';
import { matmul } from './matmul.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

afterEach(() => {
  limitBindingBytes(null);
  vi.restoreAllMocks();
});

const TOL = { forward: { rtol: 1e-5, atol: 1e-5 }, backward: { rtol: 1e-3, atol: 1e-4 } };
/** Small enough that every operand below is several bindings, large enough for a row of any of them. */
const BUDGET = 1024;

/** Records, while `run` runs, each dispatched kernel's name and the largest binding it was given. */
async function watchBindings(run: () => Promise<void>): Promise<{ kernel: string; largest: number }[]> {
  const engine = getEngine();
  const seen: { kernel: string; largest: number }[] = [];
  const dispatch = engine.dispatch.bind(engine);
  vi.spyOn(engine, 'dispatch').mockImplementation((kernel: Kernel, buffers, uniforms, workgroups) => {
    const sizes = buffers.map((b) => ('buffer' in b ? (b.size ?? b.buffer.size - (b.offset ?? 0)) : b.size));
    seen.push({ kernel: kernel.name, largest: Math.max(...sizes) });
    dispatch(kernel, buffers, uniforms, workgroups);
  });
  await run();
  return seen;
}

/**
 * Products whose operands are larger than one binding are cut into pieces (gemm-split.ts). The budget is
 * lowered to 1 KiB so that small matrices take the paths a B4-UNet's 170 MB activations take on a device that
 * binds 128 MiB; forward and both gradients are checked against the float64 reference.
 */
describe('matmul over operands larger than a binding', () => {
  const cases: [string, number[], number[]][] = [
    ['rows and columns', [40, 24], [24, 20]],
    ['batches', [3, 12, 10], [3, 10, 14]],
    ['a broadcast batch', [1, 12, 10], [3, 10, 14]],
    ['batch · vector', [4, 30, 9], [9]],
  ];
  for (const [label, as, bs] of cases) {
    it(`${label}: ${JSON.stringify(as)} · ${JSON.stringify(bs)}`, async () => {
      const seen = await watchBindings(async () => {
        limitBindingBytes(BUDGET);
        await checkOp({
          label,
          inputs: [randomCpu(as, 1), randomCpu(bs, 2)],
          gpu: ([a, b]) => matmul(a, b),
          cpu: ([a, b]) => matmulCpu(a, b),
          ...TOL,
        });
      });
      // (The reduction that sums a broadcast operand's gradient keeps its small partial sums in one buffer.)
      const products = seen.filter((s) => s.kernel.startsWith('matmul'));
      expect(products.length).toBeGreaterThan(3);
      for (const s of products) expect(s.largest, s.kernel).toBeLessThanOrEqual(BUDGET);
    });
  }

  it('Xᵀ·G, a weight gradient: every row of Xᵀ spans the buffer, so K is cut and the parts added', async () => {
    const seen = await watchBindings(async () => {
      limitBindingBytes(BUDGET);
      await checkOp({
        label: 'xᵀ·g',
        inputs: [randomCpu([150, 6], 3), randomCpu([150, 5], 4)],
        gpu: ([x, g]) => matmul(transpose(x, 0, 1), g),
        cpu: ([x, g]) => matmulCpu(transposeCpu(x), g),
        ...TOL,
      });
    });
    expect(seen.some((s) => s.kernel.startsWith('add'))).toBe(true);
    for (const s of seen) expect(s.largest, s.kernel).toBeLessThanOrEqual(BUDGET);
  });

  it('linear: the bias follows the output columns it is cut into', async () => {
    limitBindingBytes(BUDGET);
    await checkOp({
      label: 'linear',
      inputs: [randomCpu([30, 24], 5), randomCpu([20, 24], 6), randomCpu([20], 7)],
      gpu: ([x, w, b]) => linear(x, w, b),
      cpu: ([x, w, b]) => linearCpu(x, w, b),
      ...TOL,
    });
  });
});
