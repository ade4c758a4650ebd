import { WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL, type UniformValue } from '../../engine/kernel.js';
import { formatShape, numel } from '../../shape.js';
import { recordOp, Tensor } from '../../tensor.js';
import { fill_ } from '../creation.js';
import { fitsWhole } from '../elementwise/binding-range.js';
import { MAX_RANK } from '../elementwise/map-kernel.js';
import { copyInto } from '../join/copy.js';

const WG = 256;

/**
 * One thread per output element: it maps its coordinates back into the input (minus the leading pad of each
 * dim) and copies the element, or writes the pad value where that falls outside.
 */
function padKernel(type: string): Kernel {
  const f16 = type === 'f16' ? 'enable f16;\n' : '';
  const value =
    type === 'f32' || type === 'f16' ? `${type}(uf(26u))` : type === 'i32' ? 'usi(26u)' : 'ui(26u)';
  return {
    name: 'pad',
    bindings: ['read', 'read_write'],
    workgroupSize: WG,
    code: `${f16}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
@group(0) @binding(1) var<storage, read> x: array<${type}>;
@group(0) @binding(2) var<storage, read_write> out: array<${type}>;
// words: 0 n, 1 x offset, 2..7 out shape, 8..13 leading pad (i32), 14..19 x shape, 20..25 x strides, 26 value
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${WG}u);
  if (i >= ui(0u)) { return; }
  var rem = i;
  var src = ui(1u);
  var inside = true;
  for (var dd = 0u; dd < ${MAX_RANK}u; dd++) {
    let d = ${MAX_RANK - 1}u - dd;
    let s = ui(2u + d);
    let c = i32(rem % s) - usi(8u + d);
    rem = rem / s;
    inside = inside && c >= 0 && c < i32(ui(14u + d));
    src += u32(max(c, 0)) * ui(20u + d);
  }
  if (inside) { out[i] = x[src]; } else { out[i] = ${value}; }
}`,
  };
}

const kernels = new Map<string, Kernel>();

function padFront(values: readonly number[], fill: number): number[] {
  return [...new Array<number>(MAX_RANK - values.length).fill(fill), ...values];
}

/** Pads per dim, first dim first: [before, after] pairs from PyTorch's last-dim-first list. */
function perDim(x: Tensor, pads: readonly number[]): [number[], number[]] {
  if (pads.length % 2 !== 0 || pads.length > 2 * x.ndim) {
    throw new RangeError(
      `pad of ${x}: needs an even number of pads, at most two per dim (${2 * x.ndim}), got [${pads}]`,
    );
  }
  if (pads.some((p) => !Number.isInteger(p)))
    throw new RangeError(`pad of ${x}: pads [${pads}] must be integers`);
  const before = new Array<number>(x.ndim).fill(0);
  const after = new Array<number>(x.ndim).fill(0);
  for (let k = 0; k < pads.length / 2; k++) {
    before[x.ndim - 1 - k] = pads[2 * k];
    after[x.ndim - 1 - k] = pads[2 * k + 1];
  }
  return [before, after];
}

/** Where the input's surviving block sits in the output: its shape and start in each. */
function overlap(inShape: readonly number[], outShape: readonly number[], before: readonly number[]) {
  const srcStart = before.map((b) => Math.max(0, -b));
  const dstStart = before.map((b) => Math.max(0, b));
  const shape = inShape.map((s, d) => Math.max(0, Math.min(s - srcStart[d], outShape[d] - dstStart[d])));
  return { shape, srcStart, dstStart };
}

function startOffset(t: Tensor, start: readonly number[]): number {
  return t.offset + start.reduce((o, s, d) => o + s * t.strides[d], 0);
}

/**
 * Constant padding, like `torch.nn.functional.pad(x, pads, value=value)`: `pads` lists (before, after) for the
 * last dim, then the one before it, and so on. Negative pads crop. The gradient is the matching window of the
 * output's gradient (a view when nothing was cropped).
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  x.assertAlive();
  const [before, after] = perDim(x, pads);
  const shape = x.shape.map((s, d) => s + before[d] + after[d]);
  if (shape.some((s) => s < 0)) {
    throw new RangeError(
      `pad of ${x} (shape ${formatShape(x.shape)}) by [${pads}] gives shape ${formatShape(shape)}`,
    );
  }
  if (shape.length > MAX_RANK) throw new RangeError(`pad of ${x}: rank > ${MAX_RANK} is not supported`);
  const out = Tensor.empty(shape, x.dtype);
  const engine = getEngine();
  const n = numel(shape);
  if (n > 0 && fitsWhole(engine, x.storage.buffer) && fitsWhole(engine, out.storage.buffer)) {
    const type = WGSL_TYPE[x.dtype];
    let kernel = kernels.get(type);
    if (!kernel) {
      kernel = padKernel(type);
      kernels.set(type, kernel);
    }
    const word: UniformValue =
      x.dtype === 'float32' || x.dtype === 'float16'
        ? { f: value }
        : x.dtype === 'int32'
          ? { i: value }
          : value;
    engine.dispatch(
      kernel,
      [x.storage.buffer, out.storage.buffer],
      [
        n,
        x.offset,
        ...padFront(shape, 1),
        ...padFront(before, 0).map((b) => ({ i: b })),
        ...padFront(x.shape, 1),
        ...padFront(x.strides, 0),
        word,
      ],
      engine.grid(n, WG),
    );
  } else if (n > 0) {
    // Too large to bind whole: fill, then copy the surviving block; both kernels split their bindings.
    fill_(out, value);
    const o = overlap(x.shape, shape, before);
    if (numel(o.shape) > 0) {
      const src = x.asView(o.shape, x.strides, startOffset(x, o.srcStart));
      const dst = out.asView(o.shape, out.strides, startOffset(out, o.dstStart));
      copyInto(src, dst);
      src.dispose();
      dst.dispose();
    }
  }
  const inShape = x.shape;
  return recordOp('pad', out, [x], (g) => {
    if (before.every((b) => b >= 0) && after.every((a) => a >= 0)) {
      return [g.asView(inShape, g.strides, startOffset(g, before))];
    }
    return [
      pad(
        g,
        pads.map((p) => -p),
        0,
      ),
    ];
  });
}
