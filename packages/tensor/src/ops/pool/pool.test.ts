import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init, memoryStats } from '../../engine/engine.js';
import { tidy } from '../../scope.js';
import type { Tensor } from '../../tensor.js';
import { goldenMismatch, loadGolden } from '../../testing/golden.js';
import { type CpuTensor, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { permute } from '../views.js';
import { adaptiveAvgPool2d } from './adaptive-avg-pool2d.js';
import { avgPool2d } from './avg-pool2d.js';
import { maxPool2d, maxPool2dWithIndices } from './max-pool2d.js';
import { adaptiveAvgPool2dCpu, avgPool2dCpu, maxPool2dCpu } from './pool.cpu.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

type P2 = [number, number];

/** Random values that are all distinct, so every window has one clear maximum for finite differences. */
function distinct(shape: number[], seed: number): CpuTensor {
  const x = randomCpu(shape, seed);
  const order = Array.from(x.data.keys()).sort((a, b) => x.data[a] - x.data[b]);
  order.forEach((at, rank) => {
    x.data[at] = Math.fround(-1 + (2 * rank) / order.length);
  });
  return x;
}

/** An NHWC buffer read as NCHW through permute: a non-contiguous input. */
function nhwcToNchw(x: CpuTensor): CpuTensor {
  const [n, h, w, c] = x.shape;
  const data = new Float64Array(x.data.length);
  for (let a = 0; a < n; a++)
    for (let y = 0; y < h; y++)
      for (let z = 0; z < w; z++)
        for (let b = 0; b < c; b++)
          data[((a * c + b) * h + y) * w + z] = x.data[((a * h + y) * w + z) * c + b];
  return { data, shape: [n, c, h, w] };
}

const GRAD = { rtol: 1e-3, atol: 1e-4 };

describe('maxPool2d', () => {
  const cases: [number[], P2, P2, P2][] = [
    [
      [2, 3, 6, 7],
      [2, 2],
      [2, 2],
      [0, 0],
    ],
    [
      [1, 2, 7, 9],
      [3, 3],
      [2, 2],
      [1, 1],
    ],
    [
      [1, 1, 5, 8],
      [3, 2],
      [1, 2],
      [1, 0],
    ],
  ];
  for (const [shape, k, s, p] of cases) {
    it(`${JSON.stringify(shape)} k${k} s${s} p${p}`, async () => {
      await checkOp({
        label: 'maxPool2d',
        inputs: [distinct(shape, 3)],
        gpu: ([x]) => maxPool2d(x, k, s, p),
        cpu: ([x]) => maxPool2dCpu(x, k, s, p).output,
        eps: 1e-4,
        backward: GRAD,
      });
    });
  }

  it('on a permuted (non-contiguous) input', async () => {
    await checkOp({
      label: 'maxPool2d nhwc',
      inputs: [distinct([1, 5, 6, 3], 4)],
      gpu: ([x]) => maxPool2d(permute(x, [0, 3, 1, 2]), 2),
      cpu: ([x]) => maxPool2dCpu(nhwcToNchw(x), [2, 2], [2, 2], [0, 0]).output,
      eps: 1e-4,
      backward: GRAD,
    });
  });

  it('breaks ties toward the first maximum and sends the whole gradient there', async () => {
    // Each 2×2 window holds equal values, so the first (top-left) must win.
    const x = tensor(Float32Array.from([1, 1, 2, 2, 1, 1, 2, 2]), [1, 1, 2, 4], { requiresGrad: true });
    const { output, indices } = maxPool2dWithIndices(x, 2);
    expect(Array.from(await indices.toArray())).toEqual([0, 2]);
    output.sum().backward();
    expect(Array.from(await (x.grad as Tensor).toArray())).toEqual([1, 0, 1, 0, 0, 0, 0, 0]);
    for (const t of [x, output, indices]) t.dispose();
  });

  it('rejects padding over half the kernel, naming the op', () => {
    const x = tensor(new Float32Array(16), [1, 1, 4, 4]);
    expect(() => maxPool2d(x, 2, 1, 2)).toThrow(/maxPool2d: padding/);
    x.dispose();
  });
});

describe('avgPool2d', () => {
  const cases: [number[], P2, P2, P2, boolean][] = [
    [[2, 3, 6, 7], [2, 2], [2, 2], [0, 0], true],
    [[1, 2, 5, 7], [3, 3], [1, 1], [1, 1], true],
    [[1, 2, 5, 7], [3, 3], [1, 1], [1, 1], false],
    [[2, 1, 7, 8], [3, 2], [2, 3], [1, 1], false],
  ];
  for (const [shape, k, s, p, include] of cases) {
    it(`${JSON.stringify(shape)} k${k} s${s} p${p} countIncludePad=${include}`, async () => {
      await checkOp({
        label: 'avgPool2d',
        inputs: [randomCpu(shape, 5)],
        gpu: ([x]) => avgPool2d(x, k, s, p, { countIncludePad: include }),
        cpu: ([x]) => avgPool2dCpu(x, k, s, p, include),
        backward: GRAD,
      });
    });
  }
  it('on a permuted (non-contiguous) input', async () => {
    await checkOp({
      label: 'avgPool2d nhwc',
      inputs: [randomCpu([2, 5, 4, 3], 6)],
      gpu: ([x]) => avgPool2d(permute(x, [0, 3, 1, 2]), 3, 2, 1),
      cpu: ([x]) => avgPool2dCpu(nhwcToNchw(x), [3, 3], [2, 2], [1, 1], true),
      backward: GRAD,
    });
  });
});

describe('adaptiveAvgPool2d', () => {
  const cases: [number[], P2][] = [
    [
      [2, 5, 3, 7],
      [1, 1],
    ],
    [
      [1, 3, 7, 9],
      [3, 4],
    ],
    [
      [1, 2, 5, 5],
      [5, 3],
    ],
    [
      [1, 2, 4, 6],
      [6, 6],
    ],
  ];
  for (const [shape, size] of cases) {
    it(`${JSON.stringify(shape)} to ${size}`, async () => {
      await checkOp({
        label: 'adaptiveAvgPool2d',
        inputs: [randomCpu(shape, 7)],
        gpu: ([x]) => adaptiveAvgPool2d(x, size),
        cpu: ([x]) => adaptiveAvgPool2dCpu(x, size),
        backward: GRAD,
      });
    });
  }
  it('global pooling of large, permuted planes', async () => {
    await checkOp({
      label: 'global pool nhwc',
      inputs: [randomCpu([2, 19, 17, 3], 8)],
      gpu: ([x]) => adaptiveAvgPool2d(permute(x, [0, 3, 1, 2]), 1),
      cpu: ([x]) => adaptiveAvgPool2dCpu(nhwcToNchw(x), [1, 1]),
      backward: GRAD,
    });
  });
});

describe('memory', () => {
  it('forward and backward of every pooling op free every intermediate', async () => {
    const x = tensor(Float32Array.from(randomCpu([1, 2, 6, 6], 1).data), [1, 2, 6, 6], {
      requiresGrad: true,
    });
    const step = () =>
      tidy(() => {
        maxPool2d(x, 2)
          .sum()
          .add(avgPool2d(x, 3, 1, 1).sum())
          .add(adaptiveAvgPool2d(x, 1).sum())
          .add(adaptiveAvgPool2d(x, [4, 5]).sum())
          .backward();
      });
    step();
    const after1 = memoryStats().bytesInUse;
    for (let i = 0; i < 5; i++) step();
    expect(memoryStats().bytesInUse).toBe(after1);
    x.dispose();
  });
});

describe('pooling golden values from PyTorch', () => {
  const pairOf = (v: unknown) => v as P2;
  for (const c of loadGolden('pool_upsample')) {
    if (!['max_pool2d', 'avg_pool2d', 'adaptive_avg_pool2d'].includes(c.op)) continue;
    it(c.name, async () => {
      const input = c.inputs.input;
      const x = tensor(Float32Array.from(input.data), input.shape, { requiresGrad: true });
      const errors: (string | null)[] = [];
      let y: Tensor;
      if (c.op === 'max_pool2d') {
        const r = maxPool2dWithIndices(
          x,
          pairOf(c.params.kernel_size),
          pairOf(c.params.stride),
          pairOf(c.params.padding),
        );
        y = r.output;
        errors.push(
          goldenMismatch(await r.indices.toArray(), c.outputs.indices, c.tolerance.outputs, 'indices'),
        );
        r.indices.dispose();
      } else if (c.op === 'avg_pool2d') {
        y = avgPool2d(x, pairOf(c.params.kernel_size), pairOf(c.params.stride), pairOf(c.params.padding), {
          countIncludePad: c.params.count_include_pad === true,
        });
      } else {
        y = adaptiveAvgPool2d(x, pairOf(c.params.output_size));
      }
      errors.push(goldenMismatch(await y.toArray(), c.outputs.output, c.tolerance.outputs, 'output'));
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

describe('pooling over tensors larger than a storage binding', () => {
  afterEach(() => limitBindingBytes(null));
  // A 1 KiB binding budget holds ~190 floats: these [5, 2, 6, 8] inputs (96 floats a sample) run as slabs of one
  // sample, each bound as a window that starts on the offset alignment, forward and backward.
  const shape = [5, 2, 6, 8];
  it('maxPool2d, its indices, and its gradient', async () => {
    limitBindingBytes(1024);
    await checkOp({
      label: 'maxPool2d in slabs',
      inputs: [distinct(shape, 5)],
      gpu: ([x]) => maxPool2d(x, 3, 2, 1),
      cpu: ([x]) => maxPool2dCpu(x, [3, 3], [2, 2], [1, 1]).output,
      eps: 1e-4,
      backward: GRAD,
    });
    const x = distinct(shape, 6);
    const { indices } = maxPool2dWithIndices(tensor(Float32Array.from(x.data), shape), 2);
    expect(Array.from(await indices.toArray())).toEqual(maxPool2dCpu(x, [2, 2], [2, 2], [0, 0]).indices);
    indices.dispose();
  });

  it('avgPool2d on a permuted input', async () => {
    limitBindingBytes(1024);
    await checkOp({
      label: 'avgPool2d in slabs',
      inputs: [randomCpu([5, 6, 8, 2], 7)],
      gpu: ([x]) => avgPool2d(permute(x, [0, 3, 1, 2]), 3, 2, 1),
      cpu: ([x]) => avgPool2dCpu(nhwcToNchw(x), [3, 3], [2, 2], [1, 1], true),
      backward: GRAD,
    });
  });

  it('adaptiveAvgPool2d, global and to a size', async () => {
    limitBindingBytes(1024);
    for (const size of [
      [1, 1],
      [4, 3],
    ] as P2[]) {
      await checkOp({
        label: `adaptiveAvgPool2d ${size} in slabs`,
        inputs: [randomCpu(shape, 8)],
        gpu: ([x]) => adaptiveAvgPool2d(x, size),
        cpu: ([x]) => adaptiveAvgPool2dCpu(x, size),
        backward: GRAD,
      });
    }
  });

  it('refuses, naming the kernel and the limit, one sample larger than a binding', () => {
    limitBindingBytes(1024);
    const x = tensor(new Float32Array(2 * 4 * 8 * 8), [2, 4, 8, 8]);
    expect(() => avgPool2d(x, 2)).toThrow(/avg_pool2d: one sample .*maxStorageBufferBindingSize/);
    x.dispose();
  });
});
