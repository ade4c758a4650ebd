import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../engine/engine.js';
import { assertClose, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { mul } from '../elementwise/binary.js';
import { sigmoid } from '../elementwise/unary.js';
import { cpuSeGate } from './fused.cpu.js';
import { seGate } from './se-gate.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

describe('seGate', () => {
  for (const shape of [
    [2, 3, 4, 5],
    [1, 5, 1, 1],
  ]) {
    it(`x · sigmoid(s) on [${shape}]: forward and finite-difference grads of x and s`, async () => {
      const [N, C] = shape;
      await checkOp({
        label: 'seGate',
        inputs: [randomCpu(shape, 1, -2, 2), randomCpu([N, C, 1, 1], 2, -4, 4)],
        gpu: ([x, s]) => seGate(x, s),
        cpu: ([x, s]) => cpuSeGate(x, s),
        forward: { rtol: 1e-5, atol: 1e-6 },
        backward: { rtol: 2e-3, atol: 2e-4 },
      });
    });
  }

  it('matches sigmoid(s) · x, forward and backward', async () => {
    const shape = [2, 4, 6, 3];
    const xs = Float32Array.from(randomCpu(shape, 3).data);
    const ss = Float32Array.from(randomCpu([2, 4, 1, 1], 4, -3, 3).data);
    const gy = tensor(Float32Array.from(randomCpu(shape, 5).data), shape);
    const out: Float32Array[][] = [];
    for (const fused of [true, false]) {
      const x = tensor(xs, shape, { requiresGrad: true });
      const s = tensor(ss, [2, 4, 1, 1], { requiresGrad: true });
      const y = fused ? seGate(x, s) : mul(sigmoid(s), x);
      y.backward(gy);
      out.push((await Promise.all([y, x.grad!, s.grad!].map((t) => t.toArray()))) as Float32Array[]);
    }
    ['output', 'grad x', 'grad s'].forEach((what, k) => {
      assertClose(out[0][k], out[1][k], { rtol: 1e-5, atol: 1e-6 }, what);
    });
  });

  it('reads a strided input and a strided gate', async () => {
    const x = tensor(Float32Array.from(randomCpu([2, 5, 4, 3], 6).data), [2, 5, 4, 3]).permute([0, 3, 1, 2]);
    const s = tensor(Float32Array.from(randomCpu([3, 2], 7).data), [3, 2])
      .permute([1, 0])
      .view([2, 3, 1, 1]);
    const got = await seGate(x, s).toArray();
    const want = await mul(sigmoid(s), x).toArray();
    assertClose(got, want, { rtol: 1e-6, atol: 1e-7 }, 'strided');
  });

  it('says which shapes do not fit', () => {
    const x = tensor(new Float32Array(2 * 3 * 4), [2, 3, 2, 2]);
    expect(() => seGate(x, tensor(new Float32Array(3), [1, 3, 1, 1]))).toThrow(
      /gate \[N, C, 1, 1\], got \[2, 3, 2, 2\] and \[1, 3, 1, 1\]/,
    );
  });
});
