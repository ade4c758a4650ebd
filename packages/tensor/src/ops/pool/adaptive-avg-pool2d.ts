import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { recordOp, Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import {
  checkNchw,
  dispatchNchw,
  elementType,
  elementWgsl,
  inputPixelWgsl,
  NCHW_WGSL,
  outputPixelWgsl,
  pair,
  perElement,
} from './nchw.js';

const WG = 64;

// PyTorch's adaptive bins: output i of O over an input of size S averages [floor(i·S/O), ceil((i+1)·S/O)).
const BINS_WGSL = /* wgsl */ `
fn binStart(i: u32, S: u32, O: u32) -> u32 { return (i * S) / O; }
fn binEnd(i: u32, S: u32, O: u32) -> u32 { return ((i + 1u) * S + O - 1u) / O; }
`;

const FORWARD = perElement(
  (E): Kernel => ({
    name: 'adaptive_avg_pool2d',
    bindings: ['read', 'read_write'],
    workgroupSize: WG,
    code: `${elementWgsl(E)}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${NCHW_WGSL}${BINS_WGSL}
@group(0) @binding(1) var<storage, read> x: array<E>;
@group(0) @binding(2) var<storage, read_write> out: array<E>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
${outputPixelWgsl(WG)}
  let h0 = binStart(oh, H_(), OH_());
  let h1 = binEnd(oh, H_(), OH_());
  let w0 = binStart(ow, W_(), OW_());
  let w1 = binEnd(ow, W_(), OW_());
  var total = 0.0;
  for (var h = h0; h < h1; h++) {
    for (var w = w0; w < w1; w++) { total += f32(x[xAt(plane, h, w)]); }
  }
  out[outAt(i)] = E(total / f32((h1 - h0) * (w1 - w0)));
}`,
  }),
);

// Input row h lies in bins floor(h·O/S) .. ceil((h+1)·O/S) − 1; each thread gathers from those.
const BACKWARD = perElement(
  (E): Kernel => ({
    name: 'adaptive_avg_pool2d_backward',
    bindings: ['read', 'read_write'],
    workgroupSize: WG,
    code: `${elementWgsl(E)}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${NCHW_WGSL}${BINS_WGSL}
@group(0) @binding(1) var<storage, read> g: array<E>;
@group(0) @binding(2) var<storage, read_write> gx: array<E>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
${inputPixelWgsl(WG)}
  let ohEnd = min(((h + 1u) * OH_() + H_() - 1u) / H_(), OH_());
  let owEnd = min(((w + 1u) * OW_() + W_() - 1u) / W_(), OW_());
  var total = 0.0;
  for (var oh = (h * OH_()) / H_(); oh < ohEnd; oh++) {
    let rows = binEnd(oh, H_(), OH_()) - binStart(oh, H_(), OH_());
    for (var ow = (w * OW_()) / W_(); ow < owEnd; ow++) {
      let cols = binEnd(ow, W_(), OW_()) - binStart(ow, W_(), OW_());
      total += f32(g[gAt(plane, oh, ow)]) / f32(rows * cols);
    }
  }
  gx[outAt(i)] = E(total);
}`,
  }),
);

const GLOBAL_WG = 64;

/**
 * Global average pooling: one workgroup per (n, c) plane; its threads sum strided slices of the plane, then a
 * tree reduction in workgroup memory combines them. A plane of 128² pixels is 256 loads per thread instead of
 * 16384 for one thread.
 */
const GLOBAL = perElement(
  (E): Kernel => ({
    name: 'global_avg_pool2d',
    bindings: ['read', 'read_write'],
    code: `${elementWgsl(E)}${UNIFORMS_WGSL}${NCHW_WGSL}
@group(0) @binding(1) var<storage, read> x: array<E>;
@group(0) @binding(2) var<storage, read_write> out: array<E>;
var<workgroup> partial: array<f32, ${GLOBAL_WG}>;
@compute @workgroup_size(${GLOBAL_WG})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let nc = wid.x + wid.y * nwg.x;
  if (nc >= ui(0u)) { return; }
  let plane = xPlane(nc);
  let size = H_() * W_();
  var total = 0.0;
  for (var j = t; j < size; j += ${GLOBAL_WG}u) { total += f32(x[xAt(plane, j / W_(), j % W_())]); }
  partial[t] = total;
  workgroupBarrier();
  for (var half = ${GLOBAL_WG / 2}u; half > 0u; half /= 2u) {
    if (t < half) { partial[t] += partial[t + half]; }
    workgroupBarrier();
  }
  if (t == 0u) { out[outAt(nc)] = E(partial[0] / f32(size)); }
}`,
  }),
);

/**
 * Adaptive average pooling to `outputSize` ([oh, ow] or one number for both), as
 * `torch.nn.functional.adaptive_avg_pool2d`. Output size 1×1 (global pooling) runs a parallel reduction.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number, number]): Tensor {
  checkNchw(x, 'adaptiveAvgPool2d');
  const out2 = pair(outputSize, 'output size', 'adaptiveAvgPool2d', 1);
  const [n, c, h, w] = x.shape;
  if (h === 0 || w === 0) throw new RangeError(`adaptiveAvgPool2d: input ${x} has an empty plane`);
  const out = Tensor.empty([n, c, ...out2], x.dtype);
  const type = elementType(x);
  const global = out2[0] === 1 && out2[1] === 1;
  dispatchNchw({
    // Global pooling: one workgroup per plane.
    kernel: global ? GLOBAL(type) : FORWARD(type),
    bindings: [x, out],
    inputShape: x.shape,
    outHW: out2,
    x,
    out,
    threadsPerSample: global ? c : c * out2[0] * out2[1],
    workgroup: global ? 1 : WG,
  });
  const inputShape = x.shape;
  return recordOp('adaptiveAvgPool2d', out, [x], (g) => {
    if (global) {
      // Every pixel gets its plane's gradient over H·W: a broadcast read of g, no gather needed.
      const spread = g.asView(inputShape, [g.strides[0], g.strides[1], 0, 0], g.offset);
      const gx = map([spread], {
        name: 'global_avg_pool2d_backward',
        expr: 'a0 / uf(S+0u)',
        outDtype: g.dtype,
        scalars: [{ f: h * w }],
      });
      spread.dispose();
      return [gx];
    }
    const gx = Tensor.empty(inputShape, g.dtype);
    dispatchNchw({
      kernel: BACKWARD(type),
      bindings: [g, gx],
      inputShape,
      outHW: out2,
      g,
      out: gx,
      threadsPerSample: c * h * w,
      workgroup: WG,
    });
    return [gx];
  });
}
