import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../engine/engine.js';
import type { Tensor } from '../../tensor.js';
import { type GoldenCase, goldenMismatch, loadGolden } from '../../testing/golden.js';
import { tensor } from '../creation.js';
import { argmax, max, min } from './minmax.js';
import { mean, sum } from './sum.js';
import { variance } from './variance.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

type Dim = number | number[] | undefined;

/** Runs one golden reduction case; returns the differentiable output and, for max/min along a dim, the indices. */
function run(c: GoldenCase, x: Tensor): { output: Tensor; indices?: Tensor } {
  const dim = (c.params['dim'] ?? undefined) as Dim;
  const keepdim = c.params['keepdim'] as boolean;
  switch (c.op) {
    case 'sum':
      return { output: sum(x, dim, keepdim) };
    case 'mean':
      return { output: mean(x, dim, keepdim) };
    case 'var':
      return { output: variance(x, dim, c.params['unbiased'] as boolean, keepdim) };
    case 'argmax':
      return { output: argmax(x, dim as number | undefined, keepdim) };
    case 'max':
    case 'min': {
      const op = c.op === 'max' ? max : min;
      if (dim === undefined) return { output: op(x) };
      const { values, indices } = op(x, dim as number, keepdim);
      return { output: values, indices };
    }
    default:
      throw new Error(`no runner for ${c.op}`);
  }
}

const REDUCTIONS = new Set(['sum', 'mean', 'var', 'max', 'min', 'argmax']);

describe('reduction golden values from PyTorch', () => {
  for (const c of loadGolden('elementwise').filter((k) => REDUCTIONS.has(k.op))) {
    it(c.name, async () => {
      const input = c.inputs['input'];
      const differentiable = Object.keys(c.grads).length > 0;
      const x = tensor(Float32Array.from(input.data), input.shape, { requiresGrad: differentiable });
      const { output, indices } = run(c, x);
      expect(output.shape).toEqual(c.outputs['output'].shape);
      expect(
        goldenMismatch(await output.toArray(), c.outputs['output'], c.tolerance.outputs, 'output'),
      ).toBeNull();
      if (c.outputs['indices']) {
        expect(indices).toBeDefined();
        expect(
          goldenMismatch(await indices!.toArray(), c.outputs['indices'], c.tolerance.outputs, 'indices'),
        ).toBeNull();
      }
      if (!differentiable) return;
      const go = c.gradOutput!;
      output.backward(tensor(Float32Array.from(go.data), go.shape));
      expect(goldenMismatch(await x.grad!.toArray(), c.grads['input'], c.tolerance.grads, 'grad')).toBeNull();
    });
  }
});
