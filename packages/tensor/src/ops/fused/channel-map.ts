import { type DType, WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { type Kernel, kernelCache, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
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
  const plane = n / Math.max(1, N * C);
  // Quads of 4 elements (vec4 reads and writes) where every plane and operand starts on a vec4: a quad then lies
  // in one plane, whose coefficients are read once for its 4 elements.
  const quads = plane % 4 === 0 && operands.every((t) => t.offset % 4 === 0);
  const pers = coefficients.map((c) => c.per).join();
  const key = `${options.name}:${inType}:${outType}:${operands.length}:${pers}:${quads}:${options.body ?? ''}:${options.expr}`;
  const kernel = cached(key, () =>
    buildKernel(options.name, fn, operands.length, coefficients, inType, outType, quads),
  );
  const all = [...operands, ...coefficients.map((c) => c.tensor)];
  const items = quads ? n / 4 : n;
  engine.dispatch(
    kernel,
    [...all.map((t) => t.storage.buffer), out.storage.buffer],
    [items, C, plane, ...all.map((t) => t.offset)],
    engine.grid(items, WG),
  );
  return out;
}

const cached = kernelCache();

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
  quads: boolean,
): Kernel {
  // Uniform words: 0 items (elements, or quads of 4), 1 C, 2 S (elements per plane), 3.. offsets in binding order.
  const decls: string[] = [];
  const reads: string[] = [];
  const args: string[] = [];
  const element = (t: string) => (quads ? `vec4<${t}>` : t);
  for (let k = 0; k < operands; k++) {
    decls.push(`@group(0) @binding(${k + 1}) var<storage, read> x${k}: array<${element(inType)}>;`);
    reads.push(`  let v${k} = x${k}[${quads ? `ui(${3 + k}u) / 4u` : `ui(${3 + k}u)`} + i];`);
    args.push(quads ? `f32(v${k}[e])` : `f32(v${k})`);
  }
  coefficients.forEach(({ per }, k) => {
    const at = operands + k;
    decls.push(`@group(0) @binding(${at + 1}) var<storage, read> k${k}: array<f32>;`);
    reads.push(`  let w${k} = k${k}[ui(${3 + at}u) + ${per === 'channel' ? 'c' : 'plane'}];`);
    args.push(`w${k}`);
  });
  const f16 = inType === 'f16' || outType === 'f16';
  const call = `fused_${name}(${args.join(', ')})`;
  const store = quads
    ? `  var r: vec4<${outType}>;
  for (var e = 0u; e < 4u; e++) { r[e] = ${outType}(${call}); }
  out[i] = r;`
    : `  out[i] = ${outType}(${call});`;
  return {
    name,
    bindings: [...args.map(() => 'read' as const), 'read_write'],
    code: `${f16 ? 'enable f16;\n' : ''}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
${decls.join('\n')}
@group(0) @binding(${args.length + 1}) var<storage, read_write> out: array<${element(outType)}>;
${fn}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${WG}u);
  if (i >= ui(0u)) { return; }
  let plane = ${quads ? '4u * i' : 'i'} / ui(2u);
  let c = plane % ui(1u);
${reads.join('\n')}
${store}
}`,
  };
}

/** A coefficient as a view that broadcasts against [N, C, ...] of rank `rank`. */
function broadcastView({ tensor: t, per }: ChannelCoefficient, rank: number): Tensor {
  if (per === 'plane') return t.asView(t.shape, t.strides, t.offset);
  const ones = new Array<number>(rank - 2);
  return t.asView([1, t.shape[0], ...ones.fill(1)], [0, t.strides[0], ...ones.fill(0)], t.offset);
}
