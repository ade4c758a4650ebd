import { type Generator, rand, type Tensor, tensor, tidy } from '@nephron/tensor';

/**
 * Parameter initialisers, as `torch.nn.init`. Values come from the tensor engine's counter-based generator
 * (`manualSeed` from @nephron/tensor seeds it), so the same seed builds the same model on every device.
 * `fan_in`/`fan_out` follow PyTorch: for a weight [out, in, ...kernel], fan_in = in·∏kernel.
 */

export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new RangeError(`fan in/out need a tensor of rank >= 2, got shape [${shape}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export type Nonlinearity = 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
  }
}

/** U(lo, hi) samples, as `torch.nn.init.uniform_`. */
export function uniformTensor(
  shape: readonly number[],
  lo: number,
  hi: number,
  generator?: Generator,
): Tensor {
  return tidy(() =>
    rand(shape, { generator })
      .mul(hi - lo)
      .add(lo),
  );
}

export function fullTensor(shape: readonly number[], value: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(new Float32Array(n).fill(value), shape);
}

export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (PyTorch's layers use a = √5). */
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

/** Values from U(-b, b) with b = gain·√(3 / fan), as `kaiming_uniform_`. */
export function kaimingUniform(shape: readonly number[], options: KaimingOptions = {}): Tensor {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu', generator } = options;
  const { fanIn, fanOut } = fans(shape);
  const gain = calculateGain(nonlinearity, a);
  const bound = gain * Math.sqrt(3 / (mode === 'fan_in' ? fanIn : fanOut));
  return uniformTensor(shape, -bound, bound, generator);
}

/** Values from U(-b, b) with b = gain·√(6 / (fan_in + fan_out)), as `xavier_uniform_`. */
export function xavierUniform(shape: readonly number[], gain = 1, generator?: Generator): Tensor {
  const { fanIn, fanOut } = fans(shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniformTensor(shape, -bound, bound, generator);
}

/**
 * PyTorch's default for conv and linear layers: weight kaiming_uniform(a=√5), i.e. U(±1/√fan_in), and bias
 * U(±1/√fan_in).
 */
export function defaultWeight(shape: readonly number[], generator?: Generator): Tensor {
  return kaimingUniform(shape, { a: Math.sqrt(5), generator });
}

export function defaultBias(weightShape: readonly number[], generator?: Generator): Tensor {
  const { fanIn } = fans(weightShape);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniformTensor([weightShape[0]], -bound, bound, generator);
}
