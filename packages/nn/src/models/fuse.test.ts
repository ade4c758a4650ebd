import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init, memoryStats, noGrad, type Tensor, tensor, tidy } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { foldedConv } from '../layers/fold-batch-norm.js';
import { bytesToFloat32 } from '../safetensors/dtypes.js';
import { parseSafetensors } from '../safetensors/format.js';
import { fuseForInference } from './fuse.js';
import { ruleInput, ruleStateDict } from './parity-rule.js';
import { Unet } from './unet.js';

beforeAll(async () => {
  await init();
});

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

/** The B0 parity fixture's model: rule weights, so its running statistics and affine terms are not trivial. */
function ruleUnet(): Unet {
  const model = new Unet('efficientnet-b0', { classes: 2, dropConnectRate: 0 });
  const shapes = new Map([...model.stateDict()].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }]));
  const sd = ruleStateDict(shapes);
  model.loadStateDict(sd);
  for (const t of sd.values()) t.dispose();
  return model;
}

async function snapshot(model: Unet): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [k, t] of model.stateDict()) out.set(k, Array.from(await t.toArray()));
  return out;
}

const logitsOf = (model: { forward(x: Tensor): Tensor }, x: Tensor) =>
  noGrad(() => tidy(() => model.forward(x)));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('fuseForInference', () => {
  it("folds every batch norm, matches the unfused model and PyTorch's logits, and leaves the state dict alone", async () => {
    const meta = JSON.parse(readFileSync(fixture('unet-efficientnet-b0.json'), 'utf8')) as {
      batch: number;
      size: number;
      evalLogitsF32MaxAbsErr: number;
    };
    const file = parseSafetensors(
      new Uint8Array(readFileSync(fixture('unet-efficientnet-b0.logits.safetensors'))),
    );
    const entry = file.tensors.get('eval_logits')!;
    const torchLogits = bytesToFloat32(entry.data, entry.dtype);

    const model = ruleUnet();
    model.eval();
    const x = tensor(ruleInput(meta.batch, meta.size), [meta.batch, 3, meta.size, meta.size]);
    const before = await snapshot(model);
    const plain = logitsOf(model, x);
    const unfused = await plain.toArray();

    const fused = fuseForInference(model);
    expect(foldedConv(model.encoder.convStem)).toBeDefined();
    expect(foldedConv(model.encoder.blocks.at(3).projectConv)).toBeDefined();
    // The segmentation head has no batch norm after it: nothing to fold.
    expect(foldedConv(model.segmentationHead.at(0) as never)).toBeUndefined();
    const folded = logitsOf(fused, x);
    const got = await folded.toArray();

    let scale = 0;
    for (const v of torchLogits) scale = Math.max(scale, Math.abs(v));
    // Folding reassociates w·x·s into (w·s)·x: float32 rounding, far below the logits' size.
    expect(maxAbsDiff(got, unfused)).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    const tolerance = Math.max(1e-4 * Math.max(1, scale), 4 * meta.evalLogitsF32MaxAbsErr);
    expect(maxAbsDiff(got, torchLogits)).toBeLessThanOrEqual(tolerance);

    // Same keys, same values: folding wrote new tensors, not the parameters or buffers.
    const after = await snapshot(model);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [k, v] of before) expect(after.get(k), k).toEqual(v);

    fused.dispose();
    expect(foldedConv(model.encoder.convStem)).toBeUndefined();
    const again = logitsOf(model, x);
    expect(Array.from(await again.toArray())).toEqual(Array.from(unfused));
    for (const t of [x, plain, folded, again]) t.dispose();
    model.dispose();
  }, 1_200_000);

  it('is ignored in training mode and frees its weights on dispose', async () => {
    const model = ruleUnet();
    const x = tensor(ruleInput(2, 32), [2, 3, 32, 32]);
    model.train();
    const reference = logitsOf(model, x);
    const held = memoryStats().bytesInUse;
    const fused = fuseForInference(model);
    expect(memoryStats().bytesInUse).toBeGreaterThan(held);
    model.train();
    const trained = logitsOf(model, x);
    expect(Array.from(await trained.toArray())).toEqual(Array.from(await reference.toArray()));
    trained.dispose();
    fused.dispose();
    expect(memoryStats().bytesInUse).toBe(held);
    for (const t of [x, reference]) t.dispose();
    model.dispose();
  }, 1_200_000);
});
