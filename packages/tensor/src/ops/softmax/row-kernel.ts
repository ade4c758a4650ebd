import { WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL, type UniformValue } from '../../engine/kernel.js';
import { normalizeDim, numel } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import { fitsWhole } from '../elementwise/binding-range.js';
import { MAX_RANK } from '../elementwise/map-kernel.js';
import { forEachSlab, planSlabs, type SlabPlan, slabWindow } from '../elementwise/slabs.js';

/**
 * Fused per-row kernels: a statistic over each row along one dim, then every element of the row written from
 * it, with one launch. A row is everything that shares the other coordinates, so rows along dim 1 of an NCHW
 * tensor are the per-pixel class vectors. Inputs may be any strided views; the output is contiguous.
 *
 * Statistics: `lse` keeps a running maximum `m` and the sum `s` of exp(v − m) (online softmax: one read for
 * both, and no overflow for large logits); `sum` adds up a value expression into `t`.
 */
export interface RowSpec {
  name: string;
  stat: 'lse' | 'sum';
  /** Value the statistic folds, over a0, a1, ... (f32). */
  value: string;
  /** Each output element, over a0, a1, ... and the statistic (m and s, or t). */
  write: string;
  inputTypes: readonly string[];
  outType: string;
  layout: 'thread' | 'group';
}

const WG = 256;
const KEPT = MAX_RANK - 1;

// Words: 0 rows, 1 row length, 2..6 kept shape, then per tensor (inputs, then out): offset, 5 kept strides, row stride.
const tensorWord = (k: number) => 2 + KEPT + k * (KEPT + 2);

function statWgsl(stat: RowSpec['stat']): string {
  if (stat === 'lse') {
    return `struct Stat { m: f32, s: f32 }
fn statIdentity() -> Stat { return Stat(bitcast<f32>(0xff7fffffu), 0.0); }
fn statAdd(a: Stat, v: f32) -> Stat {
  if (v > a.m) { return Stat(v, a.s * exp(a.m - v) + 1.0); }
  return Stat(a.m, a.s + exp(v - a.m));
}
fn statCombine(a: Stat, b: Stat) -> Stat {
  let m = max(a.m, b.m);
  return Stat(m, a.s * exp(a.m - m) + b.s * exp(b.m - m));
}`;
  }
  return `struct Stat { t: f32 }
fn statIdentity() -> Stat { return Stat(0.0); }
fn statAdd(a: Stat, v: f32) -> Stat { return Stat(a.t + v); }
fn statCombine(a: Stat, b: Stat) -> Stat { return Stat(a.t + b.t); }`;
}

export function buildRowKernel(spec: RowSpec): Kernel {
  const n = spec.inputTypes.length;
  const decls = spec.inputTypes
    .map((t, k) => `@group(0) @binding(${k + 1}) var<storage, read> in${k}: array<${t}>;`)
    .join('\n');
  const bases = [...spec.inputTypes.map((_, k) => `b${k}`), 'bo'];
  const baseCode = bases
    .map((b, k) => {
      const at = tensorWord(k);
      return `  var ${b} = ui(${at}u);
  { var rem = row;
    for (var dd = 0u; dd < ${KEPT}u; dd++) {
      let d = ${KEPT - 1}u - dd;
      ${b} += (rem % ui(${2}u + d)) * ui(${at + 1}u + d);
      rem = rem / ui(${2}u + d);
    } }`;
    })
    .join('\n');
  const rowStride = (k: number) => `ui(${tensorWord(k) + 1 + KEPT}u)`;
  const loads = spec.inputTypes
    .map((_, k) => `let a${k} = f32(in${k}[b${k} + j * ${rowStride(k)}]);`)
    .join(' ');
  const fields = spec.stat === 'lse' ? 'let m = st.m; let s = st.s;' : 'let t = st.t;';
  const writeLoop = (start: string, step: string) => `  for (var j = ${start}; j < len; j += ${step}) {
    ${loads}
    out[bo + j * ${rowStride(n)}] = ${spec.outType}(${spec.write});
  }`;
  const head = `${spec.inputTypes.includes('f16') || spec.outType === 'f16' ? 'enable f16;\n' : ''}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
${decls}
@group(0) @binding(${n + 1}) var<storage, read_write> out: array<${spec.outType}>;
${statWgsl(spec.stat)}`;
  let main: string;
  if (spec.layout === 'thread') {
    main = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = linearIndex(gid, nwg, ${WG}u);
  if (row >= ui(0u)) { return; }
  let len = ui(1u);
${baseCode}
  var st = statIdentity();
  for (var j = 0u; j < len; j++) {
    ${loads}
    st = statAdd(st, ${spec.value});
  }
  ${fields}
${writeLoop('0u', '1u')}
}`;
  } else {
    main = `var<workgroup> tree: array<Stat, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= ui(0u)) { return; }
  let len = ui(1u);
${baseCode}
  var own = statIdentity();
  for (var j = lid; j < len; j += ${WG}u) {
    ${loads}
    own = statAdd(own, ${spec.value});
  }
  tree[lid] = own;
  workgroupBarrier();
  for (var h = ${WG / 2}u; h > 0u; h = h >> 1u) {
    if (lid < h) { tree[lid] = statCombine(tree[lid], tree[lid + h]); }
    workgroupBarrier();
  }
  let st = tree[0];
  ${fields}
${writeLoop('lid', `${WG}u`)}
}`;
  }
  return {
    name: spec.name,
    code: `${head}\n${main}`,
    bindings: [...spec.inputTypes.map(() => 'read' as const), 'read_write'],
    workgroupSize: WG,
  };
}

const kernels = new Map<string, Kernel>();

/** A same-shaped operand as one dispatch sees it: its strides, and its offset within the binding. */
interface RowOperand {
  binding: GPUBuffer | GPUBufferBinding;
  offset: number;
  strides: readonly number[];
}

/**
 * Runs a row kernel along `dim` over same-shaped `inputs` and returns a new contiguous tensor of that shape.
 * Short rows get a thread each; long rows a workgroup each, whose threads share the statistic. Tensors larger
 * than a storage binding are cut along the kept dim with the largest stride, each slab bound as a window.
 */
export function runRows(
  inputs: readonly Tensor[],
  dim: number,
  spec: Omit<RowSpec, 'inputTypes' | 'outType' | 'layout'>,
  outDtype = inputs[0].dtype,
): Tensor {
  const x = inputs[0];
  if (x.ndim > MAX_RANK)
    throw new RangeError(`${spec.name}: tensors of rank > ${MAX_RANK} are not supported`);
  const d = normalizeDim(dim, x.ndim, x.toString());
  const out = Tensor.empty(x.shape, outDtype);
  const shape = x.ndim ? x.shape : [1];
  const len = shape[d];
  const rows = numel(shape) / Math.max(len, 1);
  if (numel(shape) === 0) return out;
  const kept = shape.map((_, i) => i).filter((i) => i !== d);
  // As for reductions: a thread per row when rows are short, or when many rows lie side by side in memory
  // (softmax over channels of NCHW), so neighbouring threads read neighbouring addresses.
  const rowStride = x.ndim ? x.strides[d] : 1;
  const layout = len <= 64 || (rowStride !== 1 && rows >= 2048) ? 'thread' : 'group';
  const full: RowSpec = {
    ...spec,
    inputTypes: inputs.map((t) => WGSL_TYPE[t.dtype]),
    outType: WGSL_TYPE[outDtype],
    layout,
  };
  const key = JSON.stringify(full);
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = buildRowKernel(full);
    kernels.set(key, kernel);
  }
  const engine = getEngine();
  const operands = [...inputs, out];
  const stridesOf = (t: Tensor) => (t.ndim ? t.strides : [1]);
  const launch = (slabShape: readonly number[], views: readonly RowOperand[]) => {
    const slabRows = numel(slabShape) / Math.max(len, 1);
    const uniforms = rowUniforms(slabRows, len, d, slabShape, views);
    const grid = layout === 'thread' ? engine.grid(slabRows, WG) : engine.grid(slabRows * WG, WG);
    engine.dispatch(
      kernel,
      views.map((v) => v.binding),
      uniforms,
      grid,
    );
  };
  if (operands.every((t) => fitsWhole(engine, t.storage.buffer))) {
    launch(
      shape,
      operands.map((t) => ({ binding: t.storage.buffer, offset: t.offset, strides: stridesOf(t) })),
    );
    return out;
  }
  // Cut along the kept dim that is outermost in memory, so each slab's window is as small as it can be.
  const cut = kept.reduce(
    (best, i) => (best < 0 || Math.abs(x.strides[i]) > Math.abs(x.strides[best]) ? i : best),
    -1,
  );
  if (cut < 0) {
    out.dispose();
    throw new RangeError(
      `${spec.name}: the row of ${x} along dim ${d} is larger than this device's maxStorageBufferBindingSize ` +
        `of ${engine.maxBindingBytes} bytes; rows are never split, so make the rows shorter or reduce over another dim`,
    );
  }
  let plan: SlabPlan;
  try {
    plan = planSlabs(
      spec.name,
      operands.map((t, k) => [t, k < inputs.length ? `input ${k}` : 'output'] as const),
      cut,
      'slab of rows',
    );
  } catch (error) {
    out.dispose();
    throw error;
  }
  forEachSlab(plan, (first, count) => {
    launch(
      shape.map((n, i) => (i === cut ? count : n)),
      operands.map((t) => ({ ...slabWindow(plan, t, first, count), strides: t.strides })),
    );
  });
  return out;
}

function rowUniforms(
  rows: number,
  len: number,
  d: number,
  shape: readonly number[],
  operands: readonly RowOperand[],
): UniformValue[] {
  const kept = shape.map((_, i) => i).filter((i) => i !== d);
  const padKept = (values: number[], fill: number) => [
    ...new Array<number>(KEPT - values.length).fill(fill),
    ...values,
  ];
  const uniforms: UniformValue[] = [
    rows,
    len,
    ...padKept(
      kept.map((i) => shape[i]),
      1,
    ),
  ];
  for (const t of operands) {
    uniforms.push(
      t.offset,
      ...padKept(
        kept.map((i) => t.strides[i]),
        0,
      ),
      t.strides[d],
    );
  }
  return uniforms;
}
