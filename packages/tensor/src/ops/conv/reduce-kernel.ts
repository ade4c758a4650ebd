import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { U } from './gemm-kernel.js';

export const REDUCE_WG = 64;

/** Adds `splits` partial results laid out one after another: out[i] = Σ_s part[s·n + i]. Uniforms: 0 n, 1 splits. */
export const reducePartialsKernel: Kernel = {
  name: 'conv2d_reduce_partials',
  bindings: ['read', 'read_write'],
  code: `${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${REDUCE_WG}u);
  let n = ui(0u);
  if (i >= n) { return; }
  var s = 0.0;
  for (var k = 0u; k < ui(1u); k++) { s += part[k * n + i]; }
  out[i] = s;
}`,
};

/**
 * Gradient of the bias: the sum of dy over batch and pixels for each channel. A workgroup owns one channel and
 * one chunk of pixels and sums it as a tree; chunks (workgroup y) are added by {@link reducePartialsKernel}.
 * Output: partial[split][co]. Uniforms: dy at aOffset/aStrides, pixels per chunk in `kChunk`.
 */
export const biasGradKernel: Kernel = {
  name: 'conv2d_bias_grad',
  bindings: ['read', 'read_write'],
  code: `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
var<workgroup> red: array<f32, ${REDUCE_WG}>;
@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let co = wid.x;
  let split = wid.y;
  let tid = lid.x;
  let OW = ui(${U.ow}u);
  let OHW = ui(${U.oh}u) * OW;
  let total = ui(${U.batch}u) * OHW;
  let begin = split * ui(${U.kChunk}u);
  let end = min(total, begin + ui(${U.kChunk}u));
  let base = ui(${U.aOffset}u) + co * ui(${U.aStrides + 1}u);
  var s = 0.0;
  for (var p = begin + tid; p < end; p += ${REDUCE_WG}u) {
    let pix = p % OHW;
    s += dy[base + (p / OHW) * ui(${U.aStrides}u) + (pix / OW) * ui(${U.aStrides + 2}u) + (pix % OW) * ui(${U.aStrides + 3}u)];
  }
  red[tid] = s;
  workgroupBarrier();
  for (var half = ${REDUCE_WG / 2}u; half > 0u; half /= 2u) {
    if (tid < half) { red[tid] += red[tid + half]; }
    workgroupBarrier();
  }
  if (tid == 0u) { out[ui(${U.outOffset}u) + split * ui(${U.cOut}u) + co] = red[0]; }
}`,
};
