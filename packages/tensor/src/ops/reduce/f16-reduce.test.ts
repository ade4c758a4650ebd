import { beforeAll, describe, expect, it } from 'vitest';
import { type Engine, init } from '../../engine/engine.js';
import type { Tensor } from '../../tensor.js';
import { assertClose, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { cast } from '../elementwise/where.js';
import { batchNorm2d } from '../norm/batch-norm.js';
import { logSoftmax, softmax } from '../softmax/softmax.js';
import { max } from './minmax.js';
import { mean, sum } from './sum.js';
import { std, variance } from './variance.js';
import '../../index.js';

let engine: Engine;
beforeAll(async () => {
  engine = await init();
});

// float16 in, float16 out, float32 inside: each op on half inputs must match the same op on the same (already
// half-rounded) values in float32, to half precision.
const OPS: [string, (t: Tensor) => Tensor][] = [
  ['sum', (t) => sum(t, 1)],
  ['mean', (t) => mean(t, [0, 2], true)],
  ['max', (t) => max(t, 2).values],
  ['var', (t) => variance(t, 1)],
  ['std', (t) => std(t)],
  ['softmax', (t) => softmax(t, 1)],
  ['logSoftmax', (t) => logSoftmax(t, 2)],
  ['batchNorm2d', (t) => batchNorm2d(t.unsqueeze(3), null, null, null, null, { training: true })],
];

describe('float16 reductions, softmax and batch norm', () => {
  for (const [name, op] of OPS) {
    it(name, async () => {
      expect(engine.hasF16).toBe(true);
      const x = randomCpu([3, 70, 5], 81, -2, 2);
      const half = cast(tensor(Float32Array.from(x.data), x.shape), 'float16');
      const single = cast(half, 'float32');
      const got = op(half);
      expect(got.dtype).toBe('float16');
      assertClose(await got.toArray(), await op(single).toArray(), { rtol: 2e-3, atol: 2e-3 }, name);
    });
  }
});
