import { type DType, WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { Tensor } from '../../tensor.js';
import { fitsWhole } from '../elementwise/binding-range.js';
import { map } from '../elementwise/map.js';

const WG = 256;

/**
 * A small per-channel tensor a channel map reads: `channel` holds one f32 per channel ([C]); `plane` one per
 * (sample, channel) pair, shaped [N, C, 1, ...] like a pooled feature map (the SE gate).
 */
export interface ChannelCoefficient {
  tensor: Tensor;
  per: 'channel' | 'plane';
}

export interface ChannelMapOptions {
  name: string;
  /** WGSL over the operands a0, a1, ... and the coefficients c0, c1, ... (all f32); may use `let` lines in `body`. */
  expr: string;
  /** WGSL statements run before `expr` (e.g. `let z = a0 * c0 + c1;`), so a recomputed value is written once. */
  body?: string;
  /** Output dtype (default: the first operand's). */
  outDtype?: DType;
}

/**
 * One elementwise kernel over [N, C, ...] operands of one shape that also reads per-channel (or per-plane)
 * coefficients: the building block of fused normalise-then-activate and gate kernels. Contiguous operands take a
 * kernel that finds the channel with one division; anything else runs the same expression through the general
 * strided elementwise kernel with the coefficients broadcast as views.
 */
export function channelMap(
  operands: readonly Tensor[],
  coefficients: readonly ChannelCoefficient[],
  options: ChannelMapOptions,
): Tensor {
  const a = operands[0];
  for (const t of operands) {
    if (t.shape.length !== a.shape.length || t.shape.some((d, i) => d !== a.shape[i])) {
      throw new RangeError(`${options.name}: operands ${a} and ${t} differ in shape`);
    }
  }
  const [N, C] = a.shape;
  for (const { tensor: t, per } of coefficients) {
    const want = per === 'channel' ? [C] : [N, C, ...a.shape.slice(2).map(() => 1)];
    if (t.dtype !== 'float32' || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new RangeError(`${options.name}: ${per} coefficient ${t} must be float32 of shape [${want}]`);
    }
  }
  const outDtype = options.outDtype ?? a.dtype;
  const engine = getEngine();
  const fast =
    operands.every((t) => t.isContiguous() && t.dtype === a.dtype && fitsWhole(engine, t.storage.buffer)) &&
    coefficients.every(({ tensor: t }) => t.isContiguous());
  const fn = helperFunction(options, operands.length, coefficients.length);
  const call = `fused_${options.name}(${[...operands.map((_, k) => `a${k}`), ...coefficients.map((_, k) => `a${operands.length + k}`)].join(', ')})`;
  if (!fast) {
    const views = coefficients.map((c) => broadcastView(c, a.ndim));
    const out = map([...operands, ...views], { name: options.name, expr: call, outDtype, helpers: fn });
    for (const v of views) v.dispose();
    return out;
  }
  const out = Tensor.empty(a.shape, outDtype);
  const n = a.numel();
  if (n === 0) return out;
  const inType = WGSL_TYPE[a.dtype];
  const outType = WGSL_TYPE[outDtype];
  const pers = coefficients.map((c) => c.per).join();
  const key = `${options.name}:${inType}:${outType}:${operands.length}:${pers}:${options.body ?? ''}:${options.expr}`;
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = buildKernel(options.name, fn, operands.length, coefficients, inType, outType);
    kernels.set(key, kernel);
  }
  const all = [...operands, ...coefficients.map((c) => c.tensor)];
  engine.dispatch(
    kernel,
    [...all.map((t) => t.storage.buffer), out.storage.buffer],
    [n, C, n / Math.max(1, N * C), ...all.map((t) => t.offset)],
    engine.grid(n, WG),
  );
  return out;
}

const kernels = new Map<string, Kernel>();

/** The expression as a WGSL function of f32 arguments, shared by the fast kernel and the strided fallback. */
function helperFunction(options: ChannelMapOptions, operands: number, coefficients: number): string {
  const params = [
    ...Array.from({ length: operands }, (_, k) => `a${k}: f32`),
    ...Array.from({ length: coefficients }, (_, k) => `c${k}: f32`),
  ];
  return `fn fused_${options.name}(${params.join(', ')}) -> f32 {\n  ${options.body ?? ''}\n  return ${options.expr};\n}`;
}

function buildKernel(
  name: string,
  fn: string,
  operands: number,
  coefficients: readonly ChannelCoefficient[],
  inType: string,
  outType: string,
): Kernel {
  // Uniform words: 0 n, 1 C, 2 S (elements per plane), 3.. offsets in binding order.
  const decls: string[] = [];
  const args: string[] = [];
  for (let k = 0; k < operands; k++) {
    decls.push(`@group(0) @binding(${k + 1}) var<storage, read> x${k}: array<${inType}>;`);
    args.push(`f32(x${k}[ui(${3 + k}u) + i])`);
  }
  coefficients.forEach(({ per }, k) => {
    const at = operands + k;
    decls.push(`@group(0) @binding(${at + 1}) var<storage, read> k${k}: array<f32>;`);
    args.push(`k${k}[ui(${3 + at}u) + ${per === 'channel' ? 'c' : 'plane'}]`);
  });
  const f16 = inType === 'f16' || outType === 'f16';
  return {
    name,
    bindings: [...args.map(() => 'read' as const), 'read_write'],
    code: `${f16 ? 'enable f16;\n' : ''}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
${decls.join('\n')}
@group(0) @binding(${args.length + 1}) var<storage, read_write> out: array<${outType}>;
${fn}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${WG}u);
  if (i >= ui(0u)) { return; }
  let plane = i / ui(2u);
  let c = plane % ui(1u);
  out[i] = ${outType}(fused_${name}(${args.join(', ')}));
}`,
  };
}

/** A coefficient as a view that broadcasts against [N, C, ...] of rank `rank`. */
function broadcastView({ tensor: t, per }: ChannelCoefficient, rank: number): Tensor {
  if (per === 'plane') return t.asView(t.shape, t.strides, t.offset);
  const ones = new Array<number>(rank - 2);
  return t.asView([1, t.shape[0], ...ones.fill(1)], [0, t.strides[0], ...ones.fill(0)], t.offset);
}
