import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getEngine, init } from '../../engine/engine.js';
import { checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { cpuTranspose } from '../join/join.cpu.js';
import { transpose } from '../views.js';
import { cpuPad } from './pad.cpu.js';
import { pad } from './pad.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

afterEach(() => limitBindingBytes(null));

describe('pad', () => {
  it('follows F.pad order: the first pair pads the last dim', async () => {
    const x = tensor([1, 2, 3, 4], [2, 2]);
    const y = pad(x, [1, 2], -1);
    expect(y.shape).toEqual([2, 5]);
    expect(Array.from(await y.toArray())).toEqual([-1, 1, 2, -1, -1, -1, 3, 4, -1, -1]);
    const z = pad(x, [0, 0, 1, 0]);
    expect(Array.from(await z.toArray())).toEqual([0, 0, 1, 2, 3, 4]);
    for (const t of [x, y, z]) t.dispose();
  });

  const cases: [string, number[], number[], number][] = [
    ['EfficientNet SAME [0,1,0,1]', [2, 3, 5, 6], [0, 1, 0, 1], 0],
    ['asymmetric on three dims', [2, 3, 4], [1, 2, 0, 3, 2, 1], 0.5],
    ['cropping with negative pads', [3, 7, 6], [-1, 2, 1, -3], -2],
    ['one dim only', [5], [3, 0], 1],
  ];
  for (const [label, shape, pads, value] of cases) {
    it(`${label}: forward and gradient match the CPU reference`, async () => {
      await checkOp({
        label,
        inputs: [randomCpu(shape, shape.length)],
        gpu: ([x]) => pad(x, pads, value),
        cpu: ([x]) => cpuPad(x, pads, value),
        forward: { rtol: 0, atol: 0 },
      });
    });
  }

  it('reads a non-contiguous view', async () => {
    await checkOp({
      label: 'pad of transpose',
      inputs: [randomCpu([4, 3], 5)],
      gpu: ([x]) => pad(transpose(x, 0, 1), [2, 1, 1, 1], 3),
      cpu: ([x]) => cpuPad(cpuTranspose(x, 0, 1), [2, 1, 1, 1], 3),
      forward: { rtol: 0, atol: 0 },
    });
  });

  it('gives the same result when buffers are too large to bind whole', async () => {
    const x = randomCpu([2, 24, 30], 6);
    const pads = [2, -1, 3, 4, 0, 1];
    limitBindingBytes(2048);
    let launches = 0;
    await checkOp({
      label: 'pad split into bindings',
      inputs: [x],
      gpu: ([t]) => {
        const before = getEngine().dispatchCount;
        const y = pad(t, pads, 7);
        launches = getEngine().dispatchCount - before;
        return y;
      },
      cpu: ([t]) => cpuPad(t, pads, 7),
      forward: { rtol: 0, atol: 0 },
    });
    expect(launches).toBeGreaterThan(4);
  });

  it('pads integer tensors with an integer value and rejects bad pads by name', async () => {
    const x = tensor(new Int32Array([5, -6]), [1, 2]);
    const y = pad(x, [1, 1], -7);
    expect(Array.from(await y.toArray())).toEqual([-7, 5, -6, -7]);
    expect(() => pad(x, [1])).toThrow(/even number/);
    expect(() => pad(x, [1, 1, 1, 1, 1, 1])).toThrow(/at most two per dim/);
    expect(() => pad(x, [-2, -1])).toThrow(/gives shape/);
    x.dispose();
    y.dispose();
  });
});
