import { isFloat } from '../../dtype.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import type { Generator } from '../random/generator.js';
import { bernoulliScaled } from '../random/random.js';

export interface DropoutOptions {
  /** Where the mask's random numbers come from; the default generator when omitted. */
  generator?: Generator;
}

function check(op: string, x: Tensor, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${op}: probability ${p} is outside [0, 1] (input ${x})`);
  if (!isFloat(x.dtype)) throw new TypeError(`${op}: ${x} must be floating, is ${x.dtype}`);
}

/** A new handle on `x`, recorded as identity (eval mode, p = 0). */
function identity(op: string, x: Tensor): Tensor {
  return recordOp(op, x.asView(x.shape, x.strides, x.offset), [x], (g) => [g.retain()]);
}

/**
 * `x · mask`, where the mask (of any broadcastable shape) already holds 0 or 1/(1-p). Backward multiplies by
 * the same saved mask, so it drops exactly what the forward pass dropped.
 */
function applyMask(op: string, x: Tensor, mask: Tensor): Tensor {
  const y = map([x, mask], { name: op, expr: 'a0 * a1', outDtype: x.dtype });
  const result = recordOp(
    op,
    y,
    [x],
    (g, [m]) => [map([g, m], { name: `${op}_backward`, expr: 'a0 * a1', outDtype: g.dtype })],
    [mask],
  );
  mask.dispose();
  return result;
}

/** The scale kept elements get so that the expectation is unchanged ("inverted" dropout). */
function keepScale(p: number): number {
  return p < 1 ? 1 / (1 - p) : 0;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p) in training, like
 * `torch.nn.functional.dropout`; the identity in eval mode.
 */
export function dropout(x: Tensor, p = 0.5, training = true, options: DropoutOptions = {}): Tensor {
  check('dropout', x, p);
  if (!training || p === 0) return identity('dropout', x);
  const mask = bernoulliScaled(x.shape, 1 - p, keepScale(p), {
    generator: options.generator,
    dtype: x.dtype,
  });
  return applyMask('dropout', x, mask);
}

/**
 * Stochastic depth: drops whole samples (dim 0) of a residual branch with probability p and scales kept ones by
 * 1/(1-p), as EfficientNet's drop-connect and timm's `drop_path` do; the identity in eval mode.
 */
export function dropPath(x: Tensor, p = 0, training = true, options: DropoutOptions = {}): Tensor {
  check('dropPath', x, p);
  if (!training || p === 0 || x.ndim === 0) return identity('dropPath', x);
  const shape = x.shape.map((s, i) => (i === 0 ? s : 1));
  const mask = bernoulliScaled(shape, 1 - p, keepScale(p), { generator: options.generator, dtype: x.dtype });
  return applyMask('dropPath', x, mask);
}
