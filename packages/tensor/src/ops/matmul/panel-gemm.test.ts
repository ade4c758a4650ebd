import { afterEach, describe, expect, it } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import { Tensor } from '../../tensor.js';
import { assertClose, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { narrow, transpose } from '../views.js';
import { linear } from './linear.js';
import { linearCpu, matmulCpu, narrowColumnsCpu, transposeCpu } from './matmul.cpu.js';
import { matmul } from './matmul.js';
import { panelLayout, panelsSupported, panelTuning, usePanelMatmul } from './panel-gemm.js';
import { buildPanelMatmulKernel, laneColumnsFor } from './panel-kernel.js';
import '../../index.js';

// Opened before collection, so the suite below can ask what the device supports.
await init();

afterEach(() => {
  panelTuning.use = 'auto';
});

const TOL = { forward: { rtol: 1e-5, atol: 1e-5 }, backward: { rtol: 1e-3, atol: 1e-4 } };

// The panel kernels need 8-lane subgroups and uniform windows (llvmpipe); other devices never take them.
describe.runIf(panelsSupported())('matmul through B panels in uniform windows', () => {
  it('is taken when forced, and refused when A cannot be read as vec4s along k', () => {
    panelTuning.use = true;
    const a = tensor(new Float32Array(8 * 12), [8, 12]);
    const odd = tensor(new Float32Array(8 * 9), [8, 9]);
    try {
      expect(usePanelMatmul(a, 8, 5, 12)).toBe(true);
      expect(usePanelMatmul(odd, 8, 5, 9)).toBe(false);
      expect(usePanelMatmul(transpose(odd, 0, 1), 9, 5, 8)).toBe(false);
      panelTuning.use = false;
      expect(usePanelMatmul(a, 8, 5, 12)).toBe(false);
    } finally {
      a.dispose();
      odd.dispose();
    }
  });

  it('a uniform window larger than the device allows is refused, naming the kernel and the limit', () => {
    const a = tensor(new Float32Array(64), [8, 8]);
    const big = Tensor.empty([16384 + 4]);
    const out = Tensor.empty([64]);
    try {
      const kernel = buildPanelMatmulKernel(false, 'k', 4);
      const window = { buffer: big.storage.buffer, offset: 0, size: 65536 + 16 };
      expect(() =>
        getEngine().dispatch(kernel, [a.storage.buffer, window, out.storage.buffer], [], [1]),
      ).toThrow(
        /matmul_panels_k4: uniform binding 2 is 65552 bytes, over this device's maxUniformBufferBindingSize/,
      );
    } finally {
      for (const t of [a, big, out]) t.dispose();
    }
  });

  // K = 520 takes two 512-deep windows per panel (the second adds to the first); 130 rows leave a partial block of
  // 128, and 70 columns a partial third panel.
  it('130×520 · 520×70: k split over two windows, ragged rows and columns', async () => {
    panelTuning.use = true;
    await checkOp({
      label: 'two windows',
      inputs: [randomCpu([130, 520], 21), randomCpu([520, 70], 22)],
      gpu: ([a, b]) => matmul(a, b),
      cpu: ([a, b]) => matmulCpu(a, b),
      wrt: [],
      forward: { rtol: 1e-4, atol: 1e-4 },
    });
  });

  // K = 12 puts 42 panels in one window, one per workgroup row of the grid; 100 columns = 4 panels, the last
  // partial. The bias goes in once.
  it('linear with bias: several panels per window', async () => {
    panelTuning.use = true;
    await checkOp({
      label: 'linear panels',
      inputs: [randomCpu([37, 12], 23), randomCpu([100, 12], 24), randomCpu([100], 25)],
      gpu: ([x, w, b]) => linear(x, w, b),
      cpu: ([x, w, b]) => linearCpu(x, w, b),
      ...TOL,
    });
  });

  it('with bias past one window: the bias is added on the last k window only', async () => {
    panelTuning.use = true;
    await checkOp({
      label: 'linear two windows',
      inputs: [randomCpu([9, 516], 26), randomCpu([40, 516], 27), randomCpu([40], 28)],
      gpu: ([x, w, b]) => linear(x, w, b),
      cpu: ([x, w, b]) => linearCpu(x, w, b),
      wrt: [],
      forward: { rtol: 1e-4, atol: 1e-4 },
    });
  });

  it('reads B transposed and A narrowed (offset, row stride) in place; backward against finite differences', async () => {
    panelTuning.use = true;
    await checkOp({
      label: 'narrowed A · transposed B',
      inputs: [randomCpu([11, 24], 29), randomCpu([6, 16], 30)],
      gpu: ([a, b]) => matmul(narrow(a, 1, 4, 16), transpose(b, 0, 1)),
      cpu: ([a, b]) => matmulCpu(narrowColumnsCpu(a, 4, 16), transposeCpu(b)),
      ...TOL,
    });
  });

  // Aᵀ of a row-major A is read as vec4s along m. 130 of 136 columns leaves a ragged last vec4 of rows, whose
  // extra lanes read the next k's values and are never stored; K = 520 spans two windows.
  it('A column-major (vec4s along m): ragged rows, two windows, backward', async () => {
    panelTuning.use = true;
    const a = tensor(new Float32Array(8 * 136), [8, 136]);
    try {
      expect(panelLayout(transpose(narrow(a, 1, 0, 130), 0, 1), 8)).toBe('m');
    } finally {
      a.dispose();
    }
    await checkOp({
      label: 'm layout, two windows',
      inputs: [randomCpu([520, 136], 33), randomCpu([520, 40], 34)],
      gpu: ([a, b]) => matmul(transpose(narrow(a, 1, 0, 130), 0, 1), b),
      cpu: ([a, b]) => matmulCpu(transposeCpu(narrowColumnsCpu(a, 0, 130)), b),
      wrt: [],
      forward: { rtol: 1e-4, atol: 1e-4 },
    });
    await checkOp({
      label: 'm layout backward',
      inputs: [randomCpu([12, 20], 35), randomCpu([12, 9], 36)],
      gpu: ([a, b]) => matmul(transpose(a, 0, 1), b),
      cpu: ([a, b]) => matmulCpu(transposeCpu(a), b),
      ...TOL,
    });
  });

  // Lanes own 3 columns (24-column panels) or 4 (32-column panels), whichever pads N less; most shapes above take
  // 3, so these take 4.
  it('picks the panel width that pads N least; 4-column lanes with a partial last panel', async () => {
    expect([24, 48, 100, 32, 64, 60].map(laneColumnsFor)).toEqual([3, 3, 3, 4, 4, 4]);
    panelTuning.use = true;
    for (const n of [60, 64]) {
      await checkOp({
        label: `N = ${n}`,
        inputs: [randomCpu([21, 28], 37), randomCpu([28, n], 38), randomCpu([n], 39)],
        gpu: ([x, w, b]) => linear(x, transpose(w, 0, 1), b),
        cpu: ([x, w, b]) => linearCpu(x, transposeCpu(w), b),
        ...TOL,
      });
    }
  });

  it('gives what the tiled kernel gives on a 4-aligned product', async () => {
    const a = randomCpu([72, 44], 31);
    const b = randomCpu([44, 132], 32);
    const ga = tensor(Float32Array.from(a.data), a.shape);
    const gb = tensor(Float32Array.from(b.data), b.shape);
    try {
      panelTuning.use = true;
      const panels = matmul(ga, gb);
      panelTuning.use = false;
      const tiled = matmul(ga, gb);
      assertClose(
        await panels.toArray(),
        await tiled.toArray(),
        { rtol: 1e-5, atol: 1e-5 },
        'panels vs tiled',
      );
      assertClose(await panels.toArray(), matmulCpu(a, b).data, { rtol: 1e-5, atol: 1e-5 }, 'panels');
      panels.dispose();
      tiled.dispose();
    } finally {
      ga.dispose();
      gb.dispose();
    }
  });
});
