import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import { tidy } from '../../scope.js';
import type { Tensor } from '../../tensor.js';
import { assertClose, type CpuTensor, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { permute } from '../views.js';
import { conv2dTuning } from './conv-tuning.js';
import { conv2dBackwardCpu, conv2dCpu } from './conv2d.cpu.js';
import { conv2d } from './conv2d.js';
import type { Conv2dOptions } from './params.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

interface Case {
  name: string;
  x: number[];
  w: number[];
  bias: boolean;
  options: Conv2dOptions;
}

// Small enough for finite differences; none of the channel counts is a multiple of 4, 8 or 16.
const CASES: Case[] = [
  { name: '3x3 pad 1 with bias', x: [2, 3, 5, 6], w: [5, 3, 3, 3], bias: true, options: { padding: 1 } },
  { name: '3x3 stride 2', x: [2, 3, 7, 6], w: [5, 3, 3, 3], bias: true, options: { stride: 2, padding: 1 } },
  {
    name: '3x3 dilation 2',
    x: [1, 2, 7, 7],
    w: [3, 2, 3, 3],
    bias: true,
    options: { dilation: 2, padding: 2 },
  },
  {
    name: 'groups 2',
    x: [2, 6, 5, 5],
    w: [10, 3, 3, 3],
    bias: true,
    options: { groups: 2, padding: [1, 0] },
  },
  { name: 'depthwise 3x3', x: [2, 5, 6, 7], w: [5, 1, 3, 3], bias: true, options: { groups: 5, padding: 1 } },
  {
    name: 'depthwise multiplier 2, stride 2',
    x: [2, 3, 7, 6],
    w: [6, 1, 3, 3],
    bias: true,
    options: { groups: 3, stride: 2, padding: 1 },
  },
  {
    name: 'depthwise 5x5 stride 2, SAME padding [1,2,1,2]',
    x: [1, 3, 9, 8],
    w: [3, 1, 5, 5],
    bias: false,
    options: { groups: 3, stride: 2, padding: [1, 2, 1, 2] },
  },
  {
    name: 'depthwise dilation 2, stride (1,2)',
    x: [1, 3, 8, 9],
    w: [3, 1, 3, 3],
    bias: true,
    options: { groups: 3, dilation: 2, stride: [1, 2], padding: 2 },
  },
  { name: '1x1', x: [2, 7, 4, 5], w: [5, 7, 1, 1], bias: true, options: {} },
  { name: '1x1 stride 2', x: [2, 5, 5, 6], w: [3, 5, 1, 1], bias: false, options: { stride: 2 } },
  { name: '5x5 pad 2 no bias', x: [1, 3, 6, 7], w: [2, 3, 5, 5], bias: false, options: { padding: 2 } },
  {
    name: 'EfficientNet SAME [0,1,0,1] stride 2',
    x: [2, 3, 8, 7],
    w: [4, 3, 3, 3],
    bias: true,
    options: { stride: 2, padding: [0, 1, 0, 1] },
  },
  {
    name: 'asymmetric [2,0,1,3] 3x2 kernel',
    x: [2, 2, 5, 4],
    w: [3, 2, 3, 2],
    bias: true,
    options: { padding: [2, 0, 1, 3] },
  },
  {
    name: "padding 'same' with even kernel",
    x: [1, 2, 5, 5],
    w: [3, 2, 2, 4],
    bias: true,
    options: { padding: 'same' },
  },
];

describe('conv2d against the float64 reference and finite differences', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const inputs = [randomCpu(c.x, 1), randomCpu(c.w, 2)];
      if (c.bias) inputs.push(randomCpu([c.w[0]], 3));
      await checkOp({
        label: c.name,
        inputs,
        gpu: ([x, w, b]) => conv2d(x, w, b ?? null, c.options),
        cpu: ([x, w, b]) => conv2dCpu(x, w, b ?? null, c.options),
        forward: { rtol: 1e-5, atol: 1e-5 },
        backward: { rtol: 1e-4, atol: 1e-4 },
      });
    });
  }

  it('reads a non-contiguous (permuted NHWC) input', async () => {
    const nhwc = randomCpu([2, 5, 6, 3], 4);
    const toNchw = (t: CpuTensor): CpuTensor => {
      const [n, h, w, c] = t.shape;
      const data = new Float64Array(t.data.length);
      for (let i = 0; i < n; i++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            for (let k = 0; k < c; k++)
              data[((i * c + k) * h + y) * w + x] = t.data[((i * h + y) * w + x) * c + k];
      return { data, shape: [n, c, h, w] };
    };
    const options: Conv2dOptions = { padding: 1, stride: [2, 1] };
    await checkOp({
      label: 'permuted input',
      inputs: [nhwc, randomCpu([4, 3, 3, 3], 5), randomCpu([4], 6)],
      gpu: ([x, w, b]) => conv2d(permute(x, [0, 3, 1, 2]), w, b, options),
      cpu: ([x, w, b]) => conv2dCpu(toNchw(x), w, b, options),
      forward: { rtol: 1e-5, atol: 1e-5 },
      backward: { rtol: 1e-4, atol: 1e-4 },
    });
    // The depthwise kernels take strides too.
    const dwOptions: Conv2dOptions = { padding: 1, groups: 3 };
    await checkOp({
      label: 'permuted input, depthwise',
      inputs: [nhwc, randomCpu([3, 1, 3, 3], 7)],
      gpu: ([x, w]) => conv2d(permute(x, [0, 3, 1, 2]), w, null, dwOptions),
      cpu: ([x, w]) => conv2dCpu(toNchw(x), w, null, dwOptions),
      forward: { rtol: 1e-5, atol: 1e-5 },
      backward: { rtol: 1e-4, atol: 1e-4 },
    });
  });
});

/** Shapes spanning several tiles and split reductions, checked against the exact float64 gradients. */
const LARGE: Case[] = [
  {
    name: '3x3 19→70 (two row tiles)',
    x: [2, 19, 13, 11],
    w: [70, 19, 3, 3],
    bias: true,
    options: { padding: 1 },
  },
  {
    name: 'groups 2 stride 2 SAME',
    x: [2, 18, 15, 13],
    w: [36, 9, 3, 3],
    bias: true,
    options: { groups: 2, stride: 2, padding: [0, 1, 0, 1] },
  },
  { name: '1x1 37→24', x: [2, 37, 20, 21], w: [24, 37, 1, 1], bias: true, options: {} },
  { name: '1x1 24→5', x: [3, 24, 9, 23], w: [5, 24, 1, 1], bias: false, options: {} },
  // 32·32 pixels: the 1×1 weight gradient splits each image's pixel sum into 4 matmul chunks (pointwise.ts).
  { name: '1x1 8→12 split pixels', x: [1, 8, 32, 32], w: [12, 8, 1, 1], bias: true, options: {} },
  // Small images: on CPU adapters one matmul over the batch (1 pixel) or one per image (a batch of ≤ 64
  // pixels), the bias added after.
  { name: '1x1 20→36 of 1-pixel images', x: [3, 20, 1, 1], w: [36, 20, 1, 1], bias: true, options: {} },
  { name: '1x1 40→24 of 4×4 images', x: [3, 40, 4, 4], w: [24, 40, 1, 1], bias: true, options: {} },
  {
    name: 'depthwise 5x5 ×12',
    x: [2, 12, 33, 31],
    w: [12, 1, 5, 5],
    bias: true,
    options: { groups: 12, padding: 2 },
  },
  {
    name: 'depthwise 3x3 ×2 stride 2',
    x: [2, 7, 30, 27],
    w: [14, 1, 3, 3],
    bias: true,
    options: { groups: 7, stride: 2, padding: [0, 1, 0, 1] },
  },
];

async function read(t: Tensor | null): Promise<Float32Array> {
  if (!t) throw new Error('missing gradient');
  return (await t.toArray()) as Float32Array;
}

// Both GEMM strategies run everywhere: 'direct' is what CPU adapters use, 'tiled' what GPUs use. The direct
// kernels run with weights broadcast over the subgroup where the device has subgroups (llvmpipe's default), and
// with a read per lane.
describe.each([
  { strategy: 'direct', subgroupWeights: 'auto' },
  { strategy: 'direct', subgroupWeights: false },
  { strategy: 'tiled', subgroupWeights: 'auto' },
] as const)(
  'conv2d ($strategy, subgroup weights $subgroupWeights) on larger shapes against exact float64 gradients',
  ({ strategy, subgroupWeights }) => {
    beforeAll(() => {
      conv2dTuning.strategy = strategy;
      conv2dTuning.subgroupWeights = subgroupWeights;
    });
    afterAll(() => {
      conv2dTuning.strategy = 'auto';
      conv2dTuning.subgroupWeights = 'auto';
    });
    for (const c of LARGE) {
      it(c.name, async () => {
        const xc = randomCpu(c.x, 11);
        const wc = randomCpu(c.w, 12);
        const bc = c.bias ? randomCpu([c.w[0]], 13) : null;
        const want = conv2dCpu(xc, wc, bc, c.options);
        const gc = randomCpu(want.shape, 14);
        const grads = conv2dBackwardCpu(xc, wc, gc, c.options);
        const x = tensor(Float32Array.from(xc.data), xc.shape, { requiresGrad: true });
        const w = tensor(Float32Array.from(wc.data), wc.shape, { requiresGrad: true });
        const b = bc ? tensor(Float32Array.from(bc.data), bc.shape, { requiresGrad: true }) : null;
        // Upstream gradient as a permuted view, so the backward kernels read strided dy.
        const [n, co, oh, ow] = want.shape;
        const gNhwc = new Float32Array(gc.data.length);
        for (let i = 0; i < n; i++)
          for (let k = 0; k < co; k++)
            for (let y = 0; y < oh; y++)
              for (let z = 0; z < ow; z++)
                gNhwc[((i * oh + y) * ow + z) * co + k] = gc.data[((i * co + k) * oh + y) * ow + z];
        const gBase = tensor(gNhwc, [n, oh, ow, co]);
        const g = permute(gBase, [0, 3, 1, 2]);
        const out = conv2d(x, w, b, c.options);
        assertClose(await out.toArray(), want.data, { rtol: 1e-4, atol: 2e-5 }, `${c.name} forward`);
        out.backward(g);
        assertClose(await read(x.grad), grads.x.data, { rtol: 1e-4, atol: 5e-5 }, `${c.name} grad input`);
        assertClose(
          await read(w.grad),
          grads.weight.data,
          { rtol: 1e-4, atol: 2e-4 },
          `${c.name} grad weight`,
        );
        if (b)
          assertClose(await read(b.grad), grads.bias.data, { rtol: 1e-4, atol: 2e-4 }, `${c.name} grad bias`);
        for (const t of [x, w, b, gBase, g, out]) t?.dispose();
      });
    }
  },
);

describe('conv2d splits the batch when operands exceed a storage binding', () => {
  // A 4 KiB binding limit makes these tiny tensors "too large", so every pass runs in windows of a few images
  // bound at offsets that are not multiples of the binding alignment.
  const cases: Case[] = [
    { name: 'dense 3x3', x: [5, 3, 9, 8], w: [4, 3, 3, 3], bias: true, options: { padding: 1 } },
    {
      name: 'depthwise',
      x: [5, 3, 9, 8],
      w: [6, 1, 3, 3],
      bias: true,
      options: { groups: 3, stride: 2, padding: 1 },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      conv2dTuning.maxBindingBytes = 4096;
      try {
        const inputs = [randomCpu(c.x, 21), randomCpu(c.w, 22), randomCpu([c.w[0]], 23)];
        await checkOp({
          label: `${c.name} in batch chunks`,
          inputs,
          gpu: ([x, w, b]) => conv2d(x, w, b, c.options),
          cpu: ([x, w, b]) => conv2dCpu(x, w, b, c.options),
          forward: { rtol: 1e-5, atol: 1e-5 },
          backward: { rtol: 1e-4, atol: 1e-4 },
        });
      } finally {
        conv2dTuning.maxBindingBytes = null;
      }
    });
  }
  it('names the tensor when one image is too large', () => {
    conv2dTuning.maxBindingBytes = 1024;
    const x = tensor(new Float32Array(2 * 3 * 16 * 16), [2, 3, 16, 16]);
    const w = tensor(new Float32Array(2 * 3 * 9), [2, 3, 3, 3]);
    try {
      expect(() => conv2d(x, w)).toThrow(
        /one image of the input Tensor\(.*\) spans \d+ bytes, over the maxStorageBufferBindingSize of 1024/,
      );
    } finally {
      conv2dTuning.maxBindingBytes = null;
      x.dispose();
      w.dispose();
    }
  });
});

describe('conv2d input checks', () => {
  it('names what is wrong', () => {
    const x = tensor(new Float32Array(2 * 4 * 5 * 5), [2, 4, 5, 5]);
    const w = tensor(new Float32Array(6 * 2 * 3 * 3), [6, 2, 3, 3]);
    expect(() => conv2d(x, w)).toThrow(/expects 2 input channels with groups 1, input has 4/);
    expect(() => conv2d(x, w, null, { groups: 3 })).toThrow(/groups 3 must divide/);
    expect(() => conv2d(x, w, null, { groups: 2, padding: [1, 2, 3] as unknown as number })).toThrow(
      /padding/,
    );
    expect(() => conv2d(x, w, null, { groups: 2, stride: 0 })).toThrow(/stride/);
    const big = tensor(new Float32Array(6 * 2 * 9 * 9), [6, 2, 9, 9]);
    expect(() => conv2d(x, big, null, { groups: 2 })).toThrow(/smaller than the dilated kernel/);
    for (const t of [x, w, big]) t.dispose();
  });
});

describe('1×1 convolutions of small images on CPU adapters', () => {
  it('run as matrix products, not the direct kernel', () => {
    const engine = getEngine();
    for (const [shape, takes] of [
      [[8, 16, 1, 1], true],
      [[2, 16, 4, 4], true],
      [[2, 16, 8, 8], true],
      [[4, 16, 8, 8], false],
      [[8, 16, 4, 4], false],
    ] as const) {
      const x = tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), [...shape], {
        requiresGrad: true,
      });
      const w = tensor(new Float32Array(24 * 16), [24, 16, 1, 1]);
      const names: string[] = [];
      const dispatch = engine.dispatch.bind(engine);
      const spy = vi.spyOn(engine, 'dispatch').mockImplementation((kernel, ...rest) => {
        names.push(kernel.name);
        dispatch(kernel, ...rest);
      });
      tidy(() =>
        conv2d(x, w, tensor(new Float32Array(24), [24]))
          .sum()
          .backward(),
      );
      spy.mockRestore();
      const direct = names.some((n) => n.startsWith('conv2d_direct'));
      expect(direct, `[${shape}] took the direct kernel`).toBe(engine.gpu.info.isSoftware ? !takes : false);
    }
  });
});
