/**
 * The activations a fused kernel can apply after its affine step, as WGSL over one f32 `z`: the value, and the
 * upstream gradient `g` times the derivative, recomputed from `z` so backward never needs the activation's output.
 * The expressions are the ones `relu`/`silu` use on their own, so the fused and unfused chains round alike.
 */
export type FusedActivation = 'identity' | 'relu' | 'silu';

export const FUSED_ACTIVATIONS: readonly FusedActivation[] = ['identity', 'relu', 'silu'];

/**
 * Overflow-safe logistic of a WGSL expression, inline (reduction kernels take no helper functions): exp of a
 * large positive argument would give inf/inf.
 */
export function sigmoidOf(x: string): string {
  return `select(exp(${x}) / (1.0 + exp(${x})), 1.0 / (1.0 + exp(-${x})), ${x} >= 0.0)`;
}

/** act(z) for a WGSL expression `z` (parenthesised by the caller when it is compound). */
export function activate(activation: FusedActivation, z: string): string {
  switch (activation) {
    case 'identity':
      return z;
    case 'relu':
      return `max(${z}, 0.0)`;
    case 'silu':
      return `${z} * ${sigmoidOf(z)}`;
  }
}

/** g · act'(z). */
export function activationGrad(activation: FusedActivation, g: string, z: string): string {
  switch (activation) {
    case 'identity':
      return g;
    case 'relu':
      return `select(0.0, ${g}, ${z} > 0.0)`;
    case 'silu': {
      // Backward recomputes this in each pass that needs it, so it takes the one-exp form of the logistic:
      // 1 / (1 + exp(−z)) tends to 0 and 1 at the extremes without inf/inf, and agrees with sigmoidOf to
      // float32 rounding.
      const s = `(1.0 / (1.0 + exp(-${z})))`;
      return `${g} * ${s} * (1.0 + ${z} * (1.0 - ${s}))`;
    }
  }
}

export function checkActivation(activation: string, op: string): asserts activation is FusedActivation {
  if (!FUSED_ACTIVATIONS.includes(activation as FusedActivation)) {
    throw new RangeError(
      `${op}: unknown activation "${activation}"; expected one of ${FUSED_ACTIVATIONS.join(', ')}`,
    );
  }
}
