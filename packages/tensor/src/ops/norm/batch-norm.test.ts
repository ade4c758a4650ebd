import { beforeAll, describe, expect, it } from 'vitest';
import { getEngine, init, memoryStats } from '../../engine/engine.js';
import { tidy } from '../../scope.js';
import { goldenMismatch, loadGolden } from '../../testing/golden.js';
import { assertClose, checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { crossEntropy } from '../loss/cross-entropy.js';
import { max } from '../reduce/minmax.js';
import { softmax } from '../softmax/softmax.js';
import { cpuBatchNorm } from './batch-norm.cpu.js';
import { batchNorm, batchNorm2d } from './batch-norm.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

describe('batchNorm2d', () => {
  for (const training of [true, false]) {
    for (const shape of [
      [2, 3, 3, 5],
      [1, 4, 5, 3],
      [5, 2, 1, 1],
    ]) {
      it(`${training ? 'training' : 'eval'} on [${shape}]: forward, grads of x, weight and bias`, async () => {
        const C = shape[1];
        const rm = Array.from(randomCpu([C], 3, -0.5, 0.5).data);
        const rv = Array.from(randomCpu([C], 4, 0.5, 2).data);
        const x = randomCpu(shape, 5, -2, 3);
        const w = randomCpu([C], 6, 0.5, 1.5);
        const b = randomCpu([C], 7, -1, 1);
        await checkOp({
          label: 'batchNorm2d',
          inputs: [x, w, b],
          gpu: ([tx, tw, tb]) =>
            batchNorm2d(tx, tensor(rm, [C]), tensor(rv, [C]), tw, tb, { training, momentum: 0.1, eps: 1e-5 }),
          cpu: ([cx, cw, cb]) =>
            cpuBatchNorm(cx, rm, rv, Array.from(cw.data), Array.from(cb.data), training, 0.1, 1e-5).output,
          forward: { rtol: 1e-4, atol: 1e-5 },
          backward: { rtol: 2e-3, atol: 2e-4 },
        });
      });
    }
  }

  it('updates the running statistics in place with the unbiased variance', async () => {
    const shape = [3, 4, 5, 7];
    const x = randomCpu(shape, 11, 5, 9);
    const rm = tensor([0.1, -0.2, 0.3, 0], [4]);
    const rv = tensor([1, 2, 0.5, 1.5], [4]);
    const want = cpuBatchNorm(x, [0.1, -0.2, 0.3, 0], [1, 2, 0.5, 1.5], null, null, true, 0.01, 1e-3);
    const y = batchNorm2d(tensor(Float32Array.from(x.data), shape), rm, rv, null, null, {
      training: true,
      momentum: 0.01,
      eps: 1e-3,
    });
    assertClose(await y.toArray(), want.output.data, { rtol: 1e-4, atol: 1e-4 }, 'output');
    assertClose(await rm.toArray(), want.runningMean, { rtol: 1e-5, atol: 1e-6 }, 'running mean');
    assertClose(await rv.toArray(), want.runningVar, { rtol: 1e-5, atol: 1e-6 }, 'running var');
  });

  it('normalises a long channel (split reduction) and a non-contiguous input', async () => {
    // 2 channels of 2·100·100 = 20000 values each: the statistics pass splits across workgroups.
    const shape = [2, 2, 100, 100];
    const x = randomCpu(shape, 13, 99, 101);
    const t = tensor(Float32Array.from(x.data), shape);
    const y = batchNorm(t, null, null, null, null, { training: true });
    const want = cpuBatchNorm(x, [0, 0], [1, 1], null, null, true, 0.1, 1e-5);
    assertClose(await y.toArray(), want.output.data, { rtol: 1e-3, atol: 1e-3 }, 'long channels');
    // Channels-last memory viewed as NCHW.
    const nhwc = tensor(Float32Array.from(randomCpu([2, 3, 4, 3], 14).data), [2, 3, 4, 3]);
    const view = nhwc.permute([0, 3, 1, 2]);
    const got = await batchNorm2d(view, null, null, null, null, { training: true }).toArray();
    const ref = await batchNorm2d(view.contiguous(), null, null, null, null, { training: true }).toArray();
    assertClose(got, ref, { rtol: 1e-5, atol: 1e-5 }, 'strided view');
    // Gradients through the strided path equal those through a contiguous copy.
    const data = Float32Array.from(randomCpu([2, 3, 4, 3], 15).data);
    const gy = tensor(Float32Array.from(randomCpu([2, 3, 3, 4], 16).data), [2, 3, 3, 4]);
    const grads: Float32Array[] = [];
    for (const copy of [false, true]) {
      const leaf = tensor(data, [2, 3, 4, 3], { requiresGrad: true });
      const w = tensor([0.5, 1.5, -1], [3], { requiresGrad: true });
      const v = leaf.permute([0, 3, 1, 2]);
      batchNorm2d(copy ? v.contiguous() : v, null, null, w, null, { training: true }).backward(gy);
      grads.push((await leaf.grad!.toArray()) as Float32Array, (await w.grad!.toArray()) as Float32Array);
    }
    assertClose(grads[0], grads[2], { rtol: 1e-4, atol: 1e-5 }, 'grad of a strided input');
    assertClose(grads[1], grads[3], { rtol: 1e-4, atol: 1e-5 }, 'grad of weight, strided input');
  });

  it('trains on tensors larger than one storage binding', async () => {
    const shape = [3, 4, 6, 10];
    const data = Float32Array.from(randomCpu(shape, 17, -1, 2).data);
    const gy = tensor(Float32Array.from(randomCpu(shape, 18).data), shape);
    const results: Float32Array[][] = [];
    for (const cap of [null, 1024]) {
      limitBindingBytes(cap);
      try {
        const x = tensor(data, shape, { requiresGrad: true });
        const w = tensor([1, 0.5, 2, -1], [4], { requiresGrad: true });
        const b = tensor([0, 1, 0, -1], [4], { requiresGrad: true });
        const rm = tensor(new Float32Array(4), [4]);
        const rv = tensor(new Float32Array(4).fill(1), [4]);
        const y = batchNorm2d(x, rm, rv, w, b, { training: true });
        y.backward(gy);
        results.push(
          (await Promise.all(
            [y, x.grad!, w.grad!, b.grad!, rm, rv].map((t) => t.toArray()),
          )) as Float32Array[],
        );
      } finally {
        limitBindingBytes(null);
      }
    }
    const names = ['output', 'grad x', 'grad weight', 'grad bias', 'running mean', 'running var'];
    results[0].forEach((want, k) => {
      assertClose(results[1][k], want, { rtol: 1e-4, atol: 1e-5 }, names[k]);
    });
  });

  it('leaves no tensors or bytes behind across training steps', async () => {
    const shape = [2, 3, 4, 5];
    const x = tensor(Float32Array.from(randomCpu(shape, 19).data), shape, { requiresGrad: true });
    const w = tensor([1, 2, 3], [3], { requiresGrad: true });
    const b = tensor([0, 0, 1], [3], { requiresGrad: true });
    const rm = tensor([0, 0, 0], [3]);
    const rv = tensor([1, 1, 1], [3]);
    const target = tensor(new Int32Array(2 * 4 * 5).fill(1), [2, 4, 5]);
    const step = () => {
      // Batch norm, softmax, max along a dim (a gather's backward), broadcasting, cross entropy.
      const loss = tidy(() => {
        const p = softmax(batchNorm2d(x, rm, rv, w, b, { training: true }), 1);
        return crossEntropy(p.add(max(p, 1, true).values), target);
      });
      loss.backward();
      loss.dispose();
      for (const t of [x, w, b]) t.zeroGrad();
    };
    step();
    await getEngine().sync();
    const after1 = memoryStats();
    for (let i = 0; i < 3; i++) step();
    await getEngine().sync();
    const after4 = memoryStats();
    expect(after4.liveTensors).toBe(after1.liveTensors);
    expect(after4.bytesInUse).toBe(after1.bytesInUse);
  });

  it('rejects bad input with the tensor named', () => {
    const x = tensor(new Float32Array(12), [1, 3, 2, 2]);
    expect(() => batchNorm2d(x, tensor([0, 0], [2]), tensor([1, 1], [2]))).toThrow(/runningMean.*\[3\]/);
    const single = tensor(new Float32Array(3), [1, 3, 1, 1]);
    expect(() => batchNorm2d(single, null, null, null, null, { training: true })).toThrow(
      /more than 1 value/,
    );
    expect(() => batchNorm2d(tensor(new Float32Array(6), [2, 3]), null, null)).toThrow(/\[N, C, H, W\]/);
  });
});

describe('batch norm golden values from PyTorch', () => {
  for (const c of loadGolden('batch_norm')) {
    it(c.name, async () => {
      const up = (name: string, requiresGrad = false) =>
        tensor(Float32Array.from(c.inputs[name].data), c.inputs[name].shape, { requiresGrad });
      const x = up('input', true);
      const w = up('weight', true);
      const b = up('bias', true);
      const rm = up('running_mean');
      const rv = up('running_var');
      const y = batchNorm2d(x, rm, rv, w, b, {
        training: c.params['training'] as boolean,
        momentum: c.params['momentum'] as number,
        eps: c.params['eps'] as number,
      });
      const tol = c.tolerance;
      expect(goldenMismatch(await y.toArray(), c.outputs['output'], tol.outputs, 'output')).toBeNull();
      expect(
        goldenMismatch(await rm.toArray(), c.outputs['running_mean'], tol.outputs, 'running_mean'),
      ).toBeNull();
      expect(
        goldenMismatch(await rv.toArray(), c.outputs['running_var'], tol.outputs, 'running_var'),
      ).toBeNull();
      const go = c.gradOutput!;
      y.backward(tensor(Float32Array.from(go.data), go.shape));
      for (const [name, t] of [
        ['input', x],
        ['weight', w],
        ['bias', b],
      ] as const) {
        expect(goldenMismatch(await t.grad!.toArray(), c.grads[name], tol.grads, `grad ${name}`)).toBeNull();
      }
    });
  }
});
