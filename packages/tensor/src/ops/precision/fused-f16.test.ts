import { beforeAll, describe, expect, it } from 'vitest';
import { fromHalfBits, toHalfBits } from '../../dtype.js';
import { init } from '../../engine/engine.js';
import type { Tensor } from '../../tensor.js';
import { type CpuTensor, rng } from '../../testing/cpu-tensor.js';
import { assertClose } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { mul } from '../elementwise/binary.js';
import type { FusedActivation } from '../fused/activation.js';
import { batchNormAct } from '../fused/batch-norm-act.js';
import { biasAct } from '../fused/bias-act.js';
import { cpuBatchNormAct, cpuBiasAct, cpuSeGate } from '../fused/fused.cpu.js';
import { seGate } from '../fused/se-gate.js';
import { sum } from '../reduce/sum.js';
import '../../index.js';

/**
 * The fused kernels of an EfficientNet-UNet (batch norm + activation, SE gate, bias + activation) on float16
 * storage, as mixed-precision training runs them: forward against the float64 references on half-exact inputs,
 * gradients against the same op in float32 on the same inputs. Tolerance as in f16-ops.test.ts: one rounding to
 * half, plus half an ulp of the largest value where sums cancel.
 */

const half = (v: number) => fromHalfBits(toHalfBits(v));

beforeAll(async () => {
  const { hasF16 } = await init();
  expect(hasF16).toBe(true);
});

function halfCpu(shape: number[], seed: number, lo = -1, hi = 1): CpuTensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float64Array.from({ length: n }, () => half(lo + (hi - lo) * r())), shape };
}

function closeToHalf(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  assertClose(got, want, { rtol: 2 ** -10, atol: 2 ** -11 * scale }, label);
}

interface Run {
  y: Tensor;
  grads: Tensor[];
}

/** Backward of Σ y·g with g random half values (in y's dtype), returning y and the inputs' gradients. */
function backwardOf(y: Tensor, inputs: Tensor[], seed: number): Run {
  const g = tensor(Array.from(halfCpu(y.shape, seed).data), y.shape, { dtype: y.dtype });
  sum(mul(y, g)).backward();
  return { y, grads: inputs.map((t) => t.grad as Tensor) };
}

async function compareGrads(h: Run, f: Run, label: string): Promise<void> {
  for (let i = 0; i < f.grads.length; i++)
    closeToHalf(await h.grads[i].toArray(), await f.grads[i].toArray(), `${label} gradient ${i}`);
}

describe('fused ops on float16 storage', () => {
  for (const activation of ['silu', 'relu'] as FusedActivation[]) {
    it(`batchNormAct ${activation} in training: half in and out, float32 parameters, statistics and their gradients`, async () => {
      // Channels whose mean sits well away from zero, as conv outputs do, so the backward's cancellation is tested.
      const x = halfCpu([4, 3, 6, 5], 31, 1, 4);
      const weight = [0.7, 1.3, -0.9];
      const bias = [0.2, -0.1, 0.05];
      const run = (dtype: 'float32' | 'float16') => {
        const rm = tensor([0, 0, 0], [3]);
        const rv = tensor([1, 1, 1], [3]);
        const w = tensor(weight, [3], { requiresGrad: true });
        const b = tensor(bias, [3], { requiresGrad: true });
        const xt = tensor(Array.from(x.data), x.shape, { dtype, requiresGrad: true });
        const y = batchNormAct(xt, rm, rv, w, b, activation, { training: true, momentum: 0.2 });
        return { ...backwardOf(y, [xt, w, b], 32), rm, rv };
      };
      const h = run('float16');
      const f = run('float32');
      expect(h.y.dtype).toBe('float16');
      expect(h.grads.map((g) => g.dtype)).toEqual(['float16', 'float32', 'float32']);
      const ref = cpuBatchNormAct(x, [0, 0, 0], [1, 1, 1], weight, bias, activation, true, 0.2, 1e-5);
      closeToHalf(await h.y.toArray(), ref.output.data, `batchNormAct ${activation} forward`);
      assertClose(await h.rm.toArray(), ref.runningMean, { rtol: 1e-5, atol: 1e-6 }, 'running mean');
      assertClose(await h.rv.toArray(), ref.runningVar, { rtol: 1e-5, atol: 1e-6 }, 'running var');
      await compareGrads(h, f, `batchNormAct ${activation}`);
    });
  }

  it('seGate: a half input and a half gate, both gradients half', async () => {
    const x = halfCpu([2, 4, 5, 5], 33, -2, 2);
    const s = halfCpu([2, 4, 1, 1], 34, -3, 3);
    const run = (dtype: 'float32' | 'float16') => {
      const xt = tensor(Array.from(x.data), x.shape, { dtype, requiresGrad: true });
      const st = tensor(Array.from(s.data), s.shape, { dtype, requiresGrad: true });
      return backwardOf(seGate(xt, st), [xt, st], 35);
    };
    const h = run('float16');
    const f = run('float32');
    expect(h.y.dtype).toBe('float16');
    expect(h.grads.map((g) => g.dtype)).toEqual(['float16', 'float16']);
    closeToHalf(await h.y.toArray(), cpuSeGate(x, s).data, 'seGate forward');
    await compareGrads(h, f, 'seGate');
  });

  it('biasAct: a half input with a float32 bias', async () => {
    const x = halfCpu([2, 3, 4, 4], 36, -2, 2);
    const bias = halfCpu([3], 37);
    const run = (dtype: 'float32' | 'float16') => {
      const xt = tensor(Array.from(x.data), x.shape, { dtype, requiresGrad: true });
      const bt = tensor(Array.from(bias.data), bias.shape, { requiresGrad: true });
      return backwardOf(biasAct(xt, bt, 'silu'), [xt, bt], 38);
    };
    const h = run('float16');
    const f = run('float32');
    expect(h.y.dtype).toBe('float16');
    expect(h.grads[0].dtype).toBe('float16');
    closeToHalf(await h.y.toArray(), cpuBiasAct(x, bias, 'silu').data, 'biasAct forward');
    await compareGrads(h, f, 'biasAct');
  });
});
