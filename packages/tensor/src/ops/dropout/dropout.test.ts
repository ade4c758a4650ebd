import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../engine/engine.js';
import { checkOp, cpuBroadcast, randomCpu } from '../../testing/index.js';
import { ones, tensor } from '../creation.js';
import { Generator } from '../random/generator.js';
import { cpuBernoulli } from '../random/random.cpu.js';
import { bernoulliScaled } from '../random/random.js';
import { dropout, dropPath } from './dropout.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

const SCALE = (p: number) => Math.fround(1 / (1 - p));

describe('dropout', () => {
  it('drops with the generator mask (read back from a replayed state), forward and backward', async () => {
    const p = 0.3;
    const x = randomCpu([4, 5, 6], 1);
    const state = { seed: 77, offset: 12 };
    // The mask the kernel must have used, replayed on the GPU and computed on the CPU.
    const replayed = bernoulliScaled(x.shape, 1 - p, 1 / (1 - p), {
      generator: new Generator().setState(state),
    });
    const cpuMask = cpuBernoulli(state, new Array(120).fill(1 - p), SCALE(p));
    expect(Array.from(await replayed.toArray())).toEqual(Array.from(cpuMask));
    replayed.dispose();
    expect(cpuMask.filter((m) => m === 0).length).toBeGreaterThan(10);
    const maskCpu = { data: cpuMask, shape: x.shape };
    await checkOp({
      label: 'dropout',
      inputs: [x],
      gpu: ([t]) => dropout(t, p, true, { generator: new Generator().setState(state) }),
      cpu: ([t]) => cpuBroadcast([t, maskCpu], (a, m) => a * m),
      forward: { rtol: 1e-7, atol: 0 },
    });
  });

  it('keeps the expectation and drops about p of the elements', async () => {
    const x = ones([100_000]);
    const y = await dropout(x, 0.25, true, { generator: new Generator(5) }).toArray();
    let zeros = 0;
    let total = 0;
    for (const v of y) {
      if (v === 0) zeros++;
      total += v;
    }
    expect(Math.abs(zeros / y.length - 0.25)).toBeLessThan(0.007);
    expect(Math.abs(total / y.length - 1)).toBeLessThan(0.01);
    expect(new Set(y).size).toBe(2);
  });

  it('is the identity in eval mode or with p = 0, all zeros with p = 1', async () => {
    const x = tensor([1, -2, 3], [3], { requiresGrad: true });
    expect(Array.from(await dropout(x, 0.5, false).toArray())).toEqual([1, -2, 3]);
    expect(Array.from(await dropout(x, 0).toArray())).toEqual([1, -2, 3]);
    // x · 0 keeps the sign of x, as in PyTorch.
    expect(Array.from(await dropout(x, 1).toArray())).toEqual([0, -0, 0]);
    dropout(x, 0.5, false).sum().backward();
    expect(Array.from(await (x.grad as NonNullable<typeof x.grad>).toArray())).toEqual([1, 1, 1]);
    expect(() => dropout(x, 1.5)).toThrow(/outside \[0, 1\]/);
    expect(() => dropout(tensor(new Int32Array([1]), [1]), 0.5)).toThrow(/floating/);
  });

  it('the same seed drops the same elements; the next call drops others', async () => {
    const x = ones([64]);
    const g = new Generator(9);
    const a = await dropout(x, 0.5, true, { generator: g }).toArray();
    const b = await dropout(x, 0.5, true, { generator: g }).toArray();
    const c = await dropout(x, 0.5, true, { generator: new Generator(9) }).toArray();
    expect(Array.from(c)).toEqual(Array.from(a));
    expect(Array.from(b)).not.toEqual(Array.from(a));
  });
});

describe('dropPath', () => {
  it('drops whole samples with the generator mask, forward and backward', async () => {
    const p = 0.5;
    const x = randomCpu([6, 2, 3, 3], 2);
    const state = { seed: 4, offset: 0 };
    const perSample = cpuBernoulli(state, new Array(6).fill(1 - p), SCALE(p));
    expect(perSample.includes(0)).toBe(true);
    expect(perSample.some((m) => m !== 0)).toBe(true);
    const maskCpu = { data: perSample, shape: [6, 1, 1, 1] };
    await checkOp({
      label: 'dropPath',
      inputs: [x],
      gpu: ([t]) => dropPath(t, p, true, { generator: new Generator().setState(state) }),
      cpu: ([t]) => cpuBroadcast([t, maskCpu], (a, m) => a * m),
      forward: { rtol: 1e-7, atol: 0 },
    });
  });

  it('drops about p of the samples, each sample whole', async () => {
    const x = ones([20_000, 3]);
    const y = await dropPath(x, 0.2, true, { generator: new Generator(6) }).toArray();
    let dropped = 0;
    for (let i = 0; i < 20_000; i++) {
      expect(y[3 * i + 1]).toBe(y[3 * i]);
      expect(y[3 * i + 2]).toBe(y[3 * i]);
      if (y[3 * i] === 0) dropped++;
      else expect(y[3 * i]).toBe(1.25);
    }
    expect(Math.abs(dropped / 20_000 - 0.2)).toBeLessThan(0.015);
  });

  it('is the identity in eval mode', async () => {
    const x = tensor([1, 2, 3, 4], [2, 2]);
    expect(Array.from(await dropPath(x, 0.9, false).toArray())).toEqual([1, 2, 3, 4]);
  });
});
