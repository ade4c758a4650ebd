import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';

/**
 * Kernels of the class-index losses over logits laid out as [N, C, S] (S = the flattened spatial dims, 1 for
 * N×C input), with int32 targets [N, S]. `kind` 'ce' takes raw logits (the log-softmax is fused in), 'nll' takes
 * log-probabilities. Uniforms: 0 pixels (N·S), 1 C, 2 S, 3 ignore index (i32), 4 offset of the logit-shaped
 * bindings and 5 of the pixel-shaped ones (a batch slab of a tensor larger than a binding is bound as a window).
 */
export interface ClassLossSpec {
  kind: 'ce' | 'nll';
  hasWeight: boolean;
}

export const LOSS_WG = 256;

/** NaN that the compiler cannot fold (a NaN literal is a WGSL error). */
const NAN = 'bitcast<f32>(nanBits)';

/**
 * One thread per pixel: the pixel's loss w[t]·(lse − x[t]) (or −w[t]·x[t]), the weight it counts with in a
 * mean (0 when ignored), and for 'ce' its log-sum-exp for the backward pass. An out-of-range target gives NaN.
 */
export function lossForwardKernel(spec: ClassLossSpec): Kernel {
  const ce = spec.kind === 'ce';
  const bindings: ('read' | 'read_write')[] = ['read', 'read'];
  const decls = [
    '@group(0) @binding(1) var<storage, read> x: array<f32>;',
    '@group(0) @binding(2) var<storage, read> classes: array<i32>;',
  ];
  if (spec.hasWeight) {
    bindings.push('read');
    decls.push(`@group(0) @binding(${bindings.length}) var<storage, read> weight: array<f32>;`);
  }
  for (const name of ce ? ['loss', 'counted', 'lse'] : ['loss', 'counted']) {
    bindings.push('read_write');
    decls.push(`@group(0) @binding(${bindings.length}) var<storage, read_write> ${name}: array<f32>;`);
  }
  const code = `${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
${decls.join('\n')}
@compute @workgroup_size(${LOSS_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = linearIndex(gid, nwg, ${LOSS_WG}u);
  if (p >= ui(0u)) { return; }
  let C = ui(1u);
  let S = ui(2u);
  let base = ui(4u) + (p / S) * C * S + p % S;
  let q = ui(5u) + p;
  let t = classes[q];
${
  ce
    ? `  var m = bitcast<f32>(0xff7fffffu);
  var s = 0.0;
  for (var c = 0u; c < C; c++) {
    let v = x[base + c * S];
    if (v > m) { s = s * exp(m - v) + 1.0; m = v; } else { s += exp(v - m); }
  }
  let l = m + log(s);
  lse[q] = l;`
    : ''
}
  if (t == usi(3u)) { loss[q] = 0.0; counted[q] = 0.0; return; }
  var nanBits = 0x7fc00000u;
  if (t < 0 || u32(t) >= C) { loss[q] = ${NAN}; counted[q] = ${NAN}; return; }
  let w = ${spec.hasWeight ? 'weight[u32(t)]' : '1.0'};
  loss[q] = ${ce ? 'w * (l - x[base + u32(t) * S])' : '-w * x[base + u32(t) * S]'};
  counted[q] = w;
}`;
  return { name: `${spec.kind}_forward`, code, bindings, workgroupSize: LOSS_WG };
}

/**
 * One thread per logit: scale·w[t]·(softmax − onehot) for 'ce', −scale·w[t]·onehot for 'nll', where scale is
 * the upstream gradient of the pixel ('none'), of the sum, or of the mean divided by the counted weight.
 */
export function lossBackwardKernel(spec: ClassLossSpec & { reduction: 'none' | 'sum' | 'mean' }): Kernel {
  const ce = spec.kind === 'ce';
  const names: string[] = [
    ...(ce ? ['x'] : []),
    'classes',
    ...(ce ? ['lse'] : []),
    ...(spec.hasWeight ? ['weight'] : []),
    'g',
  ];
  if (spec.reduction === 'mean') names.push('denominator');
  const decls = names.map(
    (n, k) =>
      `@group(0) @binding(${k + 1}) var<storage, read> ${n}: array<${n === 'classes' ? 'i32' : 'f32'}>;`,
  );
  decls.push(`@group(0) @binding(${names.length + 1}) var<storage, read_write> gx: array<f32>;`);
  const scale =
    spec.reduction === 'none' ? 'g[q]' : spec.reduction === 'sum' ? 'g[0]' : 'g[0] / denominator[0]';
  const code = `${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
${decls.join('\n')}
@compute @workgroup_size(${LOSS_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${LOSS_WG}u);
  let C = ui(1u);
  let S = ui(2u);
  if (i >= ui(0u) * C) { return; }
  let c = (i / S) % C;
  let q = ui(5u) + (i / (C * S)) * S + i % S;
  let k = ui(4u) + i;
  let t = classes[q];
  if (t == usi(3u) || t < 0 || u32(t) >= C) { gx[k] = 0.0; return; }
  let w = ${spec.hasWeight ? 'weight[u32(t)]' : '1.0'};
  let hot = select(0.0, 1.0, c == u32(t));
  gx[k] = ${scale} * w * ${ce ? '(exp(x[k] - lse[q]) - hot)' : '(-hot)'};
}`;
  return {
    name: `${spec.kind}_backward`,
    code,
    bindings: [...names.map(() => 'read' as const), 'read_write'],
    workgroupSize: LOSS_WG,
  };
}
