import { WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { type Kernel, kernelCache, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { formatShape, normalizeDim, numel, type Shape } from '../../shape.js';
import { recordOp, Tensor } from '../../tensor.js';
import { fitsWhole } from '../elementwise/binding-range.js';
import { MAX_RANK } from '../elementwise/map-kernel.js';
import { forEachSlab, planSlabs, slabWindow } from '../elementwise/slabs.js';
import { cast } from '../elementwise/where.js';

const WG = 256;

function pad(values: readonly number[], fill: number): number[] {
  return [...new Array<number>(MAX_RANK - values.length).fill(fill), ...values];
}

/** Decomposes flat index `i` over the padded shape at word `shapeAt` into `coord` (an array of MAX_RANK). */
const COORDS_WGSL = /* wgsl */ `
fn coordsOf(i: u32, shapeAt: u32) -> array<u32, ${MAX_RANK}> {
  var c: array<u32, ${MAX_RANK}>;
  var rem = i;
  for (var dd = 0u; dd < ${MAX_RANK}u; dd++) {
    let d = ${MAX_RANK - 1}u - dd;
    c[d] = rem % ui(shapeAt + d);
    rem = rem / ui(shapeAt + d);
  }
  return c;
}`;

// words: 0 n, 1 dim, 2.. index shape, 8.. x strides, 14 x offset, 15.. index strides, 21 index offset,
// 32 size of the gathered dim, 33.. out strides, 39 out offset
function gatherKernel(type: string): Kernel {
  return {
    name: 'gather',
    bindings: ['read', 'read', 'read_write'],
    code: `${type === 'f16' ? 'enable f16;\n' : ''}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${COORDS_WGSL}
@group(0) @binding(1) var<storage, read> x: array<${type}>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<${type}>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${WG}u);
  if (i >= ui(0u)) { return; }
  let c = coordsOf(i, 2u);
  var xAt = ui(14u);
  var iAt = ui(21u);
  var oAt = ui(39u);
  for (var d = 0u; d < ${MAX_RANK}u; d++) {
    iAt += c[d] * ui(15u + d);
    oAt += c[d] * ui(33u + d);
  }
  // Out-of-range indices cannot be reported from a kernel; they are clamped rather than read out of bounds.
  let j = u32(clamp(index[iAt], 0, i32(ui(32u)) - 1));
  for (var d = 0u; d < ${MAX_RANK}u; d++) { xAt += select(c[d], j, d == ui(1u)) * ui(8u + d); }
  out[oAt] = x[xAt];
}`,
  };
}

// words: 0 n, 1 dim, 2.. x shape, 8.. index shape, 14.. index strides, 20 index offset, 21.. g strides, 27 g offset,
// 28.. gx strides, 34 gx offset
function scatterBackKernel(): Kernel {
  return {
    name: 'gather_backward',
    bindings: ['read', 'read', 'read_write'],
    code: `${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${COORDS_WGSL}
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${WG}u);
  if (i >= ui(0u)) { return; }
  let c = coordsOf(i, 2u);
  let dim = ui(1u);
  var xAt = ui(34u);
  for (var d = 0u; d < ${MAX_RANK}u; d++) { xAt += c[d] * ui(28u + d); }
  // Every index position along dim that points at this element contributes; a loop, not atomics, so the
  // sum is deterministic.
  var iAt = ui(20u);
  var gAt = ui(27u);
  for (var d = 0u; d < ${MAX_RANK}u; d++) {
    if (d != dim) {
      if (c[d] >= ui(8u + d)) { gx[xAt] = 0.0; return; }
      iAt += c[d] * ui(14u + d);
      gAt += c[d] * ui(21u + d);
    }
  }
  var total = 0.0;
  for (var k = 0u; k < ui(8u + dim); k++) {
    if (index[iAt + k * ui(14u + dim)] == i32(c[dim])) { total += g[gAt + k * ui(21u + dim)]; }
  }
  gx[xAt] = total;
}`,
  };
}

const cached = kernelCache();

function checkIndex(x: Tensor, dim: number, index: Tensor, what: string): void {
  if (index.dtype !== 'int32')
    throw new TypeError(`${what}: index ${index} must be int32, got ${index.dtype}`);
  if (index.ndim !== x.ndim)
    throw new RangeError(
      `${what}: index ${formatShape(index.shape)} and input ${formatShape(x.shape)} differ in rank`,
    );
  if (x.ndim > MAX_RANK) throw new RangeError(`${what}: tensors of rank > ${MAX_RANK} are not supported`);
  for (let d = 0; d < x.ndim; d++) {
    if (d !== dim && index.shape[d] > x.shape[d]) {
      throw new RangeError(
        `${what}: index ${formatShape(index.shape)} is larger than input ${formatShape(x.shape)} in dim ${d}`,
      );
    }
  }
}

/**
 * The dim a gather along `dim` is cut along when its tensors are larger than one binding: the outermost other
 * dim of more than one entry (items along it are independent). Any dim serves when everything fits whole.
 */
function slabDim(op: string, tensors: readonly Tensor[], x: Tensor, dim: number, sizes: Shape): number {
  if (tensors.every((t) => fitsWhole(getEngine(), t.storage.buffer))) return 0;
  const d = sizes.findIndex((size, i) => i !== dim && size > 1);
  if (d >= 0) return d;
  if (x.ndim > 1) return dim === 0 ? 1 : 0;
  throw new RangeError(
    `${op}: ${x} is larger than the maxStorageBufferBindingSize and has no dim besides the gathered one to cut`,
  );
}

/**
 * The gradient of a gather: for every element of an input of `shape`, the sum of `g` over the index positions
 * that picked it. Also the backward of max/min over a dim.
 */
export function gatherBackward(g: Tensor, dim: number, index: Tensor, shape: Shape): Tensor {
  const gx = Tensor.empty(shape, 'float32');
  const gf = g.dtype === 'float32' ? g : cast(g, 'float32');
  const engine = getEngine();
  const padDim = dim + MAX_RANK - shape.length;
  const kernel = cached('back', scatterBackKernel);
  // Cut along a dim other than `dim`: each slab of gx reads the index and g entries of the same slab, and
  // entries of gx past the index's extent (where index is smaller than the input) get zeros.
  const s = slabDim('gather backward', [gx, index, gf], gx, dim, shape);
  const plan = planSlabs(
    'gather backward',
    [
      [gx, 'input gradient'],
      [index, 'index'],
      [gf, 'gradient'],
    ],
    s,
    'entry',
  );
  forEachSlab(plan, (first, count) => {
    const slabShape = shape.map((n, i) => (i === s ? count : n));
    // Index entries of this slab: none where the slab lies past the index's extent (the kernel then reads
    // nothing, but still needs a binding). Uncut, all of them: `s` may then be the gathered dim itself, along
    // which the index may be longer than the input.
    const indexed = plan.whole ? index.shape[s] : Math.max(0, Math.min(count, index.shape[s] - first));
    const reads = indexed > 0 ? ([first, indexed] as const) : ([0, 1] as const);
    const vi = slabWindow(plan, index, ...reads);
    const vg = slabWindow(plan, gf, ...reads);
    const vx = slabWindow(plan, gx, first, count);
    const n = numel(slabShape);
    engine.dispatch(
      kernel,
      [vg.binding, vi.binding, vx.binding],
      [
        n,
        padDim,
        ...pad(slabShape, 1),
        ...pad(
          index.shape.map((m, i) => (i === s ? indexed : m)),
          1,
        ),
        ...pad(index.strides, 0),
        vi.offset,
        ...pad(gf.strides, 0),
        vg.offset,
        ...pad(gx.strides, 0),
        vx.offset,
      ],
      engine.grid(n, WG),
    );
  });
  if (gf !== g) gf.dispose();
  if (g.dtype === 'float32') return gx;
  const back = cast(gx, g.dtype);
  gx.dispose();
  return back;
}

/** `out[i][j][k] = x[i][index[i][j][k]][k]` for dim 1, like `torch.gather`; index is int32 of x's rank. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeDim(dim, x.ndim, x.toString());
  checkIndex(x, d, index, 'gather');
  const out = Tensor.empty(index.shape, x.dtype);
  const engine = getEngine();
  const type = WGSL_TYPE[x.dtype];
  const kernel = cached(`gather:${type}`, () => gatherKernel(type));
  const s = slabDim('gather', [x, index, out], x, d, index.shape);
  const plan = planSlabs(
    'gather',
    [
      [index, 'index'],
      [x, 'input'],
      [out, 'output'],
    ],
    s,
    'entry',
  );
  forEachSlab(plan, (first, count) => {
    const slabShape = index.shape.map((m, i) => (i === s ? count : m));
    const [vi, vx, vo] = [index, x, out].map((t) => slabWindow(plan, t, first, count));
    const n = numel(slabShape);
    const uniforms = [
      n,
      d + MAX_RANK - x.ndim,
      ...pad(slabShape, 1),
      ...pad(x.strides, 0),
      vx.offset,
      ...pad(index.strides, 0),
      vi.offset,
    ];
    while (uniforms.length < 32) uniforms.push(0);
    uniforms.push(x.shape[d], ...pad(out.strides, 0), vo.offset);
    engine.dispatch(kernel, [vx.binding, vi.binding, vo.binding], uniforms, engine.grid(n, WG));
  });
  const shape = x.shape;
  return recordOp('gather', out, [x], (g, [idx]) => [gatherBackward(g, d, idx, shape)], [index]);
}
