import { beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../autograd/grad-mode.js';
import { fromHalfBits, toHalfBits } from '../../dtype.js';
import { init } from '../../engine/engine.js';
import type { Tensor } from '../../tensor.js';
import { type CpuTensor, rng } from '../../testing/cpu-tensor.js';
import { assertClose } from '../../testing/index.js';
import { conv2dCpu } from '../conv/conv2d.cpu.js';
import { conv2d } from '../conv/conv2d.js';
import type { Conv2dOptions } from '../conv/params.js';
import { tensor } from '../creation.js';
import { mul } from '../elementwise/binary.js';
import { cat } from '../join/cat.js';
import { crossEntropy } from '../loss/cross-entropy.js';
import { cpuClassLoss } from '../loss/loss.cpu.js';
import { linear } from '../matmul/linear.js';
import { matmulCpu } from '../matmul/matmul.cpu.js';
import { matmul } from '../matmul/matmul.js';
import { cpuBatchNorm } from '../norm/batch-norm.cpu.js';
import { batchNorm2d } from '../norm/batch-norm.js';
import { adaptiveAvgPool2d } from '../pool/adaptive-avg-pool2d.js';
import { avgPool2d } from '../pool/avg-pool2d.js';
import { maxPool2d } from '../pool/max-pool2d.js';
import { adaptiveAvgPool2dCpu, avgPool2dCpu, maxPool2dCpu } from '../pool/pool.cpu.js';
import { sum } from '../reduce/sum.js';
import { cpuLogSoftmax, cpuSoftmax } from '../softmax/softmax.cpu.js';
import { logSoftmax, softmax } from '../softmax/softmax.js';
import { interpolateCpu } from '../upsample/interpolate.cpu.js';
import { interpolate } from '../upsample/interpolate.js';
import { autocast, HalfWeightCache } from './autocast.js';
import '../../index.js';

/**
 * float16 through the ops a UNet is made of (devices with `shader-f16`; lavapipe has it). Storage is half, the
 * arithmetic f32: conv2d and matmul widen half operands for their float32 kernels and round the result once;
 * pooling and upsampling kernels read and write half directly; batch norm keeps float32 statistics and
 * parameters; losses widen the logits and return a float32 loss.
 *
 * Forward results are checked against the float64 CPU references on the same (half-exact) inputs; gradients
 * against the same op in float32 on the same inputs (whose gradients the ops' own tests check against the CPU).
 * Tolerance, unless stated: |got − want| ≤ 2⁻¹⁰·|want| + 2⁻¹¹·max|want|, i.e. one rounding to half (2⁻¹¹
 * relative) with room for the f32 accumulation order, plus half an ulp of the largest value where sums cancel.
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

function toGpu(c: CpuTensor, dtype: 'float32' | 'float16', requiresGrad = true): Tensor {
  return tensor(Array.from(c.data), c.shape, { dtype, requiresGrad });
}

function closeToHalf(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  assertClose(got, want, { rtol: 2 ** -10, atol: 2 ** -11 * scale }, label);
}

/**
 * Runs `op` on half-valued operands in float16 and in float32: the half output must be float16 and match
 * `reference` (float64 on the same inputs); gradients of Σ out·w (w random half values) must be float16 and match
 * the float32 op's.
 */
async function checkHalf(
  name: string,
  operands: CpuTensor[],
  op: (...xs: Tensor[]) => Tensor,
  reference: (...xs: CpuTensor[]) => CpuTensor,
): Promise<void> {
  const run = async (dtype: 'float32' | 'float16') => {
    const xs = operands.map((c) => toGpu(c, dtype));
    const y = op(...xs);
    const w = tensor(Array.from(halfCpu(y.shape, 99).data), y.shape, { dtype });
    sum(mul(y, w)).backward();
    const out = {
      dtype: y.dtype,
      y: await y.toArray(),
      grads: [] as { dtype: string; data: Float32Array }[],
    };
    for (const x of xs) {
      const g = x.grad as Tensor;
      out.grads.push({ dtype: g.dtype, data: await g.toArray() });
    }
    for (const t of [...xs, y, w]) t.dispose();
    return out;
  };
  const h = await run('float16');
  const f = await run('float32');
  expect(h.dtype, `${name} output dtype`).toBe('float16');
  closeToHalf(h.y, reference(...operands).data, `${name} forward`);
  h.grads.forEach((g, i) => {
    expect(g.dtype, `${name} gradient ${i} dtype`).toBe('float16');
    closeToHalf(g.data, f.grads[i].data, `${name} gradient ${i}`);
  });
}

describe('float16 ops', () => {
  const convCases: [string, number[], number[], Conv2dOptions][] = [
    ['3x3 pad 1', [2, 5, 9, 7], [6, 5, 3, 3], { padding: 1 }],
    ['1x1', [2, 12, 6, 6], [7, 12, 1, 1], {}],
    ['depthwise 3x3 stride 2', [2, 6, 9, 8], [6, 1, 3, 3], { groups: 6, stride: 2, padding: 1 }],
  ];
  for (const [label, xs, ws, options] of convCases) {
    it(`conv2d ${label}: half storage, float32 accumulation`, async () => {
      await checkHalf(
        `conv2d ${label}`,
        [halfCpu(xs, 1), halfCpu(ws, 2, -0.5, 0.5), halfCpu([ws[0]], 3)],
        (x, w, b) => conv2d(x, w, b, options),
        (x, w, b) => conv2dCpu(x, w, b, options),
      );
    });
  }

  it('conv2d refuses mixed float16 and float32 operands outside autocast, naming both', () => {
    const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4], { dtype: 'float16' });
    const w = tensor(new Float32Array(4 * 3 * 3 * 3), [4, 3, 3, 3]);
    expect(() => conv2d(x, w)).toThrow(/conv2d: weight .* is float32 but input .* is float16/);
  });

  it('matmul and linear', async () => {
    await checkHalf('matmul', [halfCpu([3, 17, 20], 4), halfCpu([20, 9], 5)], matmul, matmulCpu);
    await checkHalf(
      'linear',
      [halfCpu([6, 20], 6), halfCpu([9, 20], 7), halfCpu([9], 8)],
      (x, w, b) => linear(x, w, b),
      (x, w, b) => {
        const wt = { data: new Float64Array(w.data.length), shape: [w.shape[1], w.shape[0]] };
        for (let i = 0; i < w.shape[0]; i++)
          for (let j = 0; j < w.shape[1]; j++) wt.data[j * w.shape[0] + i] = w.data[i * w.shape[1] + j];
        const y = matmulCpu(x, wt);
        for (let i = 0; i < y.data.length; i++) y.data[i] += b.data[i % b.data.length];
        return y;
      },
    );
  });

  it('batch norm: half input and output, float32 parameters and running statistics', async () => {
    const x = halfCpu([3, 4, 5, 6], 9, -2, 3);
    const weight = [0.5, 1, 1.5, -1];
    const bias = [0.1, 0, -0.2, 0.3];
    const run = (dtype: 'float32' | 'float16') => {
      const rm = tensor([0, 0, 0, 0], [4]);
      const rv = tensor([1, 1, 1, 1], [4]);
      const w = tensor(weight, [4], { requiresGrad: true });
      const b = tensor(bias, [4], { requiresGrad: true });
      const xt = toGpu(x, dtype);
      const y = batchNorm2d(xt, rm, rv, w, b, { training: true, momentum: 0.1 });
      const g = tensor(Array.from(halfCpu(x.shape, 10).data), x.shape, { dtype });
      sum(mul(y, g)).backward();
      return { y, rm, rv, grads: [xt.grad as Tensor, w.grad as Tensor, b.grad as Tensor] };
    };
    const h = run('float16');
    const f = run('float32');
    expect(h.y.dtype).toBe('float16');
    expect(h.rm.dtype).toBe('float32');
    const ref = cpuBatchNorm(x, [0, 0, 0, 0], [1, 1, 1, 1], weight, bias, true, 0.1, 1e-5);
    closeToHalf(await h.y.toArray(), ref.output.data, 'batch norm forward');
    // The statistics come from the same half inputs in f32: as close to float64 as the float32 op's.
    assertClose(await h.rm.toArray(), ref.runningMean, { rtol: 1e-5, atol: 1e-6 }, 'running mean');
    assertClose(await h.rv.toArray(), ref.runningVar, { rtol: 1e-5, atol: 1e-6 }, 'running var');
    expect(h.grads.map((g) => g.dtype)).toEqual(['float16', 'float32', 'float32']);
    for (let i = 0; i < 3; i++)
      closeToHalf(await h.grads[i].toArray(), await f.grads[i].toArray(), `batch norm gradient ${i}`);
  });

  it('pooling: max, average, adaptive and global average', async () => {
    const x = halfCpu([2, 3, 9, 8], 11, -3, 3);
    await checkHalf(
      'maxPool2d',
      [x],
      (t) => maxPool2d(t, 3, 2, 1),
      (c) => maxPool2dCpu(c, [3, 3], [2, 2], [1, 1]).output,
    );
    await checkHalf(
      'avgPool2d',
      [x],
      (t) => avgPool2d(t, 3, 2, 1),
      (c) => avgPool2dCpu(c, [3, 3], [2, 2], [1, 1], true),
    );
    await checkHalf(
      'adaptiveAvgPool2d 3x2',
      [x],
      (t) => adaptiveAvgPool2d(t, [3, 2]),
      (c) => adaptiveAvgPool2dCpu(c, [3, 2]),
    );
    await checkHalf(
      'global average pool',
      [x],
      (t) => adaptiveAvgPool2d(t, 1),
      (c) => adaptiveAvgPool2dCpu(c, [1, 1]),
    );
  });

  it('interpolate: nearest and bilinear', async () => {
    const x = halfCpu([2, 3, 5, 4], 12, -2, 2);
    await checkHalf(
      'nearest ×2',
      [x],
      (t) => interpolate(t, { scaleFactor: 2 }),
      (c) => interpolateCpu(c, { scaleFactor: 2 }),
    );
    const bilinear = { size: [7, 9] as [number, number], mode: 'bilinear' as const };
    await checkHalf(
      'bilinear',
      [x],
      (t) => interpolate(t, bilinear),
      (c) => interpolateCpu(c, bilinear),
    );
  });

  it('softmax and logSoftmax', async () => {
    const x = halfCpu([3, 5, 4], 13, -4, 4);
    await checkHalf(
      'softmax',
      [x],
      (t) => softmax(t, 1),
      (c) => cpuSoftmax(c, 1),
    );
    await checkHalf(
      'logSoftmax',
      [x],
      (t) => logSoftmax(t, -1),
      (c) => cpuLogSoftmax(c, -1),
    );
  });

  it('cat keeps float16 and splits the gradient back', async () => {
    const a = halfCpu([2, 3, 4], 14);
    const b = halfCpu([2, 2, 4], 15);
    await checkHalf(
      'cat',
      [a, b],
      (x, y) => cat([x, y], 1),
      (x, y) => {
        const data: number[] = [];
        for (let n = 0; n < 2; n++) {
          data.push(...x.data.slice(n * 12, n * 12 + 12), ...y.data.slice(n * 8, n * 8 + 8));
        }
        return { data: Float64Array.from(data), shape: [2, 5, 4] };
      },
    );
  });

  it('crossEntropy takes float16 logits: a float32 loss, a float16 gradient', async () => {
    const logits = halfCpu([2, 3, 4, 5], 16, -3, 3);
    const r = rng(17);
    const target = Array.from({ length: 40 }, () => Math.floor(r() * 3));
    const t = tensor(target, [2, 4, 5], { dtype: 'int32' });
    const run = async (dtype: 'float32' | 'float16') => {
      const x = toGpu(logits, dtype);
      const loss = crossEntropy(x, t);
      loss.backward();
      return { loss, grad: x.grad as Tensor };
    };
    const h = await run('float16');
    const f = await run('float32');
    expect(h.loss.dtype).toBe('float32');
    expect(h.grad.dtype).toBe('float16');
    // The loss is computed in f32 from exact half inputs, so float32 tolerance applies.
    const want = cpuClassLoss('ce', logits, target).data[0];
    assertClose([await h.loss.item()], [want], { rtol: 1e-5 }, 'loss');
    closeToHalf(await h.grad.toArray(), await f.grad.toArray(), 'crossEntropy gradient');
  });
});

describe('autocast', () => {
  it('runs conv2d and matmul in float16 and sends float32 gradients to float32 weights', async () => {
    const x = halfCpu([2, 4, 6, 6], 20);
    const w = halfCpu([5, 4, 3, 3], 21, -0.5, 0.5);
    const xt = toGpu(x, 'float32');
    const wt = toGpu(w, 'float32');
    const y = autocast(() => conv2d(xt, wt, null, { padding: 1 }));
    expect(y.dtype).toBe('float16');
    closeToHalf(await y.toArray(), conv2dCpu(x, w, null, { padding: 1 }).data, 'autocast conv2d');
    const g = tensor(Array.from(halfCpu(y.shape, 22).data), y.shape, { dtype: 'float16' });
    sum(mul(y, g)).backward();
    expect(wt.grad?.dtype).toBe('float32');
    expect(xt.grad?.dtype).toBe('float32');

    const a = toGpu(halfCpu([3, 8], 23), 'float32');
    const b = toGpu(halfCpu([8, 5], 24), 'float32');
    const p = autocast(() => matmul(a, b));
    expect(p.dtype).toBe('float16');
    const outside = matmul(a, b);
    expect(outside.dtype).toBe('float32');
  });

  it('with a weight cache, casts each weight once while gradients are off', async () => {
    const x = toGpu(halfCpu([1, 4, 6, 6], 25), 'float32', false);
    // A weight made under noGrad, as folded batch-norm weights are: a leaf that does not require grad.
    const w = toGpu(halfCpu([5, 4, 3, 3], 26), 'float32', false);
    const cache = new HalfWeightCache();
    const ys = noGrad(() => autocast(() => [conv2d(x, w), conv2d(x, w)], { cache }));
    // The weight is cast once; the input (an activation operand) is cast per call and never kept.
    expect(cache.size).toBe(1);
    expect(Array.from(await ys[0].toArray())).toEqual(Array.from(await ys[1].toArray()));
    cache.dispose();
    expect(cache.size).toBe(0);
  });
});
