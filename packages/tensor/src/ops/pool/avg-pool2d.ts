import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { recordOp, Tensor } from '../../tensor.js';
import {
  COVER_WGSL,
  checkNchw,
  dispatchNchw,
  elementType,
  elementWgsl,
  inputPixelWgsl,
  NCHW_PARAMS,
  NCHW_WGSL,
  outputPixelWgsl,
  type Pair,
  perElement,
  poolWindow,
  windowWords,
} from './nchw.js';

const WG = 64;
const P = NCHW_PARAMS;

// The divisor of window (oh, ow), as PyTorch counts it: with countIncludePad the window clipped to the padded
// input, else only the real pixels under it.
const DIVISOR_WGSL = /* wgsl */ `
fn divisor(oh: u32, ow: u32) -> f32 {
  let hs = i32(oh * ui(${P + 2}u)) - i32(ui(${P + 4}u));
  let ws = i32(ow * ui(${P + 3}u)) - i32(ui(${P + 5}u));
  let he = min(hs + i32(ui(${P}u)), i32(H_() + ui(${P + 4}u)));
  let we = min(ws + i32(ui(${P + 1}u)), i32(W_() + ui(${P + 5}u)));
  if (ui(${P + 6}u) != 0u) { return f32((he - hs) * (we - ws)); }
  let rows = min(he, i32(H_())) - max(hs, 0);
  let cols = min(we, i32(W_())) - max(ws, 0);
  return f32(rows * cols);
}
`;

const FORWARD = perElement(
  (E): Kernel => ({
    name: 'avg_pool2d',
    bindings: ['read', 'read_write'],
    workgroupSize: WG,
    code: `${elementWgsl(E)}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${NCHW_WGSL}${DIVISOR_WGSL}
@group(0) @binding(1) var<storage, read> x: array<E>;
@group(0) @binding(2) var<storage, read_write> out: array<E>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
${outputPixelWgsl(WG)}
  let h0 = i32(oh * ui(${P + 2}u)) - i32(ui(${P + 4}u));
  let w0 = i32(ow * ui(${P + 3}u)) - i32(ui(${P + 5}u));
  let h1 = min(h0 + i32(ui(${P}u)), i32(H_()));
  let w1 = min(w0 + i32(ui(${P + 1}u)), i32(W_()));
  var total = 0.0;
  for (var h = max(h0, 0); h < h1; h++) {
    for (var w = max(w0, 0); w < w1; w++) { total += f32(x[xAt(plane, u32(h), u32(w))]); }
  }
  out[outAt(i)] = E(total / divisor(oh, ow));
}`,
  }),
);

// One thread per input pixel gathers g / divisor from every output window covering it (no atomics).
const BACKWARD = perElement(
  (E): Kernel => ({
    name: 'avg_pool2d_backward',
    bindings: ['read', 'read_write'],
    workgroupSize: WG,
    code: `${elementWgsl(E)}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${NCHW_WGSL}${COVER_WGSL}${DIVISOR_WGSL}
@group(0) @binding(1) var<storage, read> g: array<E>;
@group(0) @binding(2) var<storage, read_write> gx: array<E>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
${inputPixelWgsl(WG)}
  let ohEnd = coverHi(h, ui(${P + 2}u), ui(${P + 4}u), OH_());
  let owEnd = coverHi(w, ui(${P + 3}u), ui(${P + 5}u), OW_());
  let owStart = coverLo(w, ui(${P + 1}u), ui(${P + 3}u), ui(${P + 5}u));
  var total = 0.0;
  for (var oh = coverLo(h, ui(${P}u), ui(${P + 2}u), ui(${P + 4}u)); oh < ohEnd; oh++) {
    for (var ow = owStart; ow < owEnd; ow++) { total += f32(g[gAt(plane, oh, ow)]) / divisor(oh, ow); }
  }
  gx[outAt(i)] = E(total);
}`,
  }),
);

export interface AvgPool2dOptions {
  /** Count padding zeros in the divisor (PyTorch's default: true). */
  countIncludePad?: boolean;
}

/** 2-D average pooling over NCHW input, as `torch.nn.functional.avg_pool2d` (stride defaults to the kernel). */
export function avgPool2d(
  x: Tensor,
  kernelSize: Pair,
  stride?: Pair | null,
  padding: Pair = 0,
  options: AvgPool2dOptions = {},
): Tensor {
  checkNchw(x, 'avgPool2d');
  const win = poolWindow(x, 'avgPool2d', kernelSize, stride, padding);
  const includePad = (options.countIncludePad ?? true) ? 1 : 0;
  const [n, c] = x.shape;
  const out = Tensor.empty([n, c, ...win.out], x.dtype);
  dispatchNchw({
    kernel: FORWARD(elementType(x)),
    bindings: [x, out],
    inputShape: x.shape,
    outHW: win.out,
    x,
    out,
    threadsPerSample: c * win.out[0] * win.out[1],
    workgroup: WG,
    params: [...windowWords(win), includePad],
  });
  const inputShape = x.shape;
  return recordOp('avgPool2d', out, [x], (g) => {
    const gx = Tensor.empty(inputShape, g.dtype);
    dispatchNchw({
      kernel: BACKWARD(elementType(g)),
      bindings: [g, gx],
      inputShape,
      outHW: win.out,
      g,
      out: gx,
      threadsPerSample: c * inputShape[2] * inputShape[3],
      workgroup: WG,
      params: [...windowWords(win), includePad],
    });
    return [gx];
  });
}
