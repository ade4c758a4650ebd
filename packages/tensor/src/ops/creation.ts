import type { DType, TensorData } from '../dtype.js';
import { WGSL_TYPE } from '../dtype.js';
import type { Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { map } from './elementwise/map.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** Uploads data as a tensor, like `torch.tensor`. */
export function tensor(data: TensorData, shape?: Shape, options: TensorOptions = {}): Tensor {
  const t = Tensor.fromData(data, shape, options.dtype);
  if (options.requiresGrad) t.requiresGrad_();
  return t;
}

function fillInto(t: Tensor, value: number): Tensor {
  const type = WGSL_TYPE[t.dtype];
  const word =
    t.dtype === 'float32' || t.dtype === 'float16'
      ? { f: value }
      : t.dtype === 'int32'
        ? { i: value }
        : value;
  const read = type === 'f32' || type === 'f16' ? 'uf(S+0u)' : type === 'i32' ? 'usi(S+0u)' : 'ui(S+0u)';
  // A fill has no operands; the output itself stands in as operand 0 of an in-place map.
  return map([t], { name: 'fill', expr: read, outDtype: t.dtype, out: t, scalars: [word] });
}

export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  const t = fillInto(Tensor.empty(shape, options.dtype ?? 'float32'), value);
  if (options.requiresGrad) t.requiresGrad_();
  return t;
}

export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

export function empty(shape: Shape, options: TensorOptions = {}): Tensor {
  return Tensor.empty(shape, options.dtype ?? 'float32');
}

export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, ...options });
}

export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, ...options });
}

export function fullLike(t: Tensor, value: number, options: TensorOptions = {}): Tensor {
  return full(t.shape, value, { dtype: t.dtype, ...options });
}

/** Fills a tensor in place (not recorded by autograd). */
export function fill_(t: Tensor, value: number): Tensor {
  return fillInto(t, value);
}

/** `[start, end)` in steps, like `torch.arange`. */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const dtype = options.dtype ?? (Number.isInteger(lo) && Number.isInteger(step) ? 'int32' : 'float32');
  const data = Array.from({ length: n }, (_, i) => lo + i * step);
  return tensor(data, [n], { ...options, dtype });
}
