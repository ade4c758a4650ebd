import { getEngine } from '../../engine/engine.js';
import { type Kernel, UNIFORMS_WGSL, type UniformValue } from '../../engine/kernel.js';
import { U } from './gemm-kernel.js';

/**
 * Depthwise convolution as a sliding window down a column strip. On lavapipe a workgroup's lanes run as SIMD
 * batches and a buffer load whose address differs per lane is a loop over the lanes, the same cost whether it
 * fetches one float or a vec4; a load whose address is the same for every lane is one scalar load. So:
 *  - a workgroup serves one channel of one image, which makes every weight load uniform (and cheap);
 *  - a lane owns `cols` adjacent output columns over `rows` output rows and reads each input row of its strip
 *    once, as aligned vec4s when the row layout allows, feeding every output row whose window covers it;
 *  - an output row is stored (as vec4s when aligned) right after its last input row, so only about kh rows of
 *    accumulators are live at once.
 * The same kernel computes the input gradient of a stride-1 depthwise convolution: that is a correlation of dy
 * with the flipped filter (`flip`), padded by (k-1)·dilation minus the forward padding.
 */
export interface DepthwiseRowsShape {
  kh: number;
  kw: number;
  stride: [number, number];
  dilation: [number, number];
  /** Left padding, compiled in so that each tap's column is a fixed register. */
  padLeft: number;
  /** Read the filter rotated by 180° (input gradient). */
  flip: boolean;
  /** Output rows are 4-aligned and contiguous: store vec4s. */
  vecOut: boolean;
  hasBias: boolean;
  /** Storage element type; arithmetic is f32 either way. */
  element: 'f32' | 'f16';
}

/**
 * Output columns per lane, lanes per workgroup and the most output rows per lane. Measured on lavapipe (5×5,
 * C=336, 2×64², same process): 8 columns beat 16 by 1.6×; 16 lanes × 32 rows beat 8 lanes × 64 rows by 1.2×, and
 * 8 lanes × 16 rows by 1.8× (more halo rows re-read). 8×8 blocks fully unrolled instead of the row loop ran 1.8×
 * slower and took 30-120 s to compile.
 */
export const depthwiseRowsTuning = { cols: 8, lanes: 16, maxRows: 32 };

/**
 * Output rows per lane for an outH×outW plane: as many as keep every lane of a workgroup busy (a plane is one
 * workgroup's work, and idle lanes cost as much as busy ones), up to maxRows; a multiple of the row stride, which
 * the scatter kernel steps by. On 32² planes 8 rows ran 6× faster than 32 (4 busy lanes of 16).
 */
export function rowsPerLane(outH: number, outW: number, strideH: number): number {
  const { cols, lanes, maxRows } = depthwiseRowsTuning;
  const strips = Math.ceil(outW / cols);
  let rows = maxRows;
  while (rows > 2 && strips * Math.ceil(outH / rows) < lanes) rows /= 2;
  return Math.max(rows, strideH);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const COMPONENT = ['x', 'y', 'z', 'w'];

export function depthwiseRowsKey(s: DepthwiseRowsShape): string {
  return [
    `${s.kh}x${s.kw}`,
    `s${s.stride.join('x')}`,
    `d${s.dilation.join('x')}`,
    `p${s.padLeft}`,
    s.flip ? 'flip' : '',
    s.vecOut ? 'v4out' : '',
    s.hasBias ? 'bias' : '',
    s.element,
  ].join('_');
}

/**
 * Uniform layout (conv's U block): the kernel reads its input at bOffset with bStrides over an inH×inW plane
 * and writes an outH×outW plane at outOffset, densely. Forward: in = x (h×w), out = y (oh×ow). Input gradient:
 * in = dy (oh×ow), out = dx (h×w). The weight is at aOffset/aStrides; `n` holds the lanes per plane.
 * padTop is read at run time (it only shifts which rows are in range); padLeft is compiled in.
 */
export function depthwiseRowsKernel(s: DepthwiseRowsShape): Kernel {
  const [sh, sw] = s.stride;
  const [dh, dw] = s.dilation;
  if (dh !== 1) throw new Error(`depthwise rows kernel: vertical dilation ${dh} is not supported`);
  const { cols, lanes } = depthwiseRowsTuning;
  // Column of this lane's first output, relative to a 4-aligned start a0 = ox0·sw - 4q with 4q ≥ padLeft.
  const q = Math.ceil(s.padLeft / 4);
  const first = 4 * q - s.padLeft;
  const last = first + (cols - 1) * sw + (s.kw - 1) * dw;
  const vecs = Math.floor(last / 4) + 1;
  // Step i reads input rows i·sh … i·sh + sh - 1; slot m then holds output row i - m, and the row in the last
  // slot has seen all kh of its input rows.
  const slots = Math.floor((s.kh - 1) / sh) + 1;
  const el = s.element;
  const v4 = (e: string) => (el === 'f32' ? e : `vec4<f32>(${e})`);
  const f = (e: string) => (el === 'f32' ? e : `f32(${e})`);
  const dims = s.flip
    ? { inH: U.oh, inW: U.ow, outH: U.h, outW: U.w }
    : { inH: U.h, inW: U.w, outH: U.oh, outW: U.ow };
  // A flipped filter reads tap (ky, kx) from weight (kh-1-ky, kw-1-kx).
  const wy = (ky: number) => (s.flip ? s.kh - 1 - ky : ky);
  const wx = (kx: number) => (s.flip ? s.kw - 1 - kx : kx);
  const weights = range(s.kh)
    .flatMap((ky) =>
      range(s.kw).map(
        (kx) =>
          `  let w${ky}_${kx} = ${f(`weight[wBase + ${wy(ky)}u * ui(${U.aStrides + 2}u) + ${wx(kx)}u * ui(${U.aStrides + 3}u)]`)};`,
      ),
    )
    .join('\n');
  // Element i of the loaded row span (column a0 + i).
  const elem = (i: number) => `v${Math.floor(i / 4)}.${COMPONENT[i % 4]}`;
  const phases = range(sh)
    .map((p) => {
      const uses = range(slots).filter((m) => m * sh + p < s.kh);
      if (uses.length === 0) return '';
      const loads = range(vecs)
        .map(
          (j) =>
            `      let v${j} = select(vec4<f32>(), ${v4(`x4[(row + u32(clamp(a0 + ${4 * j}, 0, IW - 4))) / 4u]`)}, okRow && a0 + ${4 * j} >= 0 && a0 + ${4 * j} < IW);`,
        )
        .join('\n');
      const fmas = uses
        .flatMap((m) =>
          range(s.kw).flatMap((kx) =>
            range(cols).map(
              (c) =>
                `      acc${m}_${c} = fma(w${m * sh + p}_${kx}, ${elem(first + c * sw + kx * dw)}, acc${m}_${c});`,
            ),
          ),
        )
        .join('\n');
      return `    {
      let iy = iy0 + i32(i * ${sh}u) + ${p};
      let okRow = iy >= 0 && iy < IH;
      let row = rowBase + u32(clamp(iy, 0, IH - 1)) * XH;
${loads}
${fmas}
    }`;
    })
    .join('\n');
  const done = slots - 1;
  const store = s.vecOut
    ? range(cols / 4)
        .map(
          (j) =>
            `      if (ox0 + ${4 * j}u < OW) { out4[(o + ox0 + ${4 * j}u) / 4u] = vec4<${el}>(${range(4)
              .map((c) => `acc${done}_${4 * j + c}`)
              .join(', ')}); }`,
        )
        .join('\n')
    : range(cols)
        .map((c) => `      if (ox0 + ${c}u < OW) { out[o + ox0 + ${c}u] = ${el}(acc${done}_${c}); }`)
        .join('\n');
  const rotate = range(slots - 1)
    .reverse()
    .flatMap((m) => range(cols).map((c) => `    acc${m + 1}_${c} = acc${m}_${c};`))
    .concat(range(cols).map((c) => `    acc0_${c} = b0;`))
    .join('\n');
  const enable = el === 'f16' ? 'enable f16;\n' : '';
  const outBinding = s.hasBias ? 4 : 3;
  const outDecl = s.vecOut
    ? `@group(0) @binding(${outBinding}) var<storage, read_write> out4: array<vec4<${el}>>;`
    : `@group(0) @binding(${outBinding}) var<storage, read_write> out: array<${el}>;`;
  const code = `${enable}${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> weight: array<${el}>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<${el}>>;
${s.hasBias ? `@group(0) @binding(3) var<storage, read> bias: array<${el}>;` : ''}
${outDecl}

@compute @workgroup_size(${lanes})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let idx = wid.x * ${lanes}u + lid.x;
  if (idx >= ui(${U.n}u)) { return; }
  let IH = i32(ui(${dims.inH}u));
  let IW = i32(ui(${dims.inW}u));
  let OH = ui(${dims.outH}u);
  let OW = ui(${dims.outW}u);
  let strips = (OW + ${cols - 1}u) / ${cols}u;
  let ox0 = (idx % strips) * ${cols}u;
  let rows = ui(${U.kChunk}u);
  let oy0 = (idx / strips) * rows;
  let count = min(rows, OH - oy0);
  // One channel of one image per workgroup (y, z): weight and bias loads are then the same for every lane.
  let c = wid.y;
  let b = wid.z;
  let planes = ui(${s.flip ? U.cIn : U.cOut}u);
  let ci = ${s.flip ? 'c' : `c / ui(${U.cOutG}u)`};
  let XH = ui(${U.bStrides + 2}u);
  let rowBase = ui(${U.bOffset}u) + b * ui(${U.bStrides}u) + ci * ui(${U.bStrides + 1}u);
  let iy0 = i32(oy0 * ${sh}u) - ${s.flip ? `(${s.kh - 1} - usi(${U.padTop}u))` : `usi(${U.padTop}u)`};
  let a0 = i32(ox0 * ${sw}u) - ${4 * q};
  let wBase = ui(${U.aOffset}u) + c * ui(${U.aStrides}u);
${weights}
  let b0 = ${s.hasBias ? f(`bias[ui(${U.biasOffset}u) + c * ui(${U.biasStride}u)]`) : '0.0'};
${range(slots)
  .flatMap((m) => range(cols).map((c) => `  var acc${m}_${c} = b0;`))
  .join('\n')}
  let plane = ui(${U.outOffset}u) + (b * planes + c) * OH * OW;
  for (var i = 0u; i < count + ${done}u; i++) {
${phases}
    if (i >= ${done}u) {
      let o = plane + (oy0 + i - ${done}u) * OW;
${store}
    }
${rotate}
  }
}`;
  return {
    name: `conv2d_depthwise_rows_${depthwiseRowsKey(s)}`,
    code,
    bindings: s.hasBias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'],
  };
}

const kernels = new Map<string, Kernel>();

/** Whether an N×C×H×W operand's rows can be read or written as aligned vec4s from element `offset` on. */
export function rowsAligned(shape: readonly number[], strides: readonly number[], offset: number): boolean {
  return (
    shape[3] % 4 === 0 &&
    strides[3] === 1 &&
    strides[2] === shape[3] &&
    strides[1] % 4 === 0 &&
    (shape[0] === 1 || strides[0] % 4 === 0) &&
    offset % 4 === 0
  );
}

/**
 * Records a depthwise forward (or, with `flip`, a stride-1 input gradient) over `batch` images of `planes`
 * channels whose output planes are outH×outW. `u` is the conv uniform block with `n` left for this function.
 */
export function dispatchDepthwiseRows(
  s: DepthwiseRowsShape,
  buffers: (GPUBuffer | GPUBufferBinding)[],
  u: UniformValue[],
  plane: { batch: number; planes: number; outH: number; outW: number },
): void {
  const { cols, lanes: wg } = depthwiseRowsTuning;
  const key = `${depthwiseRowsKey(s)}_${cols}x${wg}`;
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = depthwiseRowsKernel(s);
    kernels.set(key, kernel);
  }
  const rows = rowsPerLane(plane.outH, plane.outW, s.stride[0]);
  const lanes = Math.ceil(plane.outH / rows) * Math.ceil(plane.outW / cols);
  u[U.n] = lanes;
  u[U.kChunk] = rows;
  getEngine().dispatch(kernel, buffers, u, [Math.ceil(lanes / wg), plane.planes, plane.batch]);
}

/**
 * Weight gradient of a depthwise convolution, dW[c, ky, kx] = Σ_{b, oy, ox} dy[b, c, oy, ox] ·
 * x[b, ci, oy·sh + ky - padTop, ox·sw + kx·dw - padLeft]. A workgroup owns one channel of one image; a lane
 * slides a column strip (`cols` outputs wide) down the plane like the forward kernel, keeping the dy rows of the
 * last few output rows in registers, so each input row and each dy row is read once (as vec4s) and feeds
 * kh·kw·cols multiply-adds into kh·kw register sums. The lanes' sums meet in workgroup memory; the images'
 * partial sums (out[b][c][ky·kw + kx]) are added by the caller. Uniforms: dy at aOffset/aStrides, x at
 * bOffset/bStrides, strips·row blocks per plane in `n`.
 */
export function depthwiseRowsGradWeightKernel(
  s: Omit<DepthwiseRowsShape, 'flip' | 'vecOut' | 'hasBias'>,
): Kernel {
  const [sh, sw] = s.stride;
  const [dh, dw] = s.dilation;
  if (dh !== 1) throw new Error(`depthwise rows kernel: vertical dilation ${dh} is not supported`);
  const { cols, lanes } = depthwiseRowsTuning;
  const kk = s.kh * s.kw;
  const q = Math.ceil(s.padLeft / 4);
  const first = 4 * q - s.padLeft;
  const last = first + (cols - 1) * sw + (s.kw - 1) * dw;
  const vecs = Math.floor(last / 4) + 1;
  const slots = Math.floor((s.kh - 1) / sh) + 1;
  const el = s.element;
  const v4 = (e: string) => (el === 'f32' ? e : `vec4<f32>(${e})`);
  const elem = (i: number) => `v${Math.floor(i / 4)}.${COMPONENT[i % 4]}`;
  const g = (m: number, c: number) => `g${m}_${Math.floor(c / 4)}.${COMPONENT[c % 4]}`;
  const phases = range(sh)
    .map((p) => {
      const uses = range(slots).filter((m) => m * sh + p < s.kh);
      if (uses.length === 0) return '';
      const loads = range(vecs)
        .map(
          (j) =>
            `        let v${j} = select(vec4<f32>(), ${v4(`x4[(row + u32(clamp(a0 + ${4 * j}, 0, IW - 4))) / 4u]`)}, okRow && a0 + ${4 * j} >= 0 && a0 + ${4 * j} < IW);`,
        )
        .join('\n');
      const fmas = uses
        .flatMap((m) =>
          range(s.kw).map((kx) => {
            const k = (m * sh + p) * s.kw + kx;
            const terms = range(cols).map((c) => `${g(m, c)} * ${elem(first + c * sw + kx * dw)}`);
            return `        acc${k} += ${terms.join(' + ')};`;
          }),
        )
        .join('\n');
      return `      {
        let iy = iy0 + i32(i * ${sh}u) + ${p};
        let okRow = iy >= 0 && iy < IH;
        let row = xBase + u32(clamp(iy, 0, IH - 1)) * XH;
${loads}
${fmas}
      }`;
    })
    .join('\n');
  const rotate = range(slots - 1)
    .reverse()
    .flatMap((m) => range(cols / 4).map((j) => `      g${m + 1}_${j} = g${m}_${j};`))
    .join('\n');
  const loadDy = range(cols / 4)
    .map(
      (j) =>
        `      g0_${j} = select(vec4<f32>(), ${v4(`dy4[(dyRow + ox0 + ${4 * j}u) / 4u]`)}, i < count && ox0 + ${4 * j}u < OW);`,
    )
    .join('\n');
  const code = `${el === 'f16' ? 'enable f16;\n' : ''}${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> dy4: array<vec4<${el}>>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<${el}>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> red: array<f32, ${kk * lanes}>;

@compute @workgroup_size(${lanes})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x;
  let b = wid.y;
  let IH = i32(ui(${U.h}u));
  let IW = i32(ui(${U.w}u));
  let OH = ui(${U.oh}u);
  let OW = ui(${U.ow}u);
  let XH = ui(${U.bStrides + 2}u);
  let DH = ui(${U.aStrides + 2}u);
  let strips = (OW + ${cols - 1}u) / ${cols}u;
  let rows = ui(${U.kChunk}u);
  let ci = c / ui(${U.cOutG}u);
  let xBase = ui(${U.bOffset}u) + b * ui(${U.bStrides}u) + ci * ui(${U.bStrides + 1}u);
  let dyBase = ui(${U.aOffset}u) + b * ui(${U.aStrides}u) + c * ui(${U.aStrides + 1}u);
${range(kk)
  .map((k) => `  var acc${k} = 0.0;`)
  .join('\n')}
  for (var item = lid.x; item < ui(${U.n}u); item += ${lanes}u) {
    let ox0 = (item % strips) * ${cols}u;
    let oy0 = (item / strips) * rows;
    let count = min(rows, OH - oy0);
    let iy0 = i32(oy0 * ${sh}u) - usi(${U.padTop}u);
    let a0 = i32(ox0 * ${sw}u) - ${4 * q};
${range(slots)
  .flatMap((m) => range(cols / 4).map((j) => `    var g${m}_${j} = vec4<f32>();`))
  .join('\n')}
    for (var i = 0u; i < count + ${slots - 1}u; i++) {
${rotate}
      let dyRow = dyBase + min(oy0 + i, OH - 1u) * DH;
${loadDy}
${phases}
    }
  }
${range(kk)
  .map((k) => `  red[${k}u * ${lanes}u + lid.x] = acc${k};`)
  .join('\n')}
  workgroupBarrier();
  for (var k = lid.x; k < ${kk}u; k += ${lanes}u) {
    var sum = 0.0;
    for (var l = 0u; l < ${lanes}u; l++) { sum += red[k * ${lanes}u + l]; }
    out[ui(${U.outOffset}u) + (b * ui(${U.cOut}u) + c) * ${kk}u + k] = sum;
  }
}`;
  return {
    name: `conv2d_depthwise_rows_dw_${depthwiseRowsKey({ ...s, flip: false, vecOut: false, hasBias: false })}`,
    code,
    bindings: ['read', 'read', 'read_write'],
  };
}

/** Records the per-image weight-gradient partials of a depthwise convolution into `partial` (batch × Cout × kh·kw). */
export function dispatchDepthwiseRowsGradWeight(
  s: Omit<DepthwiseRowsShape, 'flip' | 'vecOut' | 'hasBias'>,
  buffers: (GPUBuffer | GPUBufferBinding)[],
  u: UniformValue[],
  plane: { batch: number; channels: number; outH: number; outW: number },
): void {
  const { cols, lanes } = depthwiseRowsTuning;
  const key = `dw:${depthwiseRowsKey({ ...s, flip: false, vecOut: false, hasBias: false })}_${cols}x${lanes}`;
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = depthwiseRowsGradWeightKernel(s);
    kernels.set(key, kernel);
  }
  const rows = rowsPerLane(plane.outH, plane.outW, s.stride[0]);
  u[U.n] = Math.ceil(plane.outH / rows) * Math.ceil(plane.outW / cols);
  u[U.kChunk] = rows;
  getEngine().dispatch(kernel, buffers, u, [plane.channels, plane.batch, 1]);
}

/** Shape of the strided input-gradient kernel: both paddings are compiled in, dilation is 1. */
export interface DepthwiseScatterShape {
  kh: number;
  kw: number;
  stride: [number, number];
  padTop: number;
  padLeft: number;
  vecOut: boolean;
  element: 'f32' | 'f16';
}

/** Python's floor modulo, so that negative offsets land in [0, m). */
const mod = (a: number, m: number) => ((a % m) + m) % m;

/**
 * Input gradient of a strided depthwise convolution (multiplier 1, dilation 1) in scatter form: a lane owns a
 * strip of `cols` dx columns over `rows` dx rows and walks the dy rows that reach it. dy row oy adds
 * w[ky][kx]·dy[oy][ox] into dx row oy·sh + ky - padTop, column ox·sw + kx - padLeft; since the strip starts on a
 * multiple of the stride, which dy column and which tap meet in which dx column is fixed at compile time. After
 * each dy row the first sh dx rows of the ring are complete and stored. Uniforms: dy at bOffset/bStrides, the
 * weight at aOffset/aStrides, lanes per plane in `n`.
 */
export function depthwiseScatterKernel(s: DepthwiseScatterShape): Kernel {
  const [sh, sw] = s.stride;
  const { cols, lanes } = depthwiseRowsTuning;
  if (cols % (4 * sw) !== 0)
    throw new Error(`depthwise scatter kernel: ${cols}-column strips do not tile stride ${sw}`);
  const el = s.element;
  const v4 = (e: string) => (el === 'f32' ? e : `vec4<f32>(${e})`);
  const f = (e: string) => (el === 'f32' ? e : `f32(${e})`);
  // Rows: step i reads dy row oyS + i, whose tap ky lands on strip row i·sh + offR + ky.
  const rmR = mod(s.padTop - s.kh + 1, sh);
  const offR = -(s.kh - 1) - rmR;
  const ring = Math.ceil(s.kh / sh) * sh;
  // Columns: dy column oxS + j lands (tap kx) on strip column j·sw + offC + kx.
  const rmC = mod(s.padLeft - s.kw + 1, sw);
  const offC = -(s.kw - 1) - rmC;
  const c0 = (s.padLeft - s.kw + 1 - rmC) / sw;
  const alignC = 4 * Math.floor(c0 / 4);
  const first = c0 - alignC;
  const span = Math.ceil((cols - offC) / sw);
  const vecs = Math.floor((first + span - 1) / 4) + 1;
  const elem = (i: number) => `v${Math.floor(i / 4)}.${COMPONENT[i % 4]}`;
  const weights = range(s.kh)
    .flatMap((ky) =>
      range(s.kw).map(
        (kx) =>
          `  let w${ky}_${kx} = ${f(`weight[wBase + ${ky}u * ui(${U.aStrides + 2}u) + ${kx}u * ui(${U.aStrides + 3}u)]`)};`,
      ),
    )
    .join('\n');
  const loads = range(vecs)
    .map(
      (j) =>
        `      let v${j} = select(vec4<f32>(), ${v4(`dy4[(row + u32(clamp(a0 + ${4 * j}, 0, IW - 4))) / 4u]`)}, okRow && a0 + ${4 * j} >= 0 && a0 + ${4 * j} < IW);`,
    )
    .join('\n');
  const fmas: string[] = [];
  for (let ky = 0; ky < s.kh; ky++) {
    for (let j = 0; j < span; j++) {
      for (let kx = 0; kx < s.kw; kx++) {
        const col = j * sw + offC + kx;
        if (col < 0 || col >= cols) continue;
        fmas.push(`      acc${ky}_${col} = fma(w${ky}_${kx}, ${elem(first + j)}, acc${ky}_${col});`);
      }
    }
  }
  const stores = range(sh)
    .map((j) => {
      const body = s.vecOut
        ? range(cols / 4)
            .map(
              (g) =>
                `        if (ox0 + ${4 * g}u < OW) { out4[(o + ox0 + ${4 * g}u) / 4u] = vec4<${el}>(${range(4)
                  .map((c) => `acc${j}_${4 * g + c}`)
                  .join(', ')}); }`,
            )
            .join('\n')
        : range(cols)
            .map((c) => `        if (ox0 + ${c}u < OW) { out[o + ox0 + ${c}u] = ${el}(acc${j}_${c}); }`)
            .join('\n');
      return `      {
        let rel = i32(i * ${sh}u) + ${offR + j};
        if (rel >= 0 && rel < i32(count)) {
          let o = plane + (oy0 + u32(rel)) * OW;
${body}
        }
      }`;
    })
    .join('\n');
  const rotate = range(ring)
    .flatMap((m) =>
      range(cols).map((c) =>
        m + sh < ring ? `    acc${m}_${c} = acc${m + sh}_${c};` : `    acc${m}_${c} = 0.0;`,
      ),
    )
    .join('\n');
  const outDecl = s.vecOut
    ? `@group(0) @binding(3) var<storage, read_write> out4: array<vec4<${el}>>;`
    : `@group(0) @binding(3) var<storage, read_write> out: array<${el}>;`;
  const code = `${el === 'f16' ? 'enable f16;\n' : ''}${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> weight: array<${el}>;
@group(0) @binding(2) var<storage, read> dy4: array<vec4<${el}>>;
${outDecl}

@compute @workgroup_size(${lanes})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let idx = wid.x * ${lanes}u + lid.x;
  if (idx >= ui(${U.n}u)) { return; }
  let IH = i32(ui(${U.oh}u));
  let IW = i32(ui(${U.ow}u));
  let OH = ui(${U.h}u);
  let OW = ui(${U.w}u);
  let strips = (OW + ${cols - 1}u) / ${cols}u;
  let ox0 = (idx % strips) * ${cols}u;
  let rows = ui(${U.kChunk}u);
  let oy0 = (idx / strips) * rows;
  let count = min(rows, OH - oy0);
  let c = wid.y;
  let b = wid.z;
  let DH = ui(${U.bStrides + 2}u);
  let rowBase = ui(${U.bOffset}u) + b * ui(${U.bStrides}u) + c * ui(${U.bStrides + 1}u);
  // First dy row and (4-aligned) dy column whose taps reach this strip.
  let oyS = (i32(oy0) + ${s.padTop - s.kh + 1 - rmR}) / ${sh};
  let a0 = i32(ox0 / ${sw}u) + ${alignC};
  let wBase = ui(${U.aOffset}u) + c * ui(${U.aStrides}u);
${weights}
${range(ring)
  .flatMap((m) => range(cols).map((col) => `  var acc${m}_${col} = 0.0;`))
  .join('\n')}
  let plane = ui(${U.outOffset}u) + (b * ui(${U.cIn}u) + c) * OH * OW;
  let steps = (count + ${sh - 1 - offR}u) / ${sh}u;
  for (var i = 0u; i < steps; i++) {
    {
      let iy = oyS + i32(i);
      let okRow = iy >= 0 && iy < IH;
      let row = rowBase + u32(clamp(iy, 0, IH - 1)) * DH;
${loads}
${fmas.join('\n')}
    }
${stores}
${rotate}
  }
}`;
  const key = `${s.kh}x${s.kw}_s${sh}x${sw}_p${s.padTop}x${s.padLeft}_${s.vecOut ? 'v4out' : ''}_${el}`;
  return { name: `conv2d_depthwise_scatter_${key}`, code, bindings: ['read', 'read', 'read_write'] };
}

/** Records a strided depthwise input gradient (see {@link depthwiseScatterKernel}). */
export function dispatchDepthwiseScatter(
  s: DepthwiseScatterShape,
  buffers: (GPUBuffer | GPUBufferBinding)[],
  u: UniformValue[],
  plane: { batch: number; channels: number; h: number; w: number },
): void {
  const { cols, lanes } = depthwiseRowsTuning;
  const key = `scatter:${JSON.stringify(s)}:${cols}x${lanes}`;
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = depthwiseScatterKernel(s);
    kernels.set(key, kernel);
  }
  const rows = rowsPerLane(plane.h, plane.w, s.stride[0]);
  const n = Math.ceil(plane.h / rows) * Math.ceil(plane.w / cols);
  u[U.n] = n;
  u[U.kChunk] = rows;
  getEngine().dispatch(kernel, buffers, u, [Math.ceil(n / lanes), plane.channels, plane.batch]);
}
