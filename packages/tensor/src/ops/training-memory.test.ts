import { beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../autograd/grad-mode.js';
import { init, memoryStats } from '../engine/engine.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { dropout } from './dropout/dropout.js';
import { add, mul, sub } from './elementwise/binary.js';
import { relu, square } from './elementwise/unary.js';
import { cat } from './join/cat.js';
import { split } from './join/split.js';
import { pad } from './pad/pad.js';
import { Generator } from './random/generator.js';
import { randn } from './random/random.js';
import { sum } from './reduce/sum.js';
import { unsqueeze } from './views.js';
import '../index.js';

beforeAll(async () => {
  await init();
});

/** x [B, in] times w [out, in], plus b [out], from broadcasting and a sum. */
function linear(x: Tensor, w: Tensor, b: Tensor): Tensor {
  return add(sum(mul(unsqueeze(x, 1), w), 2), b);
}

describe('memory over a training loop', () => {
  it('1000 steps end with the bytes in use after step 1: pooled buffers are reused, nothing leaks', async () => {
    const g = new Generator(2024);
    const params = [
      randn([8, 6], { generator: g }),
      randn([8], { generator: g }),
      randn([1, 16], { generator: g }),
    ];
    for (const p of params) p.requiresGrad_();
    const [w1, b1, w2] = params;
    const x = randn([4, 6], { generator: g });
    const target = sum(x, 1, true);

    const step = (): Tensor =>
      tidy(() => {
        const h = dropout(relu(linear(x, w1, b1)), 0.1, true, { generator: g });
        const [left, right] = split(pad(h, [1, 1]), [3, 7], 1);
        const y = sum(mul(unsqueeze(cat([right, x, left], 1), 1), w2), 2);
        const loss = sum(square(sub(y, target)));
        loss.backward();
        noGrad(() => {
          for (const p of params) {
            p.addInPlace(mul(p.grad as Tensor, -0.002));
            p.zeroGrad();
          }
        });
        return loss;
      });

    const first = step();
    const firstLoss = await first.item();
    first.dispose();
    const afterOne = memoryStats();
    let last = 0;
    for (let i = 2; i <= 1000; i++) {
      const loss = step();
      if (i === 1000) last = await loss.item();
      loss.dispose();
    }
    const afterAll = memoryStats();
    expect(afterAll.bytesInUse).toBe(afterOne.bytesInUse);
    expect(afterAll.liveTensors).toBe(afterOne.liveTensors);
    // The pool does not grow either: step 1 already created every buffer the loop needs.
    expect(afterAll.bytesAllocated).toBe(afterOne.bytesAllocated);
    expect(afterAll.buffers).toBe(afterOne.buffers);
    expect(last).toBeLessThan(firstLoss / 2);
    for (const t of [...params, x, target]) t.dispose();
  }, 120_000);
});
