import { isGradEnabled } from '../../autograd/grad-mode.js';
import { keep } from '../../scope.js';
import type { Tensor } from '../../tensor.js';
import { cast } from '../elementwise/where.js';

/**
 * Half copies of weights made once and reused by every autocast call that reads them, for inference: the weights
 * must not change while the cache lives (an optimizer step would leave stale copies). Only used where gradients
 * are off, for the operands an op names as weights (conv2d's and linear's weight and bias) that are leaves.
 */
export class HalfWeightCache {
  private readonly copies = new Map<Tensor, Tensor>();

  /** The half copy of `t`, made on first use; the cache owns it. */
  get(t: Tensor): Tensor {
    let h = this.copies.get(t);
    if (!h || h.isDisposed) {
      h = keep(cast(t, 'float16'));
      this.copies.set(t, h);
    }
    return h;
  }

  get size(): number {
    return this.copies.size;
  }

  dispose(): void {
    for (const h of this.copies.values()) h.dispose();
    this.copies.clear();
  }
}

interface AutocastState {
  cache: HalfWeightCache | null;
}

let state: AutocastState | null = null;

/**
 * Automatic mixed precision, after `torch.autocast`: inside `fn`, the ops that do the heavy multiply-adds (conv2d,
 * matmul, linear) take float32 operands as float16 copies and return float16. Everything downstream of them then
 * runs on float16 storage (batch norm keeps float32 statistics and parameters). The casts are recorded by autograd,
 * so float32 weights (the optimizer's master copies) receive float32 gradients. With `cache`, leaf weights are
 * cast once per cache instead of once per call (inference, where gradients are off).
 */
export function autocast<T>(fn: () => T, options: { cache?: HalfWeightCache } = {}): T {
  const previous = state;
  state = { cache: options.cache ?? null };
  try {
    return fn();
  } finally {
    state = previous;
  }
}

/** Whether an autocast region is active. */
export function isAutocastEnabled(): boolean {
  return state !== null;
}

/**
 * Under autocast, when any operand is float32: runs `op` on float16 versions of the operands (recorded casts, or
 * cached weight copies) and returns its result; otherwise null, and the caller goes on with its operands as given.
 */
export function autocastCall<T extends readonly (Tensor | null)[]>(
  operands: T,
  op: (...half: { [K in keyof T]: T[K] }) => Tensor,
  weights: readonly number[] = [],
): Tensor | null {
  if (!state || !operands.some((t) => t?.dtype === 'float32')) return null;
  const cache = state.cache;
  const owned: Tensor[] = [];
  const half = operands.map((t, i) => {
    if (!t || t.dtype !== 'float32') return t;
    // Activations change every call and are cast each time; weights are the same tensors call after call.
    if (cache && !isGradEnabled() && t.isLeaf && weights.includes(i)) return cache.get(t);
    const h = cast(t, 'float16');
    owned.push(h);
    return h;
  }) as unknown as { [K in keyof T]: T[K] };
  try {
    return op(...half);
  } finally {
    for (const t of owned) t.dispose();
  }
}
