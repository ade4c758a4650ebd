import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init, type Tensor, tensor } from '@nephron/tensor';
import { assertClose } from '@nephron/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ceDiceLoss, crossEntropyLoss, diceLoss } from './losses.js';

interface Flat {
  shape: number[];
  data: number[];
}
interface LossCase {
  name: string;
  classes: number[];
  smooth: number;
  logits: Flat;
  target: Flat;
  ce: { value: number; grad: Flat };
  dice: { value: number; grad: Flat };
  total: { value: number; grad: Flat };
}

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/losses.json', import.meta.url)), 'utf8'),
) as { cases: LossCase[] };

beforeAll(async () => {
  await init();
});

describe('losses against PyTorch (smp DiceLoss rebuilt)', () => {
  for (const c of fixture.cases) {
    for (const kind of ['ce', 'dice', 'total'] as const) {
      it(`${c.name}: ${kind} value and gradient`, async () => {
        const logits = tensor(c.logits.data, c.logits.shape, { requiresGrad: true });
        const target = tensor(c.target.data, c.target.shape, { dtype: 'int32' });
        const options = { classes: c.classes, smooth: c.smooth };
        const loss: Tensor =
          kind === 'ce'
            ? crossEntropyLoss(logits, target)
            : kind === 'dice'
              ? diceLoss(logits, target, options)
              : ceDiceLoss(logits, target, options);
        expect(loss.shape).toEqual([]);
        assertClose([await loss.item()], [c[kind].value], { rtol: 1e-5, atol: 1e-6 }, `${c.name} ${kind}`);
        loss.backward();
        assertClose(
          await logits.grad!.toArray(),
          c[kind].grad.data,
          { rtol: 1e-4, atol: 1e-6 },
          `${c.name} d${kind}/dlogits`,
        );
        for (const t of [logits, target, loss]) t.dispose();
      });
    }
  }

  it('names what is wrong with the inputs', () => {
    const logits = tensor(new Float32Array(2 * 2 * 3 * 3), [2, 2, 3, 3]);
    expect(() => diceLoss(logits, tensor(new Int32Array(9), [1, 3, 3], { dtype: 'int32' }))).toThrow(
      /N×H×W targets/,
    );
    expect(() => diceLoss(logits, tensor(new Float32Array(18), [2, 3, 3]))).toThrow(
      /must hold class indices/,
    );
    expect(() =>
      diceLoss(logits, tensor(new Int32Array(18), [2, 3, 3], { dtype: 'int32' }), { classes: [2] }),
    ).toThrow(/class 2 is not one of the 2 channels/);
  });
});
