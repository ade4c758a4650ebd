import { type DType, isFloat } from '../../dtype.js';
import { contiguousStrides, formatShape, normalizeDims, type Shape } from '../../shape.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { applyKeepdim, broadcastBack } from './keepdim.js';
import { reduce } from './reduce.js';
import type { Accumulator } from './reduce-kernel.js';

/** PyTorch's sum dtypes: floats keep theirs, bool and int32 sum as int32, uint32 as uint32. */
function sumTypes(dtype: DType): { acc: Accumulator; out: DType } {
  if (isFloat(dtype)) return { acc: 'f32', out: dtype };
  if (dtype === 'uint32') return { acc: 'u32', out: 'uint32' };
  return { acc: 'i32', out: 'int32' };
}

/** The raw reduction (no autograd): `x` summed over `dims`, shaped as the kept dims, times `scale`. */
function sumRun(x: Tensor, dims: readonly number[], scale = 1): Tensor {
  const { acc, out } = sumTypes(x.dtype);
  const expr = scale === 1 ? 's.v' : 's.v * uf(4u)';
  return reduce({
    name: 'sum',
    monoid: 'sum',
    acc,
    inputs: [x],
    dims,
    outputs: [{ dtype: out, expr }],
    scale,
  })[0];
}

/** Sum over `dim` (all dims when omitted), like `torch.sum`. */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = normalizeDims(dim, x.ndim, x.toString());
  const out = applyKeepdim(sumRun(x, dims), x.shape, dims, keepdim);
  const inputShape = x.shape;
  return recordOp('sum', out, [x], (g) => [broadcastBack(g, inputShape, dims)]);
}

/** Mean over `dim` (all dims when omitted), like `torch.mean`; floating tensors only. */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  if (!isFloat(x.dtype)) throw new TypeError(`mean needs a floating tensor, got ${x}`);
  const dims = normalizeDims(dim, x.ndim, x.toString());
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const out = applyKeepdim(sumRun(x, dims, 1 / n), x.shape, dims, keepdim);
  const inputShape = x.shape;
  return recordOp('mean', out, [x], (g) => {
    // Scale the small gradient, then broadcast it as a view.
    const scaled = map([g], {
      name: 'mean_backward',
      expr: 'a0 * uf(S+0u)',
      outDtype: g.dtype,
      scalars: [{ f: 1 / n }],
    });
    const gx = broadcastBack(scaled, inputShape, dims);
    scaled.dispose();
    return [gx];
  });
}

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting). Returns a new handle. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.ndim === shape.length && g.shape.every((d, i) => d === shape[i]))
    return g.asView(g.shape, g.strides, g.offset);
  if (shape.length > g.ndim)
    throw new RangeError(`cannot sum ${formatShape(g.shape)} to ${formatShape(shape)}`);
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead) dims.push(i);
    else if (shape[i - lead] !== g.shape[i]) {
      if (shape[i - lead] !== 1)
        throw new RangeError(`cannot sum ${formatShape(g.shape)} to ${formatShape(shape)}`);
      dims.push(i);
    }
  }
  const reduced = sumRun(g, dims);
  const out = reduced.asView(shape, contiguousStrides(shape), 0);
  reduced.dispose();
  return out;
}
