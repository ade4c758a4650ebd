import { keep, map, mul, stack, sum, type Tensor, tidy } from '@nephron/tensor';

export interface LossScalerOptions {
  /** The first scale (PyTorch's GradScaler: 2¹⁶). */
  initScale?: number;
  /** The scale is multiplied by this after `growthInterval` clean steps in a row. */
  growthFactor?: number;
  /** ... and by this after a step whose gradients overflowed. */
  backoffFactor?: number;
  growthInterval?: number;
}

export interface LossScalerState {
  scale: number;
  /** Clean steps since the scale last changed. */
  cleanSteps: number;
}

/** What {@link LossScaler.step} did: whether the optimizer stepped, and the scale the step's loss was scaled by. */
export interface ScaledStep {
  skipped: boolean;
  scale: number;
}

/**
 * Dynamic loss scaling for mixed-precision training, as PyTorch's `GradScaler`. Half-precision gradients of a
 * segmentation loss are mostly below 2⁻¹⁴, where float16 loses precision or flushes to zero; multiplying the loss
 * by a large scale lifts them into range. The float32 master gradients are divided by the scale again before the
 * optimizer sees them. When the scale was too large, some gradient overflows to inf/NaN: that step is skipped and
 * the scale halved. After `growthInterval` clean steps the scale doubles, so it tracks the largest safe value.
 */
export class LossScaler {
  scale: number;
  cleanSteps = 0;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;

  constructor(options: LossScalerOptions = {}) {
    const { initScale = 2 ** 16, growthFactor = 2, backoffFactor = 0.5, growthInterval = 2000 } = options;
    if (!(initScale > 0 && Number.isFinite(initScale)))
      throw new RangeError(`LossScaler: initScale must be positive, got ${initScale}`);
    if (!(growthFactor > 1))
      throw new RangeError(`LossScaler: growthFactor must be > 1, got ${growthFactor}`);
    if (!(backoffFactor > 0 && backoffFactor < 1))
      throw new RangeError(`LossScaler: backoffFactor must be in (0, 1), got ${backoffFactor}`);
    if (!(Number.isInteger(growthInterval) && growthInterval >= 1))
      throw new RangeError(`LossScaler: growthInterval must be a positive integer, got ${growthInterval}`);
    this.scale = initScale;
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = growthInterval;
  }

  /** The loss times the current scale: call `backward()` on this instead of the loss. */
  scaleLoss(loss: Tensor): Tensor {
    return mul(loss, this.scale);
  }

  /**
   * Counts non-finite values over every gradient on the GPU (one number read back): an exponent of all ones is
   * inf or NaN, tested on the bits so no compiler shortcut about NaN can hide one.
   */
  async nonFiniteCount(params: readonly Tensor[]): Promise<number> {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return 0;
    const total = tidy(() => {
      const counts = grads.map((g) =>
        sum(
          map([g], {
            name: 'non_finite',
            expr: 'select(0.0, 1.0, (bitcast<u32>(a0) & 0x7f800000u) == 0x7f800000u)',
            outDtype: 'float32',
          }),
        ),
      );
      return keep(sum(stack(counts)));
    });
    const n = await total.item();
    total.dispose();
    return n;
  }

  /** Divides every gradient by the scale, in place. */
  unscale(params: readonly Tensor[]): void {
    const inverse = 1 / this.scale;
    for (const p of params) {
      const g = p.grad;
      if (!g) continue;
      map([g], {
        name: 'unscale',
        expr: 'a0 * uf(S+0u)',
        outDtype: g.dtype,
        out: g,
        scalars: [{ f: inverse }],
      });
    }
  }

  /** Adjusts the scale after a step: halve on overflow, grow after `growthInterval` clean steps. */
  update(overflowed: boolean): void {
    if (overflowed) {
      this.scale *= this.backoffFactor;
      this.cleanSteps = 0;
      return;
    }
    this.cleanSteps++;
    if (this.cleanSteps >= this.growthInterval) {
      this.scale *= this.growthFactor;
      this.cleanSteps = 0;
    }
  }

  /**
   * After `scaleLoss(loss).backward()`: if every gradient is finite, unscales them and runs `optimizerStep`;
   * otherwise skips it. Then updates the scale. The caller zeroes the gradients either way.
   */
  async step(params: readonly Tensor[], optimizerStep: () => void): Promise<ScaledStep> {
    const scale = this.scale;
    const overflowed = (await this.nonFiniteCount(params)) > 0;
    if (!overflowed) {
      this.unscale(params);
      optimizerStep();
    }
    this.update(overflowed);
    return { skipped: overflowed, scale };
  }

  stateDict(): LossScalerState {
    return { scale: this.scale, cleanSteps: this.cleanSteps };
  }

  loadStateDict(state: LossScalerState): void {
    if (!(state.scale > 0) || !Number.isInteger(state.cleanSteps) || state.cleanSteps < 0) {
      throw new RangeError(`LossScaler.loadStateDict: bad state ${JSON.stringify(state)}`);
    }
    this.scale = state.scale;
    this.cleanSteps = state.cleanSteps;
  }
}
