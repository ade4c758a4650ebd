import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import { assertClose, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { conv2dTuning, useDepthwiseRows } from './conv-tuning.js';
import { conv2dBackwardCpu, conv2dCpu } from './conv2d.cpu.js';
import { conv2d } from './conv2d.js';
import { depthwiseRowsKernel, depthwiseRowsTuning, rowsPerLane } from './depthwise-rows.js';
import type { Conv2dOptions } from './params.js';
import '../../index.js';

beforeAll(async () => {
  await init();
  // Whatever the adapter, these tests are about the row kernels.
  conv2dTuning.depthwiseRows = true;
});

afterAll(() => {
  conv2dTuning.depthwiseRows = 'auto';
});

interface Case {
  name: string;
  x: number[];
  w: number[];
  bias: boolean;
  options: Conv2dOptions;
}

// Widths are multiples of 4 so the vec4 row kernels run (the others take the scalar kernels); heights, channel
// counts and output widths are not, and several widths leave a partial column strip.
const CASES: Case[] = [
  { name: '3x3 stride 1', x: [2, 5, 7, 12], w: [5, 1, 3, 3], bias: true, options: { groups: 5, padding: 1 } },
  {
    name: '5x5 stride 1',
    x: [2, 3, 11, 20],
    w: [3, 1, 5, 5],
    bias: true,
    options: { groups: 3, padding: 2 },
  },
  {
    name: '3x3 stride 2 SAME [0,1,0,1]',
    x: [2, 3, 9, 16],
    w: [3, 1, 3, 3],
    bias: true,
    options: { groups: 3, stride: 2, padding: [0, 1, 0, 1] },
  },
  {
    name: '5x5 stride 2 SAME [1,2,1,2]',
    x: [2, 5, 13, 24],
    w: [5, 1, 5, 5],
    bias: false,
    options: { groups: 5, stride: 2, padding: [1, 2, 1, 2] },
  },
  {
    name: '3x3 stride 2 padding 1, odd height, partial strip',
    x: [1, 3, 11, 24],
    w: [3, 1, 3, 3],
    bias: true,
    options: { groups: 3, stride: 2, padding: 1 },
  },
  {
    name: '3x3 stride (2,1) padding [1,1,2,0]',
    x: [2, 3, 9, 16],
    w: [3, 1, 3, 3],
    bias: false,
    options: { groups: 3, stride: [2, 1], padding: [1, 1, 2, 0] },
  },
  {
    name: '3x3 asymmetric [2,0,0,1], output width not a multiple of 4',
    x: [1, 3, 6, 8],
    w: [3, 1, 3, 3],
    bias: true,
    options: { groups: 3, padding: [2, 0, 0, 1] },
  },
  {
    name: '3x3 multiplier 2',
    x: [2, 3, 5, 8],
    w: [6, 1, 3, 3],
    bias: true,
    options: { groups: 3, padding: 1 },
  },
  {
    name: '3x3 horizontal dilation 2, padding 0',
    x: [1, 2, 6, 12],
    w: [2, 1, 3, 3],
    bias: false,
    options: { groups: 2, dilation: [1, 2] },
  },
];

describe('where the row kernels run', () => {
  it('by default on llvmpipe only; the tiled depthwise kernels elsewhere give the same results', async () => {
    conv2dTuning.depthwiseRows = 'auto';
    try {
      const { architecture, device, description } = getEngine().gpu.info;
      expect(useDepthwiseRows()).toBe(/llvmpipe|lavapipe/i.test(`${architecture} ${device} ${description}`));
    } finally {
      conv2dTuning.depthwiseRows = true;
    }
    const c = CASES[3];
    const inputs = [randomCpu(c.x, 31), randomCpu(c.w, 32)];
    const run = async (rows: boolean) => {
      conv2dTuning.depthwiseRows = rows;
      try {
        const [x, w] = inputs.map((t) => tensor(Float32Array.from(t.data), t.shape));
        const y = conv2d(x, w, null, c.options);
        const out = await y.toArray();
        for (const t of [x, w, y]) t.dispose();
        return out;
      } finally {
        conv2dTuning.depthwiseRows = true;
      }
    };
    const want = conv2dCpu(inputs[0], inputs[1], null, c.options);
    for (const rows of [true, false]) assertClose(await run(rows), want.data, { rtol: 1e-5, atol: 1e-5 });
  });
});

describe('depthwise row kernels against the float64 reference and finite differences', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const inputs = [randomCpu(c.x, 21), randomCpu(c.w, 22)];
      if (c.bias) inputs.push(randomCpu([c.w[0]], 23));
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

  it('matches exact gradients on a layer with many column strips and row blocks', async () => {
    const options: Conv2dOptions = { groups: 6, padding: 2 };
    const xc = randomCpu([3, 6, 70, 36], 31);
    const wc = randomCpu([6, 1, 5, 5], 32);
    const bc = randomCpu([6], 33);
    const want = conv2dCpu(xc, wc, bc, options);
    const gc = randomCpu(want.shape, 34);
    const grads = conv2dBackwardCpu(xc, wc, gc, options);
    const x = tensor(Float32Array.from(xc.data), xc.shape, { requiresGrad: true });
    const w = tensor(Float32Array.from(wc.data), wc.shape, { requiresGrad: true });
    const b = tensor(Float32Array.from(bc.data), bc.shape);
    const out = conv2d(x, w, b, options);
    assertClose(await out.toArray(), want.data, { rtol: 1e-4, atol: 2e-5 }, 'forward');
    out.backward(tensor(Float32Array.from(gc.data), gc.shape));
    assertClose((await x.grad?.toArray()) ?? [], grads.x.data, { rtol: 1e-4, atol: 5e-5 }, 'grad input');
    assertClose(
      (await w.grad?.toArray()) ?? [],
      grads.weight.data,
      { rtol: 1e-4, atol: 2e-4 },
      'grad weight',
    );
    for (const t of [x, w, b, out]) t.dispose();
  });

  it('declares f16 storage with f32 accumulation', () => {
    const k = depthwiseRowsKernel({
      kh: 3,
      kw: 3,
      stride: [1, 1],
      dilation: [1, 1],
      padLeft: 1,
      flip: false,
      vecOut: true,
      hasBias: true,
      element: 'f16',
    });
    expect(k.code).toMatch(/^enable f16;/);
    expect(k.code).toContain('array<vec4<f16>>');
    expect(k.code).toContain('vec4<f32>(x4[');
  });

  it('gives each lane fewer rows on small planes so that a workgroup has work for every lane', () => {
    const { cols, lanes, maxRows } = depthwiseRowsTuning;
    expect(rowsPerLane(1024, 64 * cols, 1)).toBe(maxRows);
    for (const [h, w] of [
      [64, 64],
      [32, 32],
      [16, 16],
      [70, 36],
    ]) {
      const rows = rowsPerLane(h, w, 1);
      const busy = Math.ceil(h / rows) * Math.ceil(w / cols);
      expect(busy >= lanes || rows === 2, `${h}×${w}: ${rows} rows keep ${busy} lanes busy`).toBe(true);
      if (rows < maxRows) expect(Math.ceil(h / (rows * 2)) * Math.ceil(w / cols)).toBeLessThan(lanes);
    }
    // The scatter kernel steps by the row stride.
    expect(rowsPerLane(3, 8, 2) % 2).toBe(0);
  });

  it('rejects vertical dilation, which it has no rows for', () => {
    const shape = { kh: 3, kw: 3, stride: [1, 1] as [number, number], padLeft: 1, flip: false };
    expect(() =>
      depthwiseRowsKernel({ ...shape, dilation: [2, 1], vecOut: true, hasBias: false, element: 'f32' }),
    ).toThrow(/vertical dilation 2/);
  });
});
