import { isFloat } from '../../dtype.js';
import { normalizeDim, normalizeDims } from '../../shape.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { gatherBackward } from '../index/gather.js';
import { applyKeepdim } from './keepdim.js';
import { reduce } from './reduce.js';
import type { Accumulator } from './reduce-kernel.js';

export interface ValuesIndices {
  values: Tensor;
  /** int32 positions along the reduced dim (the first one on ties, as PyTorch). */
  indices: Tensor;
}

function accFor(x: Tensor): Accumulator {
  return isFloat(x.dtype) ? 'f32' : x.dtype === 'int32' ? 'i32' : 'u32';
}

/** Values and first indices of the max or min over `dims`, shaped as the kept dims. */
function extremeRun(x: Tensor, dims: readonly number[], kind: 'max' | 'min', what: string) {
  if (dims.some((d) => x.shape[d] === 0)) {
    throw new RangeError(`${what} of ${x}: cannot reduce an empty dim (there is no identity)`);
  }
  const [values, indices] = reduce({
    name: kind,
    monoid: kind,
    acc: accFor(x),
    inputs: [x],
    dims,
    outputs: [
      { dtype: x.dtype === 'bool' ? 'bool' : x.dtype, expr: 's.v' },
      { dtype: 'int32', expr: 'i32(s.i)' },
    ],
  });
  return { values, indices };
}

function extremeAlongDim(x: Tensor, dim: number, keepdim: boolean, kind: 'max' | 'min'): ValuesIndices {
  const d = normalizeDim(dim, x.ndim, x.toString());
  const dims = x.ndim === 0 ? [] : [d];
  const run = extremeRun(x, dims, kind, kind);
  const values = applyKeepdim(run.values, x.shape, dims, keepdim);
  const indices = applyKeepdim(run.indices, x.shape, dims, keepdim);
  const shape = x.shape;
  recordOp(
    kind,
    values,
    [x],
    (g, [idx]) => {
      if (dims.length === 0) return [g.retain()];
      // The gradient goes to the chosen element: a gather's backward with the indices as the index tensor.
      const kshape = shape.map((s, i) => (i === d ? 1 : s));
      const gk = g.asView(kshape, keepStrides(g, shape, d), g.offset);
      const ik = idx.asView(kshape, keepStrides(idx, shape, d), idx.offset);
      const gx = gatherBackward(gk, d, ik, shape);
      gk.dispose();
      ik.dispose();
      return [gx];
    },
    [indices],
  );
  return { values, indices };
}

/** Strides of a reduced tensor (with or without keepdim) viewed with a size-1 dim at `d`. */
function keepStrides(t: Tensor, shape: readonly number[], d: number): number[] {
  if (t.ndim === shape.length) return [...t.strides];
  const strides = [...t.strides];
  strides.splice(d, 0, 0);
  return strides;
}

/**
 * The maximum of all elements, or `{values, indices}` along `dim`, like `torch.max`. Over all elements the
 * gradient is shared evenly between tied maxima (as PyTorch does); along a dim it goes to the first one.
 */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? extremeAll(x, 'max') : extremeAlongDim(x, dim, keepdim, 'max');
}

/** The minimum of all elements, or `{values, indices}` along `dim`, like `torch.min`. */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? extremeAll(x, 'min') : extremeAlongDim(x, dim, keepdim, 'min');
}

function extremeAll(x: Tensor, kind: 'max' | 'min'): Tensor {
  const dims = normalizeDims(undefined, x.ndim);
  const { values, indices } = extremeRun(x, dims, kind, kind);
  indices.dispose();
  return recordOp(
    kind,
    values,
    [x],
    (g, [sx, v]) => {
      // Ties share the gradient: g / count at every element equal to the extreme.
      const hit = map([sx, v], {
        name: `${kind}_ties`,
        expr: 'select(0.0, 1.0, a0 == a1)',
        outDtype: 'float32',
      });
      const count = reduce({
        name: 'count',
        monoid: 'sum',
        inputs: [hit],
        dims,
        outputs: [{ dtype: 'float32', expr: 's.v' }],
      })[0];
      const gx = map([hit, g, count], { name: `${kind}_backward`, expr: 'a0 * a1 / a2', outDtype: g.dtype });
      hit.dispose();
      count.dispose();
      return [gx];
    },
    [x, values],
  );
}

function argExtreme(x: Tensor, dim: number | undefined, keepdim: boolean, kind: 'max' | 'min'): Tensor {
  const dims =
    dim === undefined ? normalizeDims(undefined, x.ndim) : [normalizeDim(dim, x.ndim, x.toString())];
  const { values, indices } = extremeRun(x, x.ndim === 0 ? [] : dims, kind, `arg${kind}`);
  values.dispose();
  // Without a dim, PyTorch's keepdim gives a tensor of x's rank with every dim 1.
  return applyKeepdim(indices, x.shape, dims, keepdim);
}

/** Index of the maximum (flat over all elements when `dim` is omitted), int32, like `torch.argmax`. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme(x, dim, keepdim, 'max');
}

/** Index of the minimum, like `torch.argmin`. */
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme(x, dim, keepdim, 'min');
}
