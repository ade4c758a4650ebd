import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { recordOp, Tensor } from '../../tensor.js';
import {
  COVER_WGSL,
  checkNchw,
  dispatchNchw,
  elementType,
  elementWgsl,
  NCHW_PARAMS,
  NCHW_WGSL,
  outputPixelWgsl,
  type Pair,
  perElement,
  poolWindow,
  type Window,
  windowWords,
} from './nchw.js';

const WG = 64;
const P = NCHW_PARAMS;

// One thread per output: the first maximum of its window in row-major order wins, and NaN beats everything,
// as in PyTorch. The index is h·W + w within the unpadded input plane.
const FORWARD = perElement(
  (E): Kernel => ({
    name: 'max_pool2d',
    bindings: ['read', 'read_write', 'read_write'],
    workgroupSize: WG,
    code: `${elementWgsl(E)}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${NCHW_WGSL}
@group(0) @binding(1) var<storage, read> x: array<E>;
@group(0) @binding(2) var<storage, read_write> out: array<E>;
@group(0) @binding(3) var<storage, read_write> indices: array<i32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
${outputPixelWgsl(WG)}
  let h0 = i32(oh * ui(${P + 2}u)) - i32(ui(${P + 4}u));
  let w0 = i32(ow * ui(${P + 3}u)) - i32(ui(${P + 5}u));
  var best = 0.0;
  var bestAt = -1;
  for (var kh = 0; kh < i32(ui(${P}u)); kh++) {
    let h = h0 + kh;
    if (h < 0 || h >= i32(H_())) { continue; }
    for (var kw = 0; kw < i32(ui(${P + 1}u)); kw++) {
      let w = w0 + kw;
      if (w < 0 || w >= i32(W_())) { continue; }
      let v = f32(x[xAt(plane, u32(h), u32(w))]);
      if (bestAt < 0 || v > best || v != v) {
        best = v;
        bestAt = h * i32(W_()) + w;
      }
    }
  }
  out[outAt(i)] = E(best);
  indices[indexAt(i)] = bestAt;
}`,
  }),
);

// One thread per input pixel gathers the gradients of the outputs whose window covers it and chose it: no
// atomics, and a deterministic order of summation.
const BACKWARD = perElement(
  (E): Kernel => ({
    name: 'max_pool2d_backward',
    bindings: ['read', 'read', 'read_write'],
    workgroupSize: WG,
    code: `${elementWgsl(E)}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${NCHW_WGSL}${COVER_WGSL}
@group(0) @binding(1) var<storage, read> g: array<E>;
@group(0) @binding(2) var<storage, read> indices: array<i32>;
@group(0) @binding(3) var<storage, read_write> gx: array<E>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${WG}u);
  if (i >= ui(0u)) { return; }
  let w = i % W_();
  let h = (i / W_()) % H_();
  let nc = i / (W_() * H_());
  let plane = gPlane(nc);
  let idxPlane = indexAt(nc * OH_() * OW_());
  let me = i32(h * W_() + w);
  let ohEnd = coverHi(h, ui(${P + 2}u), ui(${P + 4}u), OH_());
  let owEnd = coverHi(w, ui(${P + 3}u), ui(${P + 5}u), OW_());
  let owStart = coverLo(w, ui(${P + 1}u), ui(${P + 3}u), ui(${P + 5}u));
  var total = 0.0;
  for (var oh = coverLo(h, ui(${P}u), ui(${P + 2}u), ui(${P + 4}u)); oh < ohEnd; oh++) {
    for (var ow = owStart; ow < owEnd; ow++) {
      if (indices[idxPlane + oh * OW_() + ow] == me) { total += f32(g[gAt(plane, oh, ow)]); }
    }
  }
  gx[outAt(i)] = E(total);
}`,
  }),
);

function forward(x: Tensor, win: Window): { output: Tensor; indices: Tensor } {
  const [n, c] = x.shape;
  const shape = [n, c, ...win.out];
  const output = Tensor.empty(shape, x.dtype);
  const indices = Tensor.empty(shape, 'int32');
  dispatchNchw({
    kernel: FORWARD(elementType(x)),
    bindings: [x, output, indices],
    inputShape: x.shape,
    outHW: win.out,
    x,
    out: output,
    indices,
    threadsPerSample: c * win.out[0] * win.out[1],
    workgroup: WG,
    params: windowWords(win),
  });
  return { output, indices };
}

/**
 * `maxPool2d` returning PyTorch's `return_indices` as well: int32 indices h·W + w of each maximum within its
 * input plane. The indices tensor belongs to the caller.
 */
export function maxPool2dWithIndices(
  x: Tensor,
  kernelSize: Pair,
  stride?: Pair | null,
  padding: Pair = 0,
): { output: Tensor; indices: Tensor } {
  checkNchw(x, 'maxPool2d');
  const win = poolWindow(x, 'maxPool2d', kernelSize, stride, padding);
  const { output, indices } = forward(x, win);
  const inputShape = x.shape;
  recordOp(
    'maxPool2d',
    output,
    [x],
    (g, [idx]) => {
      const gx = Tensor.empty(inputShape, g.dtype);
      const [, c, h, w] = inputShape;
      dispatchNchw({
        kernel: BACKWARD(elementType(g)),
        bindings: [g, idx, gx],
        inputShape,
        outHW: win.out,
        g,
        out: gx,
        indices: idx,
        threadsPerSample: c * h * w,
        workgroup: WG,
        params: windowWords(win),
      });
      return [gx];
    },
    [indices],
  );
  return { output, indices };
}

/** 2-D max pooling over NCHW input, as `torch.nn.functional.max_pool2d` (stride defaults to the kernel size). */
export function maxPool2d(x: Tensor, kernelSize: Pair, stride?: Pair | null, padding: Pair = 0): Tensor {
  const { output, indices } = maxPool2dWithIndices(x, kernelSize, stride, padding);
  indices.dispose();
  return output;
}
