import { afterEach, describe, it } from 'vitest';
import { init } from '../../engine/engine.js';
import { checkOp, randomCpu } from '../../testing/index.js';
import { panelsSupported, panelTuning } from '../matmul/panel-gemm.js';
import { conv2dCpu } from './conv2d.cpu.js';
import { conv2d } from './conv2d.js';
import type { Conv2dOptions } from './params.js';
import '../../index.js';

// Opened before collection, so the suite below can ask what the device supports.
await init();

afterEach(() => {
  panelTuning.use = 'auto';
});

const TOL = { forward: { rtol: 1e-4, atol: 2e-5 }, backward: { rtol: 1e-3, atol: 1e-4 } };

// The forward 1×1 and 3×3 convolutions through the matmul's panel kernel, forced on (llvmpipe takes them by
// default on big enough products). Shapes keep widths and strides 4-aligned, which the panels need; the rest
// of conv2d's tests cover what falls back.
describe.runIf(panelsSupported())('conv2d through panel kernels', () => {
  const cases: { name: string; x: number[]; w: number[]; bias: boolean; options: Conv2dOptions }[] = [
    // 20 pixels of 4-wide rows: a ragged last block of 16; 36 output channels: a partial second panel.
    { name: '1x1 12→36', x: [2, 12, 5, 4], w: [36, 12, 1, 1], bias: true, options: {} },
    // 20 columns: a ragged second 16-pixel block per row; 3×3 over 8 channels = 72 k in one window.
    { name: '3x3 8→6 pad 1', x: [2, 8, 6, 20], w: [6, 8, 3, 3], bias: true, options: { padding: 1 } },
    // EfficientNet's static SAME as asymmetric padding (its 7-wide input gradient falls back: not 4-aligned),
    // and no left padding at all.
    {
      name: '3x3 SAME [0,1,0,1]',
      x: [1, 4, 7, 8],
      w: [5, 4, 3, 3],
      bias: false,
      options: { padding: [0, 1, 0, 1] },
    },
    // Convolutions the panels do not take, with 4-aligned shapes whose transposed geometry alone would pass: a
    // stride-2 and a depthwise 3×3 must fall back, their input gradients too.
    {
      name: '3x3 stride 2',
      x: [1, 4, 16, 16],
      w: [4, 4, 3, 3],
      bias: false,
      options: { stride: 2, padding: 1 },
    },
    {
      name: '3x3 depthwise',
      x: [1, 8, 8, 8],
      w: [8, 1, 3, 3],
      bias: false,
      options: { groups: 8, padding: 1 },
    },
    // 60 output channels: lanes of 4 columns (two 32-column panels, the second partial); the rest take 3.
    { name: '3x3 5→60', x: [1, 5, 3, 12], w: [60, 5, 3, 3], bias: true, options: { padding: 1 } },
    {
      name: '3x3 pad [2,0,1,2]',
      x: [1, 3, 5, 8],
      w: [4, 3, 3, 3],
      bias: true,
      options: { padding: [2, 0, 1, 2] },
    },
  ];
  for (const c of cases) {
    it(`${c.name}, forward and backward`, async () => {
      panelTuning.use = true;
      await checkOp({
        label: c.name,
        inputs: [randomCpu(c.x, 41), randomCpu(c.w, 42), ...(c.bias ? [randomCpu([c.w[0]], 43)] : [])],
        gpu: ([x, w, b]) => conv2d(x, w, b ?? null, c.options),
        cpu: ([x, w, b]) => conv2dCpu(x, w, b ?? null, c.options),
        ...TOL,
      });
    });
  }

  // 60 input channels · 9 = 540 k: two windows (56 channels, then 4), the second adding to the first.
  it('3x3 60→40 sums input channels over two windows', async () => {
    panelTuning.use = true;
    await checkOp({
      label: '3x3 two windows',
      inputs: [randomCpu([1, 60, 4, 8], 44), randomCpu([40, 60, 3, 3], 45), randomCpu([40], 46)],
      gpu: ([x, w, b]) => conv2d(x, w, b, { padding: 1 }),
      cpu: ([x, w, b]) => conv2dCpu(x, w, b, { padding: 1 }),
      wrt: [],
      forward: { rtol: 1e-4, atol: 1e-4 },
    });
  });
});
