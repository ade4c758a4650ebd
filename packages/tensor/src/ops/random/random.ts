import { type DType, isFloat } from '../../dtype.js';
import { formatShape, type Shape } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { contiguous } from '../views.js';
import { defaultGenerator, type Generator } from './generator.js';
import { randomFill } from './random-kernel.js';

export interface RandomOptions {
  /** Defaults to the generator seeded by `manualSeed`. */
  generator?: Generator;
  dtype?: DType;
}

function floatDtype(op: string, dtype: DType | undefined): DType {
  const d = dtype ?? 'float32';
  if (!isFloat(d)) throw new TypeError(`${op}: dtype must be float32 or float16, got ${d}`);
  return d;
}

/** Uniform samples in [0, 1) on a grid of 2^-24, like `torch.rand`. */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  return randomFill({
    mode: 'uniform',
    shape,
    dtype: floatDtype('rand', options.dtype),
    generator: options.generator ?? defaultGenerator(),
  });
}

/** Standard normal samples (Box–Muller), like `torch.randn`. */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  return randomFill({
    mode: 'normal',
    shape,
    dtype: floatDtype('randn', options.dtype),
    generator: options.generator ?? defaultGenerator(),
  });
}

/** Integers uniform in [low, high) as int32, like `torch.randint(low, high, shape)`. */
export function randint(
  low: number,
  high: number,
  shape: Shape,
  options: Omit<RandomOptions, 'dtype'> = {},
): Tensor {
  const int32 = (v: number) => Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 31;
  if (!int32(low) || !int32(high) || high <= low || high - low >= 2 ** 32) {
    throw new RangeError(`randint: need integers low < high within int32, got low ${low}, high ${high}`);
  }
  return randomFill({
    mode: 'integer',
    shape,
    dtype: 'int32',
    generator: options.generator ?? defaultGenerator(),
    scalars: [low >>> 0, high - low],
  });
}

/** The raw Philox words as uint32: element e is word e % 4 of block `offset + e / 4`. */
export function randomBits(shape: Shape, options: Omit<RandomOptions, 'dtype'> = {}): Tensor {
  return randomFill({
    mode: 'bits',
    shape,
    dtype: 'uint32',
    generator: options.generator ?? defaultGenerator(),
  });
}

/**
 * 1 with probability p, else 0, like `torch.bernoulli`. `probs` is a tensor of probabilities (the result has
 * its shape and dtype) or one probability for a tensor of `options.shape`.
 */
export function bernoulli(probs: Tensor | number, options: RandomOptions & { shape?: Shape } = {}): Tensor {
  const generator = options.generator ?? defaultGenerator();
  if (typeof probs === 'number') {
    if (!options.shape) throw new TypeError('bernoulli: a scalar probability needs options.shape');
    return bernoulliScaled(options.shape, probs, 1, {
      generator,
      dtype: floatDtype('bernoulli', options.dtype),
    });
  }
  if (!isFloat(probs.dtype)) throw new TypeError(`bernoulli: probabilities ${probs} must be floating`);
  const p = probs.isContiguous() ? probs : contiguous(probs);
  const out = randomFill({
    mode: 'bernoulliTensor',
    shape: probs.shape,
    dtype: options.dtype ? floatDtype('bernoulli', options.dtype) : probs.dtype,
    generator,
    probs: p,
  });
  if (p !== probs) p.dispose();
  return out;
}

/** `value` with probability p, else 0: the mask of dropout and drop-path, scale included. */
export function bernoulliScaled(shape: Shape, p: number, value: number, options: RandomOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli: probability ${p} is outside [0, 1]`);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`bernoulli: invalid shape ${formatShape(shape)}`);
  }
  return randomFill({
    mode: 'bernoulli',
    shape,
    dtype: floatDtype('bernoulli', options.dtype),
    generator: options.generator ?? defaultGenerator(),
    scalars: [{ f: p }, { f: value }],
  });
}
