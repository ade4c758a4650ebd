import { WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { formatShape, normalizeDims, numel, type Shape } from '../../shape.js';
import { recordOp, Tensor } from '../../tensor.js';
import { MAX_RANK } from '../elementwise/map-kernel.js';

const WG = 64;

/** Sum over the dims in the uniforms' "reduced" list; one thread per output element. */
function sumKernel(inType: string, outType: string): Kernel {
  const f16 = inType === 'f16' || outType === 'f16' ? 'enable f16;\n' : '';
  const acc = outType === 'f16' ? 'f32' : outType;
  return {
    name: 'sum',
    bindings: ['read', 'read_write'],
    workgroupSize: WG,
    code: `${f16}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
@group(0) @binding(1) var<storage, read> x: array<${inType}>;
@group(0) @binding(2) var<storage, read_write> out: array<${outType}>;
// words: 0 nOut, 1 nRed, 2 offset, 3..8 kept shape, 9..14 kept strides, 15..20 reduced shape, 21..26 reduced strides
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = linearIndex(gid, nwg, ${WG}u);
  if (o >= ui(0u)) { return; }
  var rem = o;
  var base = ui(2u);
  for (var dd = 0u; dd < ${MAX_RANK}u; dd++) {
    let d = ${MAX_RANK - 1}u - dd;
    let s = ui(3u + d);
    base += (rem % s) * ui(9u + d);
    rem = rem / s;
  }
  var total = ${acc}(0);
  for (var r = 0u; r < ui(1u); r++) {
    var rr = r;
    var at = base;
    for (var dd = 0u; dd < ${MAX_RANK}u; dd++) {
      let d = ${MAX_RANK - 1}u - dd;
      let s = ui(15u + d);
      at += (rr % s) * ui(21u + d);
      rr = rr / s;
    }
    total += ${acc}(x[at]);
  }
  out[o] = ${outType}(total);
}`,
  };
}

const kernels = new Map<string, Kernel>();

function padFront(values: readonly number[], fill: number): number[] {
  return [...new Array<number>(MAX_RANK - values.length).fill(fill), ...values];
}

/** The raw kernel launch: sums `x` over `dims`, returning a tensor of the kept dims (keepdim = false). */
export function sumKernelRun(x: Tensor, dims: readonly number[]): Tensor {
  const keptDims = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const outShape = keptDims.map((i) => x.shape[i]);
  const outDtype = x.dtype === 'bool' ? 'int32' : x.dtype;
  const out = Tensor.empty(outShape, outDtype);
  const nOut = numel(outShape);
  if (nOut === 0) return out;
  const key = `${x.dtype}->${outDtype}`;
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = sumKernel(WGSL_TYPE[x.dtype], WGSL_TYPE[outDtype]);
    kernels.set(key, kernel);
  }
  const engine = getEngine();
  engine.dispatch(
    kernel,
    [x.storage.buffer, out.storage.buffer],
    [
      nOut,
      numel(dims.map((i) => x.shape[i])),
      x.offset,
      ...padFront(outShape, 1),
      ...padFront(
        keptDims.map((i) => x.strides[i]),
        0,
      ),
      ...padFront(
        dims.map((i) => x.shape[i]),
        1,
      ),
      ...padFront(
        dims.map((i) => x.strides[i]),
        0,
      ),
    ],
    engine.grid(nOut, WG),
  );
  return out;
}

function keepShape(shape: Shape, dims: readonly number[]): number[] {
  return shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

/** Sum over `dim` (all dims when omitted), like `torch.sum`. */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = normalizeDims(dim, x.ndim, x.toString());
  const reduced = sumKernelRun(x, dims);
  const out = keepdim ? reduced.asView(keepShape(x.shape, dims), keepStrides(x.shape, dims), 0) : reduced;
  if (out !== reduced) reduced.dispose();
  const inputShape = x.shape;
  return recordOp('sum', out, [x], (g) => {
    const gk = g.asView(keepShape(inputShape, dims), keepStrides(inputShape, dims), g.offset);
    const expanded = gk.asView(
      inputShape,
      inputShape.map((s, i) => (dims.includes(i) ? 0 : gk.strides[i])),
      gk.offset,
    );
    gk.dispose();
    return [expanded];
  });
}

function keepStrides(shape: Shape, dims: readonly number[]): number[] {
  const kept = keepShape(shape, dims);
  const strides = new Array<number>(kept.length);
  let s = 1;
  for (let i = kept.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= kept[i];
  }
  return strides;
}

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting). Returns a new handle. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.ndim === shape.length && g.shape.every((d, i) => d === shape[i]))
    return g.asView(g.shape, g.strides, g.offset);
  if (shape.length > g.ndim)
    throw new RangeError(`cannot sum ${formatShape(g.shape)} to ${formatShape(shape)}`);
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  const reduced = sumKernelRun(g, dims);
  const out = reduced.asView(shape, keepStrides(shape, []), 0);
  reduced.dispose();
  return out;
}
