import { afterEach, describe, expect, it, vi } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import { assertClose, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { eightLaneSubgroups } from '../matmul/panel-gemm.js';
import { narrow } from '../views.js';
import { conv2dTuning } from './conv-tuning.js';
import { conv2dBackwardCpu, conv2dCpu } from './conv2d.cpu.js';
import { conv2d } from './conv2d.js';
import { conv2dGradWeight } from './conv2d-backward.js';
import { type Conv2dOptions, convGeometry } from './params.js';
import '../../index.js';

// Opened before collection, so the suite below can ask what the device supports.
await init();

afterEach(() => {
  conv2dTuning.gradWeightSubgroups = 'auto';
  vi.restoreAllMocks();
});

/** What `run` returns, and the names of the kernels it dispatched. */
function traced<T>(run: () => T): { value: T; names: string[] } {
  const engine = getEngine();
  const names: string[] = [];
  const dispatch = engine.dispatch.bind(engine);
  vi.spyOn(engine, 'dispatch').mockImplementation((kernel, ...rest) => {
    names.push(kernel.name);
    dispatch(kernel, ...rest);
  });
  const value = run();
  vi.restoreAllMocks();
  return { value, names };
}

const gpu = (x: { data: Float64Array; shape: number[] }) => tensor(Float32Array.from(x.data), x.shape);

// 1×1 and 3×3 weight gradients through the subgroup kernel (llvmpipe's 8-lane subgroups), against the float64
// gradient. Output rows are multiples of 8 pixels and image rows 4-aligned, which the kernel needs.
describe.runIf(eightLaneSubgroups())('weight gradients through the subgroup kernel', () => {
  const cases: { name: string; x: number[]; w: number[]; options: Conv2dOptions }[] = [
    // 16 output channels: 2 per lane, every lane busy.
    { name: '16→16 pad 1', x: [1, 16, 3, 8], w: [16, 16, 3, 3], options: { padding: 1 } },
    // 7 output channels: 2 per lane, the last lanes partly or wholly past them; 5 input channels: a partial pair.
    { name: '5→7 pad 1', x: [2, 5, 6, 16], w: [7, 5, 3, 3], options: { padding: 1 } },
    // 33 input and 40 output channels: a second workgroup along both; padLeft 2, no right padding.
    { name: '33→40 pad [2,0,1,1]', x: [1, 33, 9, 24], w: [40, 33, 3, 3], options: { padding: [2, 0, 1, 1] } },
    // No left or top padding: the taps reach right and down only.
    { name: '4→6 pad [0,2,0,0]', x: [2, 4, 5, 16], w: [6, 4, 3, 3], options: { padding: [0, 2, 0, 0] } },
    // padLeft 3 and a wide right padding, top only.
    { name: '3→5 pad [3,7,2,0]', x: [3, 3, 4, 16], w: [5, 3, 3, 3], options: { padding: [3, 7, 2, 0] } },
    // 1×1: 37 input channels, a partial second group of 16; 40 output channels, a second workgroup along x.
    { name: '1x1 37→40', x: [2, 37, 3, 8], w: [40, 37, 1, 1], options: {} },
    // A padded 1×1 reads the 4-vec4 span, like a 3×3.
    { name: '1x1 5→6 pad [1,3,1,0]', x: [1, 5, 3, 12], w: [6, 5, 1, 1], options: { padding: [1, 3, 1, 0] } },
  ];
  for (const c of cases) {
    it(`${c.name}: the kernel runs and matches the float64 gradient`, async () => {
      const [x, w] = [randomCpu(c.x, 51), randomCpu(c.w, 52)];
      const g = convGeometry(c.x, c.w, null, c.options);
      const dy = randomCpu([g.batch, g.cOut, g.oh, g.ow], 53);
      conv2dTuning.gradWeightSubgroups = true;
      const { value, names } = traced(() => conv2dGradWeight(gpu(dy), gpu(x), g));
      expect(names[0]).toMatch(/^conv2d_gradWeight_subgroups/);
      const want = conv2dBackwardCpu(x, w, dy, c.options).weight;
      assertClose(await value.toArray(), want.data, { rtol: 1e-4, atol: 1e-4 }, c.name);
    });
  }

  it('reads channel slices at an offset, and falls back where rows are not 8-pixel multiples', async () => {
    const x = randomCpu([2, 12, 4, 8], 54);
    const dy = randomCpu([2, 6, 4, 8], 55);
    const w = randomCpu([6, 8, 3, 3], 56);
    const g = convGeometry([2, 8, 4, 8], [6, 8, 3, 3], null, { padding: 1 });
    conv2dTuning.gradWeightSubgroups = true;
    // Input channels 3…10 of 12: offset and channel stride stay 4-aligned.
    const xs = narrow(gpu(x), 1, 3, 8);
    const { value, names } = traced(() => conv2dGradWeight(gpu(dy), xs, g));
    expect(names[0]).toMatch(/subgroups/);
    const slice = { data: new Float64Array(2 * 8 * 32), shape: [2, 8, 4, 8] };
    for (let n = 0; n < 2; n++)
      slice.data.set(x.data.subarray((n * 12 + 3) * 32, (n * 12 + 11) * 32), n * 256);
    const want = conv2dBackwardCpu(slice, w, dy, { padding: 1 }).weight;
    assertClose(await value.toArray(), want.data, { rtol: 1e-4, atol: 1e-4 }, 'slice');
    const narrowRows = convGeometry([1, 4, 4, 12], [4, 4, 3, 3], null, { padding: 1 });
    const fallback = traced(() =>
      conv2dGradWeight(gpu(randomCpu([1, 4, 4, 12], 57)), gpu(randomCpu([1, 4, 4, 12], 58)), narrowRows),
    );
    expect(fallback.names.some((n) => n.includes('subgroups'))).toBe(false);
  });

  it('through autograd, against central finite differences', async () => {
    conv2dTuning.gradWeightSubgroups = true;
    await checkOp({
      label: 'conv2d 3x3 weight',
      inputs: [randomCpu([1, 3, 5, 8], 59), randomCpu([4, 3, 3, 3], 60)],
      gpu: ([x, w]) => conv2d(x, w, null, { padding: 1 }),
      cpu: ([x, w]) => conv2dCpu(x, w, null, { padding: 1 }),
      wrt: [1],
      forward: { rtol: 1e-4, atol: 2e-5 },
      backward: { rtol: 1e-3, atol: 1e-4 },
    });
  });
});
