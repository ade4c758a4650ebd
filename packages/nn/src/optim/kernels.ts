import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '@nephron/tensor';

/**
 * Fused in-place update kernels: one dispatch per parameter reads the gradient once and updates the parameter
 * and its optimizer state together, as PyTorch's fused optimizers do. Scalars that PyTorch computes in double
 * on the host (bias corrections, 1 - beta) are computed in JavaScript and passed as f32 uniforms.
 */
export const OPTIM_WORKGROUP = 256;

const HEAD = `${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}`;

/**
 * AdamW, PyTorch semantics:
 *   θ ← θ·(1 − lr·wd);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  [v̂ ← max(v̂, v)]
 *   θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 * words: 0 n, 1 param offset, 2 grad offset, 3 decay factor, 4 β1, 5 1−β1, 6 β2, 7 1−β2, 8 step size,
 *        9 √(1 − β2ᵗ), 10 ε, 11 gradient sign (−1 to maximize)
 */
export function adamwKernel(amsgrad: boolean): Kernel {
  return {
    name: amsgrad ? 'adamw_amsgrad' : 'adamw',
    bindings: amsgrad
      ? ['read', 'read_write', 'read_write', 'read_write', 'read_write']
      : ['read', 'read_write', 'read_write', 'read_write'],
    workgroupSize: OPTIM_WORKGROUP,
    code: `${HEAD}
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> expAvg: array<f32>;
@group(0) @binding(4) var<storage, read_write> expAvgSq: array<f32>;
${amsgrad ? '@group(0) @binding(5) var<storage, read_write> maxExpAvgSq: array<f32>;' : ''}
@compute @workgroup_size(${OPTIM_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${OPTIM_WORKGROUP}u);
  if (i >= ui(0u)) { return; }
  let g = grad[ui(2u) + i] * uf(11u);
  let p = param[ui(1u) + i] * uf(3u);
  let m = uf(4u) * expAvg[i] + uf(5u) * g;
  let v = uf(6u) * expAvgSq[i] + uf(7u) * g * g;
  expAvg[i] = m;
  expAvgSq[i] = v;
${
  amsgrad
    ? `  let vMax = max(maxExpAvgSq[i], v);
  maxExpAvgSq[i] = vMax;
  let denom = sqrt(vMax) / uf(9u) + uf(10u);`
    : '  let denom = sqrt(v) / uf(9u) + uf(10u);'
}
  param[ui(1u) + i] = p - uf(8u) * (m / denom);
}`,
  };
}

/**
 * SGD with momentum, PyTorch semantics (d = g + wd·θ; b ← d on the first step, else μ·b + (1 − τ)·d;
 * d ← d + μ·b with Nesterov, else b; θ ← θ − lr·d).
 * words: 0 n, 1 param offset, 2 grad offset, 3 weight decay, 4 momentum, 5 1 − dampening, 6 lr,
 *        7 first step (1/0), 8 nesterov (1/0), 9 gradient sign
 */
export function sgdKernel(momentum: boolean): Kernel {
  return {
    name: momentum ? 'sgd_momentum' : 'sgd',
    bindings: momentum ? ['read', 'read_write', 'read_write'] : ['read', 'read_write'],
    workgroupSize: OPTIM_WORKGROUP,
    code: `${HEAD}
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
${momentum ? '@group(0) @binding(3) var<storage, read_write> buf: array<f32>;' : ''}
@compute @workgroup_size(${OPTIM_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${OPTIM_WORKGROUP}u);
  if (i >= ui(0u)) { return; }
  let p = param[ui(1u) + i];
  var d = grad[ui(2u) + i] * uf(9u) + uf(3u) * p;
${
  momentum
    ? `  var b = d;
  if (ui(7u) == 0u) { b = uf(4u) * buf[i] + uf(5u) * d; }
  buf[i] = b;
  d = select(b, d + uf(4u) * b, ui(8u) != 0u);`
    : ''
}
  param[ui(1u) + i] = p - uf(6u) * d;
}`,
  };
}
