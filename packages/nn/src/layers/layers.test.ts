import { init, manualSeed, noGrad, tensor } from '@nephron/tensor';
import { assertClose, randomCpu } from '@nephron/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d, staticSamePadding } from './conv.js';
import { Dropout, DropPath } from './dropout.js';
import { Linear } from './linear.js';

beforeAll(async () => {
  await init();
});

describe('layers', () => {
  it('pads as TensorFlow "SAME" for a fixed size, as EfficientNet-B4 at 380 px', () => {
    // [left, right, top, bottom]; the (top/left, bottom/right) pairs.
    expect(staticSamePadding(380, 3, 2)).toEqual([0, 1, 0, 1]); // stem
    expect(staticSamePadding(190, 3, 2)).toEqual([0, 1, 0, 1]); // stage 2
    expect(staticSamePadding(95, 5, 2)).toEqual([2, 2, 2, 2]); // stage 3
    expect(staticSamePadding(48, 3, 2)).toEqual([0, 1, 0, 1]); // stage 4
    expect(staticSamePadding(24, 5, 2)).toEqual([1, 2, 1, 2]); // stage 6
    expect(staticSamePadding(12, 3, 1)).toEqual([1, 1, 1, 1]);
    expect(staticSamePadding(12, 5, 1)).toEqual([2, 2, 2, 2]);
  });

  it('initialises conv and linear weights as PyTorch (U(±1/√fan_in)), reproducibly from the seed', async () => {
    manualSeed(7);
    const a = new Conv2d(4, 6, 3);
    manualSeed(7);
    const b = new Conv2d(4, 6, 3);
    const wa = await a.weight.toArray();
    expect(Array.from(await b.weight.toArray())).toEqual(Array.from(wa));
    const bound = 1 / Math.sqrt(4 * 9);
    expect(Math.max(...Array.from(wa, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(wa, Math.abs))).toBeGreaterThan(0.8 * bound);
    expect([...a.stateDict().keys()]).toEqual(['weight', 'bias']);
    expect(new Conv2d(4, 6, 3, { bias: false, groups: 2 }).weight.shape).toEqual([6, 2, 3, 3]);
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow(/not divisible by groups 4/);
    const lin = new Linear(5, 3);
    expect(lin.weight.shape).toEqual([3, 5]);
    for (const m of [a, b, lin]) m.dispose();
  });

  it('Linear computes x·Wᵀ + b', async () => {
    const lin = new Linear(3, 2);
    lin.loadStateDict({ weight: tensor([1, 2, 3, -1, 0, 1], [2, 3]), bias: tensor([0.5, -0.5], [2]) });
    const y = lin.forward(tensor([1, 1, 2, 0, 1, 0], [2, 3]));
    expect(Array.from(await y.toArray())).toEqual([9.5, 0.5, 2.5, -0.5]);
    lin.dispose();
  });

  it('BatchNorm2d normalises with batch statistics in training, updates running stats and counts batches', async () => {
    const n = 2;
    const c = 3;
    const hw = 4;
    const x = randomCpu([n, c, 2, 2], 11, -2, 3);
    const bn = new BatchNorm2d(c, { momentum: 0.3, eps: 1e-3 });
    const y = bn.forward(tensor(x.data, x.shape));
    const got = await y.toArray();
    const rm = await bn.runningMean!.toArray();
    const rv = await bn.runningVar!.toArray();
    for (let ch = 0; ch < c; ch++) {
      const vals: number[] = [];
      for (let b = 0; b < n; b++) for (let i = 0; i < hw; i++) vals.push(x.data[(b * c + ch) * hw + i]);
      const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
      const varBiased = vals.reduce((s, v) => s + (v - mean) ** 2, 0) / vals.length;
      for (let b = 0; b < n; b++) {
        for (let i = 0; i < hw; i++) {
          const k = (b * c + ch) * hw + i;
          expect(got[k]).toBeCloseTo((x.data[k] - mean) / Math.sqrt(varBiased + 1e-3), 4);
        }
      }
      expect(rm[ch]).toBeCloseTo(0.3 * mean, 5);
      expect(rv[ch]).toBeCloseTo(0.7 + 0.3 * varBiased * (vals.length / (vals.length - 1)), 5);
    }
    expect(await bn.numBatchesTracked!.item()).toBe(1);
    bn.eval();
    const before = Array.from(rm);
    const z = bn.forward(tensor(x.data, x.shape));
    const zs = await z.toArray();
    expect(Array.from(await bn.runningMean!.toArray())).toEqual(before);
    expect(await bn.numBatchesTracked!.item()).toBe(1);
    assertClose([zs[0]], [(x.data[0] - rm[0]) / Math.sqrt(rv[0] + 1e-3)], { rtol: 1e-5, atol: 1e-6 }, 'eval');
    bn.dispose();
  });

  it('Dropout and DropPath act only in training', async () => {
    const x = tensor(new Float32Array(64).fill(1), [8, 2, 2, 2]);
    const drop = new Dropout(0.5);
    const path = new DropPath(0.5);
    const trained = await drop.forward(x).toArray();
    expect(new Set(Array.from(trained))).toEqual(new Set([0, 2]));
    const perSample = await path.forward(x).toArray();
    for (let b = 0; b < 8; b++) expect(new Set(Array.from(perSample.slice(b * 8, b * 8 + 8))).size).toBe(1);
    drop.eval();
    path.eval();
    expect(Array.from(await noGrad(() => drop.forward(x)).toArray())).toEqual(Array.from(await x.toArray()));
    expect(Array.from(await path.forward(x).toArray())).toEqual(Array.from(await x.toArray()));
    expect(() => new Dropout(1.5)).toThrow(/outside \[0, 1\]/);
  });
});
