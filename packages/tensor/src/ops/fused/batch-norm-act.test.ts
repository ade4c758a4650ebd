import { beforeAll, describe, expect, it } from 'vitest';
import { init, memoryStats } from '../../engine/engine.js';
import { tidy } from '../../scope.js';
import type { Tensor } from '../../tensor.js';
import { assertClose, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { relu, silu } from '../elementwise/unary.js';
import { batchNorm2d } from '../norm/batch-norm.js';
import { FUSED_ACTIVATIONS, type FusedActivation } from './activation.js';
import { batchNormAct } from './batch-norm-act.js';
import { cpuBatchNormAct } from './fused.cpu.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

const unfused = (activation: FusedActivation, y: Tensor) =>
  activation === 'silu' ? silu(y) : activation === 'relu' ? relu(y) : y;

describe('batchNormAct', () => {
  for (const activation of FUSED_ACTIVATIONS) {
    for (const training of [true, false]) {
      // Planes of 15 and 1 pixels are read an element at a time; of 8, as vec4 quads (channel-map.ts).
      for (const shape of [
        [2, 3, 3, 5],
        [5, 2, 1, 1],
        [2, 3, 2, 4],
      ]) {
        it(`${activation}, ${training ? 'training' : 'eval'} on [${shape}]: forward and finite-difference grads`, async () => {
          const C = shape[1];
          const rm = Array.from(randomCpu([C], 3, -0.5, 0.5).data);
          const rv = Array.from(randomCpu([C], 4, 0.5, 2).data);
          await checkOp({
            label: `batchNormAct(${activation})`,
            inputs: [randomCpu(shape, 5, -2, 3), randomCpu([C], 6, 0.5, 1.5), randomCpu([C], 7, -1, 1)],
            gpu: ([x, w, b]) =>
              batchNormAct(x, tensor(rm, [C]), tensor(rv, [C]), w, b, activation, {
                training,
                momentum: 0.1,
              }),
            cpu: ([x, w, b]) =>
              cpuBatchNormAct(
                x,
                rm,
                rv,
                Array.from(w.data),
                Array.from(b.data),
                activation,
                training,
                0.1,
                1e-5,
              ).output,
            forward: { rtol: 1e-4, atol: 1e-5 },
            backward: { rtol: 2e-3, atol: 2e-4 },
          });
        });
      }
    }
  }

  for (const activation of ['silu', 'relu'] as const) {
    it(`matches batchNorm2d then ${activation}: output, every gradient and the running statistics`, async () => {
      const shape = [2, 6, 7, 5];
      const C = shape[1];
      const data = Float32Array.from(randomCpu(shape, 21, -3, 4).data);
      const gy = tensor(Float32Array.from(randomCpu(shape, 22).data), shape);
      const results: { y: Float32Array; grads: Float32Array[]; stats: Float32Array[] }[] = [];
      for (const fused of [true, false]) {
        const x = tensor(data, shape, { requiresGrad: true });
        const w = tensor(Float32Array.from(randomCpu([C], 23, 0.5, 1.5).data), [C], { requiresGrad: true });
        const b = tensor(Float32Array.from(randomCpu([C], 24, -1, 1).data), [C], { requiresGrad: true });
        const rm = tensor(Float32Array.from(randomCpu([C], 25).data), [C]);
        const rv = tensor(Float32Array.from(randomCpu([C], 26, 0.5, 2).data), [C]);
        const options = { training: true, momentum: 0.2, eps: 1e-3 };
        const y = fused
          ? batchNormAct(x, rm, rv, w, b, activation, options)
          : tidy(() => unfused(activation, batchNorm2d(x, rm, rv, w, b, options)));
        y.backward(gy);
        results.push({
          y: (await y.toArray()) as Float32Array,
          grads: (await Promise.all([x.grad!, w.grad!, b.grad!].map((t) => t.toArray()))) as Float32Array[],
          stats: (await Promise.all([rm.toArray(), rv.toArray()])) as Float32Array[],
        });
      }
      const [f, u] = results;
      assertClose(f.y, u.y, { rtol: 1e-6, atol: 1e-7 }, 'output');
      f.grads.forEach((g, k) => {
        assertClose(g, u.grads[k], { rtol: 1e-5, atol: 1e-6 }, `grad ${['x', 'weight', 'bias'][k]}`);
      });
      // The statistics pass and the update are the same kernels: bit for bit equal.
      expect(Array.from(f.stats[0])).toEqual(Array.from(u.stats[0]));
      expect(Array.from(f.stats[1])).toEqual(Array.from(u.stats[1]));
    });
  }

  it('keeps one full-size tensor for backward where the unfused chain keeps two', async () => {
    const shape = [2, 8, 16, 16];
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    const x = tensor(Float32Array.from(randomCpu(shape, 31).data), shape, { requiresGrad: true });
    const held: number[] = [];
    for (const fused of [true, false]) {
      const before = memoryStats().bytesInUse;
      const y = fused
        ? batchNormAct(x, null, null, null, null, 'silu', { training: true })
        : tidy(() => silu(batchNorm2d(x, null, null, null, null, { training: true })));
      held.push(memoryStats().bytesInUse - before);
      y.dispose();
    }
    // Both hold the output; only the unfused chain also holds the normalised tensor for silu's backward.
    expect(held[0]).toBeLessThan(bytes * 1.5);
    expect(held[1]).toBeGreaterThanOrEqual(bytes * 2);
    x.dispose();
  });

  it('runs strided input through the general kernel with the same result', async () => {
    const nhwc = tensor(Float32Array.from(randomCpu([2, 3, 4, 5], 41).data), [2, 3, 4, 5]);
    const view = nhwc.permute([0, 3, 1, 2]);
    const got = await batchNormAct(view, null, null, null, null, 'relu', { training: true }).toArray();
    const want = await batchNormAct(view.contiguous(), null, null, null, null, 'relu', {
      training: true,
    }).toArray();
    assertClose(got, want, { rtol: 1e-6, atol: 1e-6 }, 'strided');
  });

  it('gives the same numbers when tensors are past one binding (the windowed elementwise path)', async () => {
    const shape = [3, 4, 8, 8];
    const data = Float32Array.from(randomCpu(shape, 51, -2, 2).data);
    const gy = tensor(Float32Array.from(randomCpu(shape, 52).data), shape);
    const results: Float32Array[][] = [];
    for (const cap of [null, 1024]) {
      limitBindingBytes(cap);
      try {
        const x = tensor(data, shape, { requiresGrad: true });
        const w = tensor([1, 0.5, 2, -1], [4], { requiresGrad: true });
        const y = batchNormAct(x, null, null, w, null, 'silu', { training: true });
        y.backward(gy);
        results.push((await Promise.all([y, x.grad!, w.grad!].map((t) => t.toArray()))) as Float32Array[]);
      } finally {
        limitBindingBytes(null);
      }
    }
    results[0].forEach((r, k) => {
      assertClose(results[1][k], r, { rtol: 1e-5, atol: 1e-6 }, ['output', 'grad x', 'grad weight'][k]);
    });
  });

  it('names the tensor and the activation that are wrong', () => {
    const x = tensor(new Float32Array(2 * 3 * 4), [2, 3, 2, 2]);
    expect(() => batchNormAct(x, null, null, tensor([1, 1], [2]), null, 'silu')).toThrow(
      /weight .* shape \[3\]/,
    );
    expect(() => batchNormAct(x, null, null, null, null, 'gelu' as FusedActivation)).toThrow(
      /unknown activation "gelu"/,
    );
  });
});
