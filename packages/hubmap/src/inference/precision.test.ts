import {
  Engine,
  getEngine,
  init,
  keep,
  manualSeed,
  noGrad,
  randn,
  requestDevice,
  setEngine,
  type Tensor,
  tidy,
} from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSegmentationModel } from '../model.js';
import { atPrecision, checkInferencePrecision } from './precision.js';

beforeAll(async () => {
  await init();
});

describe('inference precision', () => {
  it('f16 logits of a UNet-B0 follow the f32 ones, each weight cast to half once', async () => {
    manualSeed(3);
    const model = createSegmentationModel('efficientnet-b0', 2);
    model.eval();
    const x = keep(randn([2, 3, 64, 64]));
    const f32 = atPrecision([(t) => model.forward(t)], 'f32');
    const f16 = atPrecision([(t) => model.forward(t)], 'f16');
    const run = (forward: (t: Tensor) => Tensor) => noGrad(() => tidy(() => keep(forward(x))));
    const a = run(f32.models[0]);
    const b = run(f16.models[0]);
    // A second call reuses the half weights: the same logits, bit for bit.
    const c = run(f16.models[0]);
    expect(b.dtype).toBe('float32');
    const [ya, yb, yc] = [await a.toArray(), await b.toArray(), await c.toArray()];
    expect(Array.from(yc)).toEqual(Array.from(yb));
    let scale = 0;
    let worst = 0;
    let meanDiff = 0;
    for (let i = 0; i < ya.length; i++) {
      scale = Math.max(scale, Math.abs(ya[i]));
      worst = Math.max(worst, Math.abs(ya[i] - yb[i]));
      meanDiff += Math.abs(ya[i] - yb[i]) / ya.length;
    }
    // Tolerance: about 80 layers, each rounding its activations to half (2⁻¹¹ relative). Measured on lavapipe:
    // worst 0.12% of the largest logit, mean 0.017%; the bounds leave a factor 3-4 of room.
    expect(worst).toBeLessThan(0.005 * scale);
    expect(meanDiff).toBeLessThan(0.0005 * scale);
    for (const t of [a, b, c, x]) t.dispose();
    f16.dispose();
    model.dispose();
  });

  it('refuses unknown precisions, and f16 without shader-f16, saying what to use instead', async () => {
    expect(() => checkInferencePrecision('f64')).toThrow(/precision must be 'f32' or 'f16', got "f64"/);
    const main = getEngine();
    const plain = new Engine(await requestDevice({ noOptionalFeatures: true }));
    setEngine(plain);
    try {
      expect(() => checkInferencePrecision('f16')).toThrow(/shader-f16.*use precision 'f32'/);
      expect(() => atPrecision([], 'f16')).toThrow(/shader-f16/);
    } finally {
      setEngine(main);
      plain.destroy();
    }
  });
});
