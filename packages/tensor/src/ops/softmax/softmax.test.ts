import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../engine/engine.js';
import { goldenMismatch, loadGolden } from '../../testing/golden.js';
import { assertClose, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { permute } from '../views.js';
import { cpuLogSoftmax, cpuRows, cpuSoftmax } from './softmax.cpu.js';
import { logSoftmax, softmax } from './softmax.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

describe('softmax and logSoftmax', () => {
  const cases: [number[], number][] = [
    [[2, 5, 3], 1],
    [[3, 2, 7], -1],
    [[2, 3, 4, 5], 1],
    [[1, 1, 3, 5], 1],
    [[3, 130], 1], // long rows: one workgroup per row
    [[9], 0],
  ];
  for (const [shape, dim] of cases) {
    it(`over dim ${dim} of [${shape}]`, async () => {
      const x = randomCpu(shape, 5, -4, 4);
      await checkOp({
        label: 'softmax',
        inputs: [x],
        gpu: ([t]) => softmax(t, dim),
        cpu: ([t]) => cpuSoftmax(t, dim),
      });
      await checkOp({
        label: 'logSoftmax',
        inputs: [x],
        gpu: ([t]) => logSoftmax(t, dim),
        cpu: ([t]) => cpuLogSoftmax(t, dim),
      });
    });
  }

  it('works on a non-contiguous view and with large logits', async () => {
    const x = randomCpu([4, 3, 5], 7, 80, 100);
    await checkOp({
      label: 'softmax of a permuted view',
      inputs: [x],
      // [4,3,5] -> [5,4,3]; softmax over the last dim (size 3, strided by 5 in memory)
      gpu: ([t]) => softmax(permute(t, [2, 0, 1]), 2),
      cpu: ([t]) => {
        const p = permuteCpu(t, [2, 0, 1]);
        return cpuSoftmax(p, 2);
      },
    });
    const y = await softmax(tensor([1000, 0, -1000], [3]), 0).toArray();
    expect(Array.from(y)).toEqual([1, 0, 0]);
  });
});

describe('softmax over many strided rows (a thread per row, rows longer than 64)', () => {
  it('matches the float64 reference forward and backward', async () => {
    const shape = [2, 70, 32, 33]; // 2112 rows of 70, strided by 1056
    const x = randomCpu(shape, 91, -3, 3);
    const w = randomCpu(shape, 92);
    const t = tensor(Float32Array.from(x.data), shape, { requiresGrad: true });
    const y = softmax(t, 1);
    const want = cpuSoftmax(x, 1);
    assertClose(await y.toArray(), want.data, { rtol: 1e-5, atol: 1e-6 }, 'forward');
    y.backward(tensor(Float32Array.from(w.data), shape));
    // d/dx Σ w·y = y · (w − Σ_row w·y)
    const dots = cpuRows({ data: want.data.map((v, i) => v * w.data[i]), shape }, 1, (row) => {
      const total = row.reduce((a, b) => a + b, 0);
      return row.map(() => total);
    });
    const grad = want.data.map((v, i) => v * (w.data[i] - dots.data[i]));
    assertClose(await t.grad!.toArray(), grad, { rtol: 1e-4, atol: 1e-6 }, 'backward');
  });
});

describe('softmax golden values from PyTorch', () => {
  for (const c of loadGolden('softmax').filter((k) => k.op === 'softmax' || k.op === 'log_softmax')) {
    it(c.name, async () => {
      const input = c.inputs['input'];
      const x = tensor(Float32Array.from(input.data), input.shape, { requiresGrad: true });
      const op = c.op === 'softmax' ? softmax : logSoftmax;
      const y = op(x, c.params['dim'] as number);
      expect(
        goldenMismatch(await y.toArray(), c.outputs['output'], c.tolerance.outputs, 'output'),
      ).toBeNull();
      const go = c.gradOutput!;
      y.backward(tensor(Float32Array.from(go.data), go.shape));
      expect(goldenMismatch(await x.grad!.toArray(), c.grads['input'], c.tolerance.grads, 'grad')).toBeNull();
    });
  }
});

function permuteCpu(x: { data: Float64Array; shape: number[] }, perm: number[]) {
  const shape = perm.map((p) => x.shape[p]);
  const inStrides = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const data = new Float64Array(x.data.length);
  const n = data.length;
  for (let o = 0; o < n; o++) {
    let rem = o;
    let at = 0;
    for (let k = shape.length - 1; k >= 0; k--) {
      at += (rem % shape[k]) * inStrides[perm[k]];
      rem = Math.floor(rem / shape[k]);
    }
    data[o] = x.data[at];
  }
  return { data, shape };
}

describe('softmax over tensors larger than a storage binding', () => {
  afterEach(() => limitBindingBytes(null));
  // A 1 KiB binding budget holds ~190 floats, so each case below runs as several slabs, each bound as a window.
  const cases: [string, number[], number, number[] | null][] = [
    ['class vectors of NCHW (rows across channels)', [5, 3, 6, 7], 1, null],
    ['long rows, one workgroup each', [7, 130], 1, null],
    ['a permuted view (strides out of order)', [6, 4, 9], 2, [2, 0, 1]],
  ];
  for (const [label, shape, dim, order] of cases) {
    it(label, async () => {
      const x = randomCpu(shape, 17, -5, 5);
      const view = (t: Parameters<typeof permute>[0]) => (order ? permute(t, order) : t);
      limitBindingBytes(1024);
      await checkOp({
        label: `softmax ${label}`,
        inputs: [x],
        gpu: ([t]) => softmax(view(t), dim),
        cpu: ([t]) => cpuSoftmax(order ? permuteCpu(t, order) : t, dim),
      });
      await checkOp({
        label: `logSoftmax ${label}`,
        inputs: [x],
        gpu: ([t]) => logSoftmax(view(t), dim),
        cpu: ([t]) => cpuLogSoftmax(order ? permuteCpu(t, order) : t, dim),
      });
    });
  }

  it('refuses, naming the op and the limit, a single row larger than a binding', () => {
    limitBindingBytes(1024);
    const x = tensor(new Float32Array(600), [600]);
    expect(() => softmax(x, 0)).toThrow(/softmax: .*600.*maxStorageBufferBindingSize/);
    x.dispose();
  });
});
