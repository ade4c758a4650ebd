import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init, memoryStats } from '../../engine/engine.js';
import { tidy } from '../../scope.js';
import { goldenMismatch, loadGolden } from '../../testing/golden.js';
import { type CpuTensor, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { permute } from '../views.js';
import { interpolateCpu } from './interpolate.cpu.js';
import { type InterpolateOptions, interpolate } from './interpolate.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

const GRAD = { rtol: 1e-3, atol: 1e-4 };

describe('interpolate against the float64 reference', () => {
  const cases: [number[], InterpolateOptions][] = [
    [[2, 3, 3, 5], { scaleFactor: 2, mode: 'nearest' }],
    [[1, 2, 3, 5], { size: [7, 8], mode: 'nearest' }],
    [[1, 2, 7, 9], { size: [3, 4], mode: 'nearest' }],
    [[2, 2, 3, 5], { scaleFactor: 2, mode: 'bilinear' }],
    [[2, 2, 3, 5], { scaleFactor: 2, mode: 'bilinear', alignCorners: true }],
    [[1, 2, 4, 5], { size: [7, 9], mode: 'bilinear' }],
    [[1, 2, 4, 5], { size: [7, 9], mode: 'bilinear', alignCorners: true }],
    [[1, 2, 5, 7], { size: [3, 4], mode: 'bilinear' }],
    [[1, 1, 5, 7], { size: [2, 3], mode: 'bilinear', alignCorners: true }],
    [[2, 1, 1, 3], { scaleFactor: 2, mode: 'bilinear' }],
    [[1, 1, 3, 4], { size: [1, 1], mode: 'bilinear', alignCorners: true }],
    [[1, 1, 4, 6], { scaleFactor: [1.5, 0.5], mode: 'bilinear' }],
  ];
  for (const [shape, options] of cases) {
    it(`${JSON.stringify(shape)} ${JSON.stringify(options)}`, async () => {
      await checkOp({
        label: 'interpolate',
        inputs: [randomCpu(shape, 9)],
        gpu: ([x]) => interpolate(x, options),
        cpu: ([x]) => interpolateCpu(x, options),
        backward: GRAD,
      });
    });
  }

  it('reads a permuted (non-contiguous) input', async () => {
    const toNchw = (x: CpuTensor): CpuTensor => {
      const [n, h, w, c] = x.shape;
      const data = new Float64Array(x.data.length);
      for (let a = 0; a < n; a++)
        for (let y = 0; y < h; y++)
          for (let z = 0; z < w; z++)
            for (let b = 0; b < c; b++)
              data[((a * c + b) * h + y) * w + z] = x.data[((a * h + y) * w + z) * c + b];
      return { data, shape: [n, c, h, w] };
    };
    const options: InterpolateOptions = { scaleFactor: 2, mode: 'bilinear' };
    await checkOp({
      label: 'interpolate nhwc',
      inputs: [randomCpu([1, 3, 4, 2], 10)],
      gpu: ([x]) => interpolate(permute(x, [0, 3, 1, 2]), options),
      cpu: ([x]) => interpolateCpu(toNchw(x), options),
      backward: GRAD,
    });
  });

  it('rejects giving both size and scaleFactor', () => {
    const x = tensor(new Float32Array(4), [1, 1, 2, 2]);
    expect(() => interpolate(x, { size: 4, scaleFactor: 2 })).toThrow(/exactly one of size and scaleFactor/);
    x.dispose();
  });
});

describe('memory', () => {
  it('forward and backward free every intermediate', async () => {
    const x = tensor(Float32Array.from(randomCpu([1, 2, 3, 4], 1).data), [1, 2, 3, 4], {
      requiresGrad: true,
    });
    const step = () =>
      tidy(() => {
        interpolate(x, { scaleFactor: 2, mode: 'bilinear' })
          .sum()
          .add(interpolate(x, { size: [5, 7] }).sum())
          .backward();
      });
    step();
    const after1 = memoryStats().bytesInUse;
    for (let i = 0; i < 5; i++) step();
    expect(memoryStats().bytesInUse).toBe(after1);
    x.dispose();
  });
});

describe('interpolate golden values from PyTorch', () => {
  for (const c of loadGolden('pool_upsample')) {
    if (c.op !== 'interpolate') continue;
    it(c.name, async () => {
      const input = c.inputs.input;
      const x = tensor(Float32Array.from(input.data), input.shape, { requiresGrad: true });
      const options: InterpolateOptions = { mode: c.params.mode as 'nearest' | 'bilinear' };
      if (c.params.size !== null) options.size = c.params.size as [number, number];
      if (c.params.scale_factor !== null) options.scaleFactor = c.params.scale_factor as number;
      if (c.params.align_corners !== null) options.alignCorners = c.params.align_corners as boolean;
      const y = interpolate(x, options);
      const errors = [goldenMismatch(await y.toArray(), c.outputs.output, c.tolerance.outputs, 'output')];
      if (c.gradOutput) {
        const g = tensor(Float32Array.from(c.gradOutput.data), c.gradOutput.shape);
        y.backward(g);
        g.dispose();
        const got = x.grad ? await x.grad.toArray() : new Float32Array(0);
        errors.push(goldenMismatch(got, c.grads.input, c.tolerance.grads, 'grad input'));
      }
      x.dispose();
      y.dispose();
      expect(errors.filter((e) => e !== null)).toEqual([]);
    });
  }
});

describe('interpolate over outputs larger than a storage binding', () => {
  afterEach(() => limitBindingBytes(null));
  // With a 1 KiB binding budget one output sample (at most 128 floats) fits, the batch of 5 does not: the
  // decoder of a B4-UNet at 8 × 512² is in this situation on devices with 128 MiB bindings.
  const cases: InterpolateOptions[] = [
    { scaleFactor: 2, mode: 'nearest' },
    { scaleFactor: 2, mode: 'bilinear' },
    { size: [5, 7], mode: 'bilinear', alignCorners: true },
  ];
  for (const options of cases) {
    it(JSON.stringify(options), async () => {
      limitBindingBytes(1024);
      await checkOp({
        label: 'interpolate in slabs',
        inputs: [randomCpu([5, 2, 4, 4], 10)],
        gpu: ([x]) => interpolate(x, options),
        cpu: ([x]) => interpolateCpu(x, options),
        backward: GRAD,
      });
    });
  }
});
