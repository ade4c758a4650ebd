import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { recordOp, Tensor } from '../../tensor.js';
import {
  checkNchw,
  dispatchNchw,
  elementType,
  elementWgsl,
  inputPixelWgsl,
  NCHW_PARAMS,
  NCHW_WGSL,
  outputPixelWgsl,
  perElement,
} from '../pool/nchw.js';

const WG = 64;
const P = NCHW_PARAMS;

export type InterpolateMode = 'nearest' | 'bilinear';

export interface InterpolateOptions {
  /** Output [height, width] (or one number for both). Give exactly one of `size` and `scaleFactor`. */
  size?: number | readonly [number, number];
  /** Output = floor(input · scale) per dim; also sets the sampling step to 1/scale, as PyTorch does. */
  scaleFactor?: number | readonly [number, number];
  mode?: InterpolateMode;
  /** Bilinear only: align the corner pixels' centres (PyTorch's `align_corners`, default false). */
  alignCorners?: boolean;
}

// Parameters after the NCHW words: mode (0 nearest, 1 bilinear), alignCorners, then the f32 sampling steps
// (source pixels per output pixel) along h and w.
const SAMPLING_WGSL = /* wgsl */ `
fn bilinear() -> bool { return ui(${P}u) == 1u; }
fn alignCorners() -> bool { return ui(${P + 1}u) == 1u; }
// Where output o samples the source along an axis of S pixels with the given step.
fn srcCoord(o: u32, step: f32) -> f32 {
  if (alignCorners()) { return f32(o) * step; }
  return max((f32(o) + 0.5) * step - 0.5, 0.0);
}
fn nearestSrc(o: u32, step: f32, S: u32) -> u32 { return min(u32(floor(f32(o) * step)), S - 1u); }
// The weight source pixel i has in output o along one axis: the forward's sampling rule, read backwards.
fn axisWeight(o: u32, i: u32, step: f32, S: u32) -> f32 {
  if (!bilinear()) { return select(0.0, 1.0, nearestSrc(o, step, S) == i); }
  let s = srcCoord(o, step);
  let i0 = min(u32(floor(s)), S - 1u);
  let i1 = min(i0 + 1u, S - 1u);
  let l = s - f32(i0);
  return select(0.0, 1.0 - l, i0 == i) + select(0.0, l, i1 == i);
}
// A range of outputs that holds every output sampling source pixel i (a little wider; axisWeight sorts it out).
fn outRange(i: u32, step: f32, S: u32, O: u32) -> vec2<u32> {
  if (step <= 0.0) { return vec2<u32>(0u, O); }
  var a: f32;
  var b: f32;
  if (!bilinear()) {
    a = f32(i) / step;
    b = f32(i + 1u) / step;
  } else if (alignCorners()) {
    a = (f32(i) - 1.0) / step;
    b = (f32(i) + 1.0) / step;
  } else {
    a = (f32(i) - 0.5) / step - 0.5;
    b = (f32(i) + 1.5) / step - 0.5;
  }
  let lo = u32(clamp(floor(a) - 1.0, 0.0, f32(O)));
  var hi = u32(clamp(ceil(b) + 1.0, 0.0, f32(O)));
  if (i + 1u == S) { hi = O; }
  return vec2<u32>(lo, hi);
}
`;

const FORWARD = perElement(
  (E): Kernel => ({
    name: 'interpolate',
    bindings: ['read', 'read_write'],
    workgroupSize: WG,
    code: `${elementWgsl(E)}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${NCHW_WGSL}${SAMPLING_WGSL}
@group(0) @binding(1) var<storage, read> x: array<E>;
@group(0) @binding(2) var<storage, read_write> out: array<E>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
${outputPixelWgsl(WG)}
  let stepH = uf(${P + 2}u);
  let stepW = uf(${P + 3}u);
  if (!bilinear()) {
    out[outAt(i)] = E(f32(x[xAt(plane, nearestSrc(oh, stepH, H_()), nearestSrc(ow, stepW, W_()))]));
    return;
  }
  let sh = srcCoord(oh, stepH);
  let sw = srcCoord(ow, stepW);
  let h0 = min(u32(floor(sh)), H_() - 1u);
  let w0 = min(u32(floor(sw)), W_() - 1u);
  let h1 = min(h0 + 1u, H_() - 1u);
  let w1 = min(w0 + 1u, W_() - 1u);
  let lh = sh - f32(h0);
  let lw = sw - f32(w0);
  let top = (1.0 - lw) * f32(x[xAt(plane, h0, w0)]) + lw * f32(x[xAt(plane, h0, w1)]);
  let bottom = (1.0 - lw) * f32(x[xAt(plane, h1, w0)]) + lw * f32(x[xAt(plane, h1, w1)]);
  out[outAt(i)] = E((1.0 - lh) * top + lh * bottom);
}`,
  }),
);

// Each input pixel gathers from the outputs that sampled it, with the forward's weights: deterministic, no
// float atomics.
const BACKWARD = perElement(
  (E): Kernel => ({
    name: 'interpolate_backward',
    bindings: ['read', 'read_write'],
    workgroupSize: WG,
    code: `${elementWgsl(E)}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${NCHW_WGSL}${SAMPLING_WGSL}
@group(0) @binding(1) var<storage, read> g: array<E>;
@group(0) @binding(2) var<storage, read_write> gx: array<E>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
${inputPixelWgsl(WG)}
  let stepH = uf(${P + 2}u);
  let stepW = uf(${P + 3}u);
  let rows = outRange(h, stepH, H_(), OH_());
  let cols = outRange(w, stepW, W_(), OW_());
  var total = 0.0;
  for (var oh = rows.x; oh < rows.y; oh++) {
    let wh = axisWeight(oh, h, stepH, H_());
    if (wh == 0.0) { continue; }
    var row = 0.0;
    for (var ow = cols.x; ow < cols.y; ow++) {
      row += axisWeight(ow, w, stepW, W_()) * f32(g[gAt(plane, oh, ow)]);
    }
    total += wh * row;
  }
  gx[outAt(i)] = E(total);
}`,
  }),
);

function pairOf(v: number | readonly [number, number], what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((d) => Number.isFinite(d) && d > 0)) {
    throw new RangeError(`interpolate: ${what} must be positive, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Output size and sampling steps, following PyTorch's rules for `size`, `scale_factor` and `align_corners`. */
export function interpolateGeometry(
  inHW: readonly [number, number],
  options: InterpolateOptions,
): { out: [number, number]; steps: [number, number] } {
  const mode = options.mode ?? 'nearest';
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new RangeError('interpolate: give exactly one of size and scaleFactor');
  }
  if (mode !== 'nearest' && mode !== 'bilinear') {
    throw new RangeError(`interpolate: mode must be 'nearest' or 'bilinear', got ${JSON.stringify(mode)}`);
  }
  if (mode === 'nearest' && options.alignCorners !== undefined) {
    throw new RangeError('interpolate: alignCorners only applies to bilinear mode');
  }
  const scales = options.scaleFactor === undefined ? null : pairOf(options.scaleFactor, 'scaleFactor');
  const out: [number, number] = scales
    ? [Math.floor(inHW[0] * scales[0]), Math.floor(inHW[1] * scales[1])]
    : pairOf(options.size as number | [number, number], 'size');
  if (!out.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`interpolate: output size [${out}] must be positive integers`);
  }
  const steps = [0, 1].map((d) => {
    if (mode === 'bilinear' && options.alignCorners) return out[d] > 1 ? (inHW[d] - 1) / (out[d] - 1) : 0;
    return scales ? 1 / scales[d] : inHW[d] / out[d];
  }) as [number, number];
  return { out, steps };
}

/**
 * Resizes NCHW images as `torch.nn.functional.interpolate` with mode 'nearest' (source pixel
 * floor(dst · in / out)) or 'bilinear' (with or without `alignCorners`), to a `size` or by a `scaleFactor`.
 */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  checkNchw(x, 'interpolate');
  const [n, c, h, w] = x.shape;
  const { out: outHW, steps } = interpolateGeometry([h, w], options);
  const params = [
    options.mode === 'bilinear' ? 1 : 0,
    options.alignCorners ? 1 : 0,
    { f: steps[0] },
    { f: steps[1] },
  ];
  const out = Tensor.empty([n, c, ...outHW], x.dtype);
  dispatchNchw({
    kernel: FORWARD(elementType(x)),
    bindings: [x, out],
    inputShape: x.shape,
    outHW,
    x,
    out,
    threadsPerSample: c * outHW[0] * outHW[1],
    workgroup: WG,
    params,
  });
  const inputShape = x.shape;
  return recordOp('interpolate', out, [x], (g) => {
    const gx = Tensor.empty(inputShape, g.dtype);
    dispatchNchw({
      kernel: BACKWARD(elementType(g)),
      bindings: [g, gx],
      inputShape,
      outHW,
      g,
      out: gx,
      threadsPerSample: c * h * w,
      workgroup: WG,
      params,
    });
    return [gx];
  });
}
