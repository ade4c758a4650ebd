import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';

/** Elementwise kernels index tensors of up to this rank; lower ranks are padded with leading size-1 dims. */
export const MAX_RANK = 6;
export const MAP_WORKGROUP = 256;

export interface MapSpec {
  name: string;
  /** WGSL storage types of the inputs (f32, f16, i32, u32). */
  inputTypes: readonly string[];
  /** WGSL types the inputs are converted to before `expr` sees them as a0, a1, ... */
  loadTypes: readonly string[];
  outType: string;
  /** A WGSL expression over a0..an-1 (and `i`, the flat output index) whose value converts to `outType`. */
  expr: string;
  /** Extra WGSL declarations (helper functions) the expression uses. */
  helpers?: string;
  /** All operands are contiguous and of the output's shape: no index arithmetic needed. */
  contiguous: boolean;
  /**
   * (Contiguous only.) Each thread reads and writes a quad of 4 elements as vec4s: every view starts on a vec4
   * and the element count is a multiple of 4. On CPU adapters a per-lane read costs the same for one float or
   * four, so the kernel does a quarter of the reads; the element count word then counts quads.
   */
  quads?: boolean;
  /**
   * The output is also operand 0 (an in-place update). WebGPU forbids binding one buffer as both read and
   * read_write in a dispatch, so operand 0 is then read through the output binding.
   */
  inPlace?: boolean;
}

function enables(types: readonly string[]): string {
  return types.includes('f16') ? 'enable f16;\n' : '';
}

/** Uniform word where scalar arguments start, for an elementwise kernel over `inputs` operands. */
export function scalarBase(inputs: number, contiguous: boolean): number {
  return contiguous ? 2 + inputs : 2 + 2 * MAX_RANK + inputs * (1 + MAX_RANK);
}

/**
 * Builds the WGSL of an elementwise kernel. Strided operands are addressed by decomposing the flat output index
 * over the (padded) output shape, then dotting with each operand's strides, so views never need a copy.
 */
export function buildMapKernel(spec: MapSpec): Kernel {
  const n = spec.inputTypes.length;
  const first = spec.inPlace ? 1 : 0;
  const src = (k: number) => (k < first ? 'out' : `in${k}`);
  const element = (t: string) => (spec.quads ? `vec4<${t}>` : t);
  const decls = spec.inputTypes
    .map((t, k) =>
      k < first
        ? ''
        : `@group(0) @binding(${k + 1 - first}) var<storage, read> in${k}: array<${element(t)}>;`,
    )
    .join('\n');
  const outDecl = `@group(0) @binding(${n + 1 - first}) var<storage, read_write> out: array<${element(spec.outType)}>;`;
  let body: string;
  if (spec.contiguous && spec.quads) {
    // Element e of quad q is flat element 4q + e, which the expression sees as i.
    const reads = spec.inputTypes
      .map((_, k) => `  let v${k} = ${src(k)}[ui(${2 + k}u) / 4u + q];`)
      .join('\n');
    const loads = spec.loadTypes.map((t, k) => `    let a${k} = ${t}(v${k}[e]);`).join('\n');
    body = `  let q = i;
${reads}
  var r: vec4<${spec.outType}>;
  for (var e = 0u; e < 4u; e++) {
    let i = 4u * q + e;
${loads}
    r[e] = ${spec.outType}(${spec.expr});
  }
  out[ui(1u) / 4u + q] = r;`;
  } else if (spec.contiguous) {
    const loads = spec.loadTypes
      .map((t, k) => `  let a${k} = ${t}(${src(k)}[ui(${2 + k}u) + i]);`)
      .join('\n');
    body = `${loads}\n  out[ui(1u) + i] = ${spec.outType}(${spec.expr});`;
  } else {
    const shapeBase = 2;
    const outStrideBase = 2 + MAX_RANK;
    const inBase = (k: number) => 2 + 2 * MAX_RANK + k * (1 + MAX_RANK);
    const offs = spec.inputTypes.map((_, k) => `  var o${k} = ui(${inBase(k)}u);`).join('\n');
    const steps = spec.inputTypes.map((_, k) => `    o${k} += c * ui(${inBase(k) + 1}u + d);`).join('\n');
    const loads = spec.loadTypes.map((t, k) => `  let a${k} = ${t}(${src(k)}[o${k}]);`).join('\n');
    body = `  var rem = i;
  var oo = ui(1u);
${offs}
  for (var dd = 0u; dd < ${MAX_RANK}u; dd++) {
    let d = ${MAX_RANK - 1}u - dd;
    let s = ui(${shapeBase}u + d);
    let c = rem % s;
    rem = rem / s;
    oo += c * ui(${outStrideBase}u + d);
${steps}
  }
${loads}
  out[oo] = ${spec.outType}(${spec.expr});`;
  }
  const code = `${enables([...spec.inputTypes, spec.outType, ...spec.loadTypes])}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
${decls}
${outDecl}
${spec.helpers ?? ''}
@compute @workgroup_size(${MAP_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${MAP_WORKGROUP}u);
  if (i >= ui(0u)) { return; }
${body}
}`;
  return {
    name: spec.name,
    code,
    bindings: [...spec.inputTypes.slice(first).map(() => 'read' as const), 'read_write' as const],
    workgroupSize: MAP_WORKGROUP,
  };
}
