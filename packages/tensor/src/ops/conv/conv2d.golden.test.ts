import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../engine/engine.js';
import { type GoldenTensor, goldenMismatch, loadGolden } from '../../testing/golden.js';
import { tensor } from '../creation.js';
import { conv2d } from './conv2d.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

const upload = (t: GoldenTensor, requiresGrad = false) =>
  tensor(Float32Array.from(t.data), t.shape, { requiresGrad });

describe('conv2d matches PyTorch (fixtures/golden/conv2d.json)', () => {
  for (const c of loadGolden('conv2d')) {
    it(c.name, async () => {
      const p = c.params as {
        stride: [number, number];
        pad: number[];
        dilation: [number, number];
        groups: number;
      };
      const x = upload(c.inputs.input, true);
      const w = upload(c.inputs.weight, true);
      const b = c.inputs.bias ? upload(c.inputs.bias, true) : null;
      const out = conv2d(x, w, b, {
        stride: p.stride,
        dilation: p.dilation,
        groups: p.groups,
        padding: [p.pad[0], p.pad[1], p.pad[2], p.pad[3]],
      });
      expect(out.shape).toEqual(c.outputs.output.shape);
      expect(goldenMismatch(await out.toArray(), c.outputs.output, c.tolerance.outputs, 'output')).toBeNull();
      if (!c.gradOutput) throw new Error(`${c.name}: golden case without grad_output`);
      const gradOut = upload(c.gradOutput);
      out.backward(gradOut);
      const got = { input: x, weight: w, bias: b };
      for (const [name, want] of Object.entries(c.grads)) {
        const grad = got[name as keyof typeof got]?.grad;
        if (!grad) throw new Error(`${c.name}: no gradient for ${name}`);
        expect(goldenMismatch(await grad.toArray(), want, c.tolerance.grads, `grad ${name}`)).toBeNull();
      }
      for (const t of [x, w, b, out, gradOut]) t?.dispose();
    });
  }
});
