import { WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { Tensor } from '../../tensor.js';
import { fitsWhole } from '../elementwise/binding-range.js';
import { map } from '../elementwise/map.js';

const WG = 256;

/**
 * `a·A[c] + b·B[c] + D[c]` over [N, C, ...] tensors, with per-channel coefficients: batch norm's forward
 * (x·scale + shift) and backward (g·A + x·B + D). Contiguous operands take a kernel that finds the channel with
 * one division; anything else goes through the general strided elementwise kernel.
 */
export function channelAffine(
  a: Tensor,
  ca: Tensor,
  b: Tensor | null,
  cb: Tensor | null,
  cd: Tensor | null,
  name: string,
): Tensor {
  const C = a.shape[1];
  const S = a.numel() / Math.max(1, a.shape[0] * C);
  const operands = [a, ...(b ? [b] : [])];
  const coefficients = [ca, ...(cb ? [cb] : []), ...(cd ? [cd] : [])];
  const engine = getEngine();
  // Tensors past one storage binding go through the elementwise kernel, which binds windows of them.
  const fast =
    operands.every((t) => t.isContiguous() && t.dtype === a.dtype && fitsWhole(engine, t.storage.buffer)) &&
    coefficients.every((t) => t.isContiguous() && t.dtype === 'float32');
  if (!fast) return viaMap(a, ca, b, cb, cd, name);
  const type = WGSL_TYPE[a.dtype];
  const out = Tensor.empty(a.shape, a.dtype);
  const n = a.numel();
  if (n === 0) return out;
  const names = ['x', ...(b ? ['y'] : []), 'ca', ...(cb ? ['cb'] : []), ...(cd ? ['cd'] : [])];
  const key = `${name}:${type}:${names.join()}`;
  let kernel = kernels.get(key);
  if (!kernel) {
    const types = names.map((v) => (v === 'x' || v === 'y' ? type : 'f32'));
    // words: 0 n, 1 C, 2 S, 3.. offsets in binding order
    const decls = names
      .map((v, k) => `@group(0) @binding(${k + 1}) var<storage, read> ${v}: array<${types[k]}>;`)
      .join('\n');
    const at = (v: string) => `ui(${3 + names.indexOf(v)}u)`;
    const terms = [`f32(x[${at('x')} + i]) * ca[${at('ca')} + c]`];
    if (b) terms.push(`f32(y[${at('y')} + i]) * cb[${at('cb')} + c]`);
    if (cd) terms.push(`cd[${at('cd')} + c]`);
    kernel = {
      name,
      bindings: [...names.map(() => 'read' as const), 'read_write'],
      code: `${type === 'f16' ? 'enable f16;\n' : ''}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
${decls}
@group(0) @binding(${names.length + 1}) var<storage, read_write> out: array<${type}>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${WG}u);
  if (i >= ui(0u)) { return; }
  let c = (i / ui(2u)) % ui(1u);
  out[i] = ${type}(${terms.join(' + ')});
}`,
    };
    kernels.set(key, kernel);
  }
  const tensors = [a, ...(b ? [b] : []), ca, ...(cb ? [cb] : []), ...(cd ? [cd] : [])];
  engine.dispatch(
    kernel,
    [...tensors.map((t) => t.storage.buffer), out.storage.buffer],
    [n, C, S, ...tensors.map((t) => t.offset)],
    engine.grid(n, WG),
  );
  return out;
}

const kernels = new Map<string, Kernel>();

/** A per-channel [C] tensor as a view that broadcasts against [N, C, ...] of rank `rank`. */
export function perChannel(t: Tensor, rank: number): Tensor {
  const shape = [t.shape[0], ...new Array<number>(rank - 2).fill(1)];
  const strides = [t.strides[0], ...new Array<number>(rank - 2).fill(0)];
  return t.asView(shape, strides, t.offset);
}

function viaMap(
  a: Tensor,
  ca: Tensor,
  b: Tensor | null,
  cb: Tensor | null,
  cd: Tensor | null,
  name: string,
): Tensor {
  const views = [ca, cb, cd].map((t) => (t ? perChannel(t, a.ndim) : null));
  const inputs = [a, views[0]!];
  let expr = 'a0 * a1';
  if (b) {
    inputs.push(b, views[1]!);
    expr += ` + a${inputs.length - 2} * a${inputs.length - 1}`;
  }
  if (cd) {
    inputs.push(views[2]!);
    expr += ` + a${inputs.length - 1}`;
  }
  const out = map(inputs, { name, expr, outDtype: a.dtype });
  for (const v of views) v?.dispose();
  return out;
}
