import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../engine/engine.js';
import { goldenMismatch, loadGolden } from '../../testing/golden.js';
import { checkOp, randomCpu, rng } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { logSoftmax } from '../softmax/softmax.js';
import type { Reduction } from './class-loss.js';
import { crossEntropy, nllLoss } from './cross-entropy.js';
import { cpuClassLoss } from './loss.cpu.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

function targets(count: number, classes: number, seed: number, ignore?: number): number[] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) =>
    ignore !== undefined && i % 5 === 2 ? ignore : Math.floor(r() * classes),
  );
}

interface LossCase {
  shape: number[];
  reduction: Reduction;
  ignore?: number;
  weight?: number[];
}

function caseLabel({ shape, reduction, ignore, weight }: LossCase): string {
  return `[${shape}] ${reduction}${ignore !== undefined ? ` ignore ${ignore}` : ''}${weight ? ' weighted' : ''}`;
}

/** Both losses forward against the float64 reference, backward against finite differences. */
async function checkLossCase(c: LossCase): Promise<void> {
  const { shape, reduction, ignore, weight } = c;
  const label = caseLabel(c);
  const [N, C, ...rest] = shape;
  const pixels = N * rest.reduce((a, b) => a * b, 1);
  const t = targets(pixels, C, 3, ignore);
  const target = tensor(Int32Array.from(t), [N, ...rest]);
  const w = weight ? tensor(weight, [C]) : null;
  const options = { reduction, ignoreIndex: ignore ?? -100, weight: w };
  const cpuOptions = { reduction, ignoreIndex: ignore ?? -100, weight };
  await checkOp({
    label: `crossEntropy ${label}`,
    inputs: [randomCpu(shape, 7, -3, 3)],
    gpu: ([x]) => crossEntropy(x, target, options),
    cpu: ([x]) => cpuClassLoss('ce', x, t, cpuOptions),
    forward: { rtol: 1e-5, atol: 1e-5 },
  });
  await checkOp({
    label: `nllLoss ${label}`,
    inputs: [randomCpu(shape, 8, -3, 0)],
    gpu: ([x]) => nllLoss(x, target, options),
    cpu: ([x]) => cpuClassLoss('nll', x, t, cpuOptions),
  });
  target.dispose();
  w?.dispose();
}

describe('crossEntropy and nllLoss', () => {
  const cases: LossCase[] = [
    { shape: [7, 3], reduction: 'mean' },
    { shape: [2, 5, 3, 4], reduction: 'mean', ignore: 255 },
    { shape: [2, 3, 3, 5], reduction: 'sum', ignore: -100 },
    { shape: [2, 3, 3, 5], reduction: 'none', ignore: 255 },
    { shape: [3, 4, 5], reduction: 'mean', ignore: -100, weight: [0.5, 2, 1, 0.25] },
    { shape: [9, 2], reduction: 'sum', weight: [3, 0.5] },
  ];
  for (const c of cases) it(caseLabel(c), () => checkLossCase(c));

  it('equals nllLoss of logSoftmax, also for a non-contiguous logits view', async () => {
    const x = tensor(Float32Array.from(randomCpu([4, 3, 2], 9).data), [4, 3, 2]);
    const logits = x.permute([0, 2, 1]); // [4, 2, 3]: class dim 1 of size 2, strided
    const target = tensor(new Int32Array([0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1]), [4, 3]);
    const a = await crossEntropy(logits, target).item();
    const b = await nllLoss(logSoftmax(logits, 1), target).item();
    expect(Math.abs(a - b)).toBeLessThan(1e-6);
  });

  it('names the tensor when the target does not fit', () => {
    const x = tensor(new Float32Array(24), [2, 3, 4]);
    expect(() => crossEntropy(x, tensor(new Int32Array(6), [2, 3]))).toThrow(
      /target has shape \[2, 3\].*needs \[2, 4\]/,
    );
    expect(() => crossEntropy(x, tensor(new Float32Array(8), [2, 4]))).toThrow(/int32/);
  });

  it('an out-of-range target gives NaN instead of reading out of bounds', async () => {
    const loss = crossEntropy(tensor([1, 2, 3, 4], [2, 2]), tensor(new Int32Array([0, 7]), [2]));
    expect(Number.isNaN(await loss.item())).toBe(true);
  });
});

describe('cross entropy golden values from PyTorch', () => {
  for (const c of loadGolden('softmax').filter((k) => k.op === 'cross_entropy')) {
    it(c.name, async () => {
      const input = c.inputs['input'];
      const x = tensor(Float32Array.from(input.data), input.shape, { requiresGrad: true });
      const target = tensor(Int32Array.from(c.inputs['target'].data), c.inputs['target'].shape);
      const loss = crossEntropy(x, target, {
        reduction: c.params['reduction'] as Reduction,
        ignoreIndex: c.params['ignore_index'] as number,
      });
      expect(
        goldenMismatch(await loss.toArray(), c.outputs['output'], c.tolerance.outputs, 'output'),
      ).toBeNull();
      const go = c.gradOutput!;
      loss.backward(tensor(Float32Array.from(go.data), go.shape));
      expect(goldenMismatch(await x.grad!.toArray(), c.grads['input'], c.tolerance.grads, 'grad')).toBeNull();
    });
  }
});

describe('losses over logits larger than a storage binding', () => {
  afterEach(() => limitBindingBytes(null));
  // With a 1 KiB binding budget the logits below run as batch slabs of 3 and 2 samples, each bound as a window
  // that starts on the device's offset alignment, so the kernels address them from a non-zero offset.
  const cases: LossCase[] = [
    { shape: [5, 3, 4, 5], reduction: 'mean', ignore: 255 },
    { shape: [5, 3, 4, 5], reduction: 'none', ignore: -100 },
    { shape: [5, 3, 4, 5], reduction: 'sum', weight: [0.5, 2, 1] },
  ];
  for (const c of cases)
    it(caseLabel(c), async () => {
      limitBindingBytes(1024);
      await checkLossCase(c);
    });

  it('refuses, naming the op and the limit, a sample larger than a binding', () => {
    limitBindingBytes(1024);
    const x = tensor(new Float32Array(2 * 2 * 300), [2, 2, 300]);
    const target = tensor(new Int32Array(600), [2, 300]);
    expect(() => crossEntropy(x, target)).toThrow(/crossEntropy: one sample .*maxStorageBufferBindingSize/);
    x.dispose();
    target.dispose();
  });
});
