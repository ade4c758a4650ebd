import { beforeAll, describe, expect, it } from 'vitest';
import { init, memoryStats } from '../engine/engine.js';
import { tidy } from '../scope.js';
import { arange, tensor } from './creation.js';
import '../index.js';

beforeAll(async () => {
  await init();
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('views', () => {
  it('permute and transpose read through strides without copying', async () => {
    const x = tensor(range(24), [2, 3, 4]);
    const p = x.permute(2, 0, 1);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.storage).toBe(x.storage);
    const expected: number[] = [];
    for (let k = 0; k < 4; k++)
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(i * 12 + j * 4 + k);
    expect(Array.from(await p.toArray())).toEqual(expected);
    expect(Array.from(await p.contiguous().add(0).toArray())).toEqual(expected);
  });
  it('narrow, slice, expand, squeeze, unsqueeze', async () => {
    const x = tensor(range(12), [3, 4]);
    expect(Array.from(await x.narrow(1, 1, 2).toArray())).toEqual([1, 2, 5, 6, 9, 10]);
    expect(Array.from(await x.slice(0, -1).toArray())).toEqual([8, 9, 10, 11]);
    const col = tensor([1, 2, 3], [3, 1]);
    expect(Array.from(await col.expand(3, 2).toArray())).toEqual([1, 1, 2, 2, 3, 3]);
    expect(col.squeeze().shape).toEqual([3]);
    expect(col.unsqueeze(0).shape).toEqual([1, 3, 1]);
  });
  it('view keeps storage when strides allow and reshape copies otherwise', async () => {
    const x = tensor(range(24), [2, 3, 4]);
    const t = x.transpose(1, 2); // [2,4,3], not contiguous
    expect(() => t.view(8, 3)).toThrow(/without a copy/);
    const r = t.reshape(8, 3);
    expect(r.storage).not.toBe(x.storage);
    const merged = x.permute(0, 1, 2).view(6, 4);
    expect(merged.storage).toBe(x.storage);
    expect(Array.from(await r.toArray())).toEqual(Array.from(await t.contiguous().toArray()));
    // Splitting a dim of a transposed view is still a view.
    const tv = x.transpose(0, 1).view(3, 2, 2, 2);
    expect(tv.storage).toBe(x.storage);
  });
  it('gradients flow through views (narrow, expand, permute, reshape)', async () => {
    const x = tensor(range(12), [3, 4], { requiresGrad: true });
    tidy(() => {
      const y = x
        .narrow(1, 1, 2)
        .permute(1, 0)
        .reshape(6)
        .mul(tensor(range(6), [6]));
      y.sum().backward();
    });
    // d/dx of sum(x[:,1:3].T.flatten() * w): w is laid out column-major over the narrowed block.
    expect(Array.from(await x.grad!.toArray())).toEqual([0, 0, 3, 0, 0, 1, 4, 0, 0, 2, 5, 0]);
    const b = tensor([1, 2], [2, 1], { requiresGrad: true });
    tidy(() => b.expand(2, 5).sum().backward());
    expect(Array.from(await b.grad!.toArray())).toEqual([5, 5]);
  });
  it('arange and dtype inference', async () => {
    expect(arange(5).dtype).toBe('int32');
    expect(Array.from(await arange(1, 2, 0.25).toArray())).toEqual([1, 1.25, 1.5, 1.75]);
  });
});

describe('memory', () => {
  it('tidy releases everything but the result, and gradients accumulate', async () => {
    const w = tensor([1, 2, 3], [3], { requiresGrad: true });
    const before = memoryStats().bytesInUse;
    for (let step = 0; step < 20; step++) {
      tidy(() => {
        const loss = w.mul(w).add(1).sum();
        loss.backward();
      });
    }
    // grad = 20 * 2w; only w.grad was added.
    expect(Array.from(await w.grad!.toArray())).toEqual([40, 80, 120]);
    const after = memoryStats().bytesInUse;
    expect(after - before).toBe(256);
    w.zeroGrad();
    expect(memoryStats().bytesInUse).toBe(before);
  });
  it('a second backward through a freed graph is an error', () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    tidy(() => {
      const loss = w.exp().sum();
      loss.backward();
      expect(() => loss.backward()).toThrow(/second time/);
    });
  });
});

describe('flip', () => {
  it('reverses along dims, forward and backward', async () => {
    const x = tensor(range(6), [2, 3], { requiresGrad: true });
    expect(Array.from(await x.flip([1]).toArray())).toEqual([2, 1, 0, 5, 4, 3]);
    expect(Array.from(await x.flip([0, 1]).toArray())).toEqual([5, 4, 3, 2, 1, 0]);
    tidy(() =>
      x
        .flip([1])
        .mul(tensor([1, 2, 3], [3]))
        .sum()
        .backward(),
    );
    expect(Array.from(await x.grad!.toArray())).toEqual([3, 2, 1, 3, 2, 1]);
  });
});
