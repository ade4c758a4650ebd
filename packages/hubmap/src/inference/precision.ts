import { autocast, cast, getEngine, HalfWeightCache, type Tensor } from '@nephron/tensor';

/** Arithmetic of inference: float32, or float16 storage with float32 accumulation (needs `shader-f16`). */
export type InferencePrecision = 'f32' | 'f16';

type Forward = (input: Tensor) => Tensor;

/** Throws unless `precision` can run on the current device, saying what to do instead. */
export function checkInferencePrecision(precision: string): asserts precision is InferencePrecision {
  if (precision !== 'f32' && precision !== 'f16')
    throw new RangeError(`precision must be 'f32' or 'f16', got ${JSON.stringify(precision)}`);
  if (precision === 'f16' && !getEngine().hasF16) {
    throw new Error(
      "precision 'f16' needs float16 shaders, and this GPU's adapter does not offer 'shader-f16'; use precision 'f32'",
    );
  }
}

/**
 * Forward functions at `precision`. For 'f16' each runs under autocast with one cache of half weights shared by all
 * calls (every weight is cast once, on first use) and returns float32 logits; `dispose` frees the half weights.
 * The models' own float32 weights are untouched.
 */
export function atPrecision(
  models: readonly Forward[],
  precision: InferencePrecision = 'f32',
): { models: Forward[]; dispose(): void } {
  if (precision === 'f32') return { models: [...models], dispose: () => {} };
  checkInferencePrecision(precision);
  const cache = new HalfWeightCache();
  return {
    models: models.map((forward) => (x: Tensor) => {
      const half = autocast(() => forward(x), { cache });
      const logits = cast(half, 'float32');
      half.dispose();
      return logits;
    }),
    dispose: () => cache.dispose(),
  };
}
