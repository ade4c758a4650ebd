import { beforeAll, describe, expect, it } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import { checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { transpose } from '../views.js';
import { cat, stack } from './cat.js';
import { cpuCat, cpuNarrow, cpuStack, cpuTranspose } from './join.cpu.js';
import { chunk, split, unbind } from './split.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

describe('cat', () => {
  for (const dim of [0, 1, -1]) {
    it(`joins [2,3,5], [2,1,5]/[1,3,5]/[2,3,2] along dim ${dim}`, async () => {
      const other = dim === 0 ? [1, 3, 5] : dim === 1 ? [2, 1, 5] : [2, 3, 2];
      const inputs = [randomCpu([2, 3, 5], 1), randomCpu(other, 2), randomCpu([2, 3, 5], 3)];
      await checkOp({
        label: `cat dim ${dim}`,
        inputs,
        gpu: (xs) => cat(xs, dim),
        cpu: (xs) => cpuCat(xs, dim),
        forward: { rtol: 0, atol: 0 },
      });
    });
  }

  it('reads non-contiguous inputs and launches one copy per input', async () => {
    const a = randomCpu([5, 3], 4);
    const b = randomCpu([2, 5], 5);
    const engine = getEngine();
    let launches = 0;
    await checkOp({
      label: 'cat of a transposed view',
      inputs: [a, b],
      gpu: ([x, y]) => {
        const before = engine.dispatchCount;
        const out = cat([transpose(x, 0, 1), y], 0);
        launches = engine.dispatchCount - before;
        return out;
      },
      cpu: ([x, y]) => cpuCat([cpuTranspose(x, 0, 1), y], 0),
    });
    expect(launches).toBe(2);
  });

  it('sums the gradients of an input used twice, leaf or not', async () => {
    const x = randomCpu([2, 3], 11);
    await checkOp({
      label: 'cat of a leaf twice',
      inputs: [x],
      gpu: ([t]) => cat([t, t, t], 1),
      cpu: ([t]) => cpuCat([t, t, t], 1),
    });
    await checkOp({
      label: 'cat of a computed tensor twice',
      inputs: [x],
      gpu: ([t]) => {
        const u = t.mul(t);
        return stack([cat([u, t], 0), cat([t, u], 0)], 0);
      },
      cpu: ([t]) => {
        const u = { data: t.data.map((v) => v * v), shape: t.shape };
        return cpuStack([cpuCat([u, t], 0), cpuCat([t, u], 0)], 0);
      },
    });
  });

  it('handles empty pieces, integer dtypes, and rejects mismatches by name', async () => {
    const a = tensor(new Int32Array([1, 2, 3, 4]), [2, 2]);
    const e = tensor(new Int32Array([]), [2, 0]);
    const b = tensor(new Int32Array([-5, -6]), [2, 1]);
    const c = cat([a, e, b], 1);
    expect(c.dtype).toBe('int32');
    expect(Array.from(await c.toArray())).toEqual([1, 2, -5, 3, 4, -6]);
    const f = tensor([1, 2], [2, 1]);
    expect(() => cat([a, f], 1)).toThrow(/int32.*float32|float32.*int32/);
    expect(() => cat([a, tensor(new Int32Array([1, 2, 3]), [3, 1])], 1)).toThrow(/does not match/);
    expect(() => cat([], 0)).toThrow(/at least one/);
    for (const t of [a, e, b, c, f]) t.dispose();
  });
});

describe('stack', () => {
  for (const dim of [0, 1, 2, -1]) {
    it(`stacks three [3,4] along dim ${dim}`, async () => {
      const inputs = [randomCpu([3, 4], 6), randomCpu([3, 4], 7), randomCpu([3, 4], 8)];
      await checkOp({
        label: `stack dim ${dim}`,
        inputs,
        gpu: (xs) => stack(xs, dim),
        cpu: (xs) => cpuStack(xs, dim),
        forward: { rtol: 0, atol: 0 },
      });
    });
  }
  it('rejects shapes that differ', () => {
    const a = tensor([1, 2, 3], [3]);
    const b = tensor([1, 2], [2]);
    expect(() => stack([a, b])).toThrow(/differs/);
    expect(() => stack([a, a], 2)).toThrow(/out of range/);
  });
});

describe('split, chunk, unbind', () => {
  it('split by size gives views with a short last piece', () => {
    const x = tensor(
      Float32Array.from({ length: 14 }, (_, i) => i),
      [2, 7],
    );
    const pieces = split(x, 3, 1);
    expect(pieces.map((p) => p.shape[1])).toEqual([3, 3, 1]);
    expect(pieces.every((p) => p.storage === x.storage)).toBe(true);
    expect(chunk(x, 3, 1).map((p) => p.shape[1])).toEqual([3, 3, 1]);
    expect(chunk(x, 2, 0).map((p) => p.shape[0])).toEqual([1, 1]);
    expect(unbind(x, 0).map((p) => p.shape)).toEqual([[7], [7]]);
    expect(() => split(x, [3, 3], 1)).toThrow(/adding up to 7/);
    expect(() => split(x, 0, 1)).toThrow(/positive/);
  });

  for (const [dim, sections] of [
    [1, [2, 3, 1]],
    [0, [1, 3]],
    [-1, [5, 0, 2]],
  ] as [number, number[]][]) {
    it(`split into sections [${sections}] along dim ${dim}, rejoined out of order`, async () => {
      const x = randomCpu([4, 6, 7], 9);
      const rank = 3;
      const d = dim < 0 ? dim + rank : dim;
      const starts = sections.map((_, i) => sections.slice(0, i).reduce((a, b) => a + b, 0));
      const order = sections.map((_, i) => i).reverse();
      await checkOp({
        label: `split ${sections}`,
        inputs: [x],
        gpu: ([t]) => {
          const pieces = split(t, sections, dim);
          return cat(
            order.map((i) => pieces[i]),
            dim,
          );
        },
        cpu: ([t]) =>
          cpuCat(
            order.map((i) => cpuNarrow(t, d, starts[i], sections[i])),
            d,
          ),
        forward: { rtol: 0, atol: 0 },
      });
    });
  }

  it('unbind backward fills every slice', async () => {
    const x = randomCpu([3, 4], 10);
    await checkOp({
      label: 'unbind',
      inputs: [x],
      gpu: ([t]) => {
        const rows = unbind(t, 0);
        return stack([rows[2], rows[0]], 1);
      },
      cpu: ([t]) => {
        const row = (i: number) => ({ data: t.data.slice(i * 4, i * 4 + 4), shape: [4] });
        return cpuStack([row(2), row(0)], 1);
      },
    });
  });
});
