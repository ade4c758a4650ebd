import { contiguousStrides, formatShape, normalizeDim, numel, type Shape } from '../shape.js';
import { recordOp, type Tensor } from '../tensor.js';
import { zeros } from './creation.js';
import { map } from './elementwise/map.js';
import { sumTo } from './reduce/sum.js';

/** A contiguous copy (always a new tensor), recorded by autograd as identity. */
export function clone(x: Tensor): Tensor {
  const out = map([x], { name: 'copy', expr: 'a0', outDtype: x.dtype, loadTypes: [wgslLoad(x)] });
  return recordOp('clone', out, [x], (g) => [g.retain()]);
}

function wgslLoad(x: Tensor): string {
  return x.dtype === 'float16' ? 'f16' : x.dtype === 'float32' ? 'f32' : x.dtype === 'int32' ? 'i32' : 'u32';
}

/** This tensor if already contiguous (a new handle), else a contiguous copy. */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return alias(x);
  return clone(x);
}

/** A new handle on the same view, recorded as identity so gradients flow through it. */
function alias(x: Tensor): Tensor {
  const out = x.asView(x.shape, x.strides, x.offset);
  return recordOp('alias', out, [x], (g) => [g.retain()]);
}

/** Strides for `shape` over the same elements as `x`, or null when a copy is needed (as `torch.view` decides). */
function viewStrides(x: Tensor, shape: Shape): number[] | null {
  if (x.isContiguous()) return contiguousStrides(shape);
  const oldShape = x.ndim ? x.shape : [1];
  const oldStrides = x.ndim ? x.strides : [1];
  const strides = new Array<number>(shape.length).fill(1);
  // Walk old dims from the back in chunks that are mutually contiguous; each chunk must be exactly covered by
  // consecutive new dims, which then inherit strides from the chunk's innermost stride.
  let viewDim = shape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d];
    const chunkEnds = d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase);
    if (!chunkEnds) continue;
    while (viewDim >= 0 && (viewNumel < tensorNumel || shape[viewDim] === 1)) {
      strides[viewDim] = viewNumel * chunkBase;
      viewNumel *= shape[viewDim];
      viewDim--;
    }
    if (viewNumel !== tensorNumel) return null;
    if (d > 0) {
      chunkBase = oldStrides[d - 1];
      tensorNumel = 1;
      viewNumel = 1;
    }
  }
  return viewDim === -1 ? strides : null;
}

function resolveShape(x: Tensor, shape: readonly number[]): number[] {
  const n = x.numel();
  const unknown = shape.indexOf(-1);
  const known = numel(shape.filter((_, i) => i !== unknown));
  const out = [...shape];
  if (unknown >= 0) {
    if (known === 0 || n % known !== 0)
      throw new RangeError(`cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
    out[unknown] = n / known;
  }
  if (numel(out) !== n)
    throw new RangeError(`cannot reshape ${formatShape(x.shape)} (${n} elements) to ${formatShape(shape)}`);
  return out;
}

/** A view with a new shape; throws if the strides do not allow one (use `reshape`). */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape(x, shape);
  const strides = viewStrides(x, target);
  if (!strides)
    throw new Error(`view of ${x} as ${formatShape(target)} is impossible without a copy; use reshape()`);
  const original = x.shape;
  const out = x.asView(target, strides, x.offset);
  return recordOp('view', out, [x], (g) => [reshape(g, original)]);
}

/** A view when strides allow, else a contiguous copy, like `torch.reshape`. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape(x, shape);
  if (viewStrides(x, target)) return view(x, target);
  const c = clone(x);
  const out = view(c, target);
  c.dispose();
  return out;
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim(startDim, x.ndim);
  const e = normalizeDim(endDim, x.ndim);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) throw new RangeError(`permute of ${x} needs ${x.ndim} dims, got [${dims}]`);
  const d = dims.map((v) => normalizeDim(v, x.ndim));
  if (new Set(d).size !== d.length) throw new RangeError(`permute dims [${dims}] repeat a dim`);
  const out = x.asView(
    d.map((i) => x.shape[i]),
    d.map((i) => x.strides[i]),
    x.offset,
  );
  const inverse = new Array<number>(d.length);
  d.forEach((v, i) => {
    inverse[v] = i;
  });
  return recordOp('permute', out, [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, dim0 = 0, dim1 = 1): Tensor {
  const dims = Array.from({ length: x.ndim }, (_, i) => i);
  const a = normalizeDim(dim0, x.ndim);
  const b = normalizeDim(dim1, x.ndim);
  [dims[a], dims[b]] = [dims[b], dims[a]];
  return permute(x, dims);
}

/** Elements `start .. start+length-1` along `dim`, as a view. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeDim(dim, x.ndim);
  const s = start < 0 ? start + x.shape[d] : start;
  if (s < 0 || length < 0 || s + length > x.shape[d]) {
    throw new RangeError(
      `narrow(${dim}, ${start}, ${length}) is out of range for ${x} of shape ${formatShape(x.shape)}`,
    );
  }
  const shape = [...x.shape];
  shape[d] = length;
  const out = x.asView(shape, x.strides, x.offset + s * x.strides[d]);
  const full = x.shape;
  return recordOp('narrow', out, [x], (g) => {
    const gx = zeros(full, { dtype: g.dtype });
    const window = gx.asView(g.shape, gx.strides, s * gx.strides[d]);
    map([g], { name: 'copy', expr: 'a0', outDtype: g.dtype, out: window });
    window.dispose();
    return [gx];
  });
}

/** Python-style slice along one dim (step 1), `end` exclusive; negative indices count from the end. */
export function slice(x: Tensor, dim: number, start = 0, end?: number): Tensor {
  const d = normalizeDim(dim, x.ndim);
  const size = x.shape[d];
  const clampIndex = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
  const s = clampIndex(start);
  const e = clampIndex(end ?? size);
  return narrow(x, d, s, Math.max(0, e - s));
}

/** Broadcasts size-1 dims (and new leading dims) to `shape` without copying; -1 keeps a dim. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.ndim) throw new RangeError(`expand of ${x} to ${formatShape(shape)} drops dims`);
  const lead = shape.length - x.ndim;
  const target = shape.map((s, i) => (s === -1 ? x.shape[i - lead] : s));
  const strides = target.map((s, i) => {
    if (i < lead) return 0;
    const own = x.shape[i - lead];
    if (own === s) return x.strides[i - lead];
    if (own === 1) return 0;
    throw new RangeError(`cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}`);
  });
  const original = x.shape;
  const out = x.asView(target, strides, x.offset);
  return recordOp('expand', out, [x], (g) => [sumTo(g, original)]);
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  const keep = x.shape.map((s, i) =>
    dim === undefined ? s !== 1 : i !== normalizeDim(dim, x.ndim) || s !== 1,
  );
  const out = x.asView(
    x.shape.filter((_, i) => keep[i]),
    x.strides.filter((_, i) => keep[i]),
    x.offset,
  );
  const original = x.shape;
  return recordOp('squeeze', out, [x], (g) => [reshape(g, original)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = dim < 0 ? dim + x.ndim + 1 : dim;
  if (d < 0 || d > x.ndim) throw new RangeError(`unsqueeze(${dim}) is out of range for ${x}`);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  const original = x.shape;
  const out = x.asView(shape, strides, x.offset);
  return recordOp('unsqueeze', out, [x], (g) => [reshape(g, original)]);
}

/** Reverses the order of elements along `dims`, like `torch.flip` (a copy: PyTorch's flip copies too). */
export function flip(x: Tensor, dims: readonly number[]): Tensor {
  const ds = dims.map((d) => normalizeDim(d, x.ndim));
  let offset = x.offset;
  const strides = [...x.strides];
  for (const d of ds) {
    if (x.shape[d] === 0) continue;
    offset += (x.shape[d] - 1) * x.strides[d];
    strides[d] = -x.strides[d];
  }
  // A negative stride reads backwards; the kernels' u32 index arithmetic wraps, so it just works.
  const reversed = x.asView(x.shape, strides, offset);
  const out = map([reversed], { name: 'copy', expr: 'a0', outDtype: x.dtype, loadTypes: [wgslLoad(x)] });
  reversed.dispose();
  return recordOp('flip', out, [x], (g) => [flip(g, ds)]);
}
