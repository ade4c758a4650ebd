import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../engine/engine.js';
import { checkOp, randomCpu } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { FUSED_ACTIVATIONS } from './activation.js';
import { biasAct } from './bias-act.js';
import { cpuBiasAct } from './fused.cpu.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

describe('biasAct', () => {
  for (const activation of FUSED_ACTIVATIONS) {
    it(`${activation}(x + bias): forward and finite-difference grads of x and bias`, async () => {
      await checkOp({
        label: `biasAct(${activation})`,
        inputs: [randomCpu([2, 3, 4, 5], 1, -2, 2), randomCpu([3], 2, -1, 1)],
        gpu: ([x, b]) => biasAct(x, b, activation),
        cpu: ([x, b]) => cpuBiasAct(x, b, activation),
        forward: { rtol: 1e-5, atol: 1e-6 },
        backward: { rtol: 2e-3, atol: 2e-4 },
      });
    });
  }

  it('says which shapes do not fit', () => {
    const x = tensor(new Float32Array(2 * 3 * 4), [2, 3, 2, 2]);
    expect(() => biasAct(x, tensor([1, 2], [2]), 'relu')).toThrow(
      /float32 bias \[C\], got \[2, 3, 2, 2\] and \[2\]/,
    );
  });
});
