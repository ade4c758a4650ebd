import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { U } from './gemm-kernel.js';

/**
 * Depthwise convolution (one input channel per group, `multiplier` output channels each) has too little reuse
 * for a GEMM: each output is a kh·kw dot product. These kernels compile the kernel size, stride and dilation in,
 * so the taps unroll into straight-line code over registers.
 */
export interface DepthwiseShape {
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
}

/** Output pixels along a row that one thread computes; neighbours share most of their input. */
export const DEPTHWISE_ROW = 4;
export const DEPTHWISE_WG = 64;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** `+ n` or `- n`, so generated WGSL never reads `x + -n`. */
const signed = (n: number) => (n < 0 ? `- ${-n}` : `+ ${n}`);

function shapeKey(s: DepthwiseShape): string {
  return `${s.kh}x${s.kw}_s${s.strideH}x${s.strideW}_d${s.dilationH}x${s.dilationW}`;
}

/**
 * Forward register block: a thread computes DEPTHWISE_FWD_ROWS × DEPTHWISE_FWD_COLS outputs of one channel. On
 * lavapipe every buffer load runs lane by lane, so loads per multiply-add decide the speed: the block reads each
 * input pixel of its (rows + kh - 1) × (cols + kw - 1) window once (for 5×5 at 4×8, 96 loads feed 800 FMAs
 * where a 1×4 strip needs 40 loads for 100), and the kh·kw weights once.
 */
export const DEPTHWISE_FWD_ROWS = 4;
export const DEPTHWISE_FWD_COLS = 8;

/**
 * Forward: the thread walks the input rows its block touches; each row is loaded once into registers and feeds
 * every output row whose window covers it. Uniforms: x at bOffset/bStrides, weight at aOffset/aStrides, work
 * items (blocks per channel) in `n`.
 */
export function depthwiseForwardKernel(s: DepthwiseShape, hasBias: boolean): Kernel {
  const tr = DEPTHWISE_FWD_ROWS;
  const tc = DEPTHWISE_FWD_COLS;
  const span = (tc - 1) * s.strideW + (s.kw - 1) * s.dilationW + 1;
  const inRows = (tr - 1) * s.strideH + (s.kh - 1) * s.dilationH + 1;
  const weights = range(s.kh)
    .flatMap((ky) =>
      range(s.kw).map(
        (kx) =>
          `  let w${ky}_${kx} = weight[wBase + ${ky}u * ui(${U.aStrides + 2}u) + ${kx}u * ui(${U.aStrides + 3}u)];`,
      ),
    )
    .join('\n');
  const rows = range(inRows)
    .map((r) => {
      // Output rows t whose kernel row ky = (r - t·strideH) / dilationH lands on this input row.
      const uses = range(tr).flatMap((t) => {
        const d = r - t * s.strideH;
        if (d < 0 || d % s.dilationH !== 0 || d / s.dilationH >= s.kh) return [];
        return [{ t, ky: d / s.dilationH }];
      });
      if (uses.length === 0) return '';
      const loads = range(span)
        .map(
          (c) =>
            `      var x${c} = 0.0;\n      if (ix0 + ${c} >= 0 && ix0 + ${c} < W) { x${c} = x[row + u32(ix0 + ${c}) * XS]; }`,
        )
        .join('\n');
      const fmas = uses
        .flatMap(({ t, ky }) =>
          range(s.kw).flatMap((kx) =>
            range(tc).map(
              (c) =>
                `      acc${t}_${c} = fma(w${ky}_${kx}, x${c * s.strideW + kx * s.dilationW}, acc${t}_${c});`,
            ),
          ),
        )
        .join('\n');
      return `    {
    let iy = iy0 + ${r};
    if (iy >= 0 && iy < H) {
      let row = xBase + u32(iy) * ui(${U.bStrides + 2}u);
${loads}
${fmas}
    }
    }`;
    })
    .join('\n');
  const code = `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${hasBias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
@group(0) @binding(${hasBias ? 4 : 3}) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(${DEPTHWISE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // One channel of one image per workgroup row (y, z): the weights are then the same for every lane.
  let idx = wid.x * ${DEPTHWISE_WG}u + lid.x;
  if (idx >= ui(${U.n}u)) { return; }
  let OH = ui(${U.oh}u);
  let OW = ui(${U.ow}u);
  let cOut = ui(${U.cOut}u);
  let blocks = (OW + ${tc - 1}u) / ${tc}u;
  let ox0 = (idx % blocks) * ${tc}u;
  let oy0 = (idx / blocks) * ${tr}u;
  let co = wid.y;
  let b = wid.z;
  let ci = co / ui(${U.cOutG}u);
  let H = i32(ui(${U.h}u));
  let W = i32(ui(${U.w}u));
  let XS = ui(${U.bStrides + 3}u);
  let iy0 = i32(oy0 * ${s.strideH}u) - usi(${U.padTop}u);
  let ix0 = i32(ox0 * ${s.strideW}u) - usi(${U.padLeft}u);
  let xBase = ui(${U.bOffset}u) + b * ui(${U.bStrides}u) + ci * ui(${U.bStrides + 1}u);
  let wBase = ui(${U.aOffset}u) + co * ui(${U.aStrides}u);
${weights}
  let b0 = ${hasBias ? `bias[ui(${U.biasOffset}u) + co * ui(${U.biasStride}u)]` : '0.0'};
${range(tr)
  .flatMap((t) => range(tc).map((c) => `  var acc${t}_${c} = b0;`))
  .join('\n')}
${rows}
  let o = ui(${U.outOffset}u) + ((b * cOut + co) * OH + oy0) * OW + ox0;
${range(tr)
  .map(
    (t) =>
      `  if (oy0 + ${t}u < OH) {\n${range(tc)
        .map((c) => `    if (ox0 + ${c}u < OW) { out[o + ${t}u * OW + ${c}u] = acc${t}_${c}; }`)
        .join('\n')}\n  }`,
  )
  .join('\n')}
}`;
  return {
    name: `conv2d_depthwise_${shapeKey(s)}`,
    code,
    bindings: hasBias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'],
  };
}

/**
 * Gradient of the input: each input pixel gathers dy from every output pixel whose window covered it, over the
 * channel's `multiplier` outputs. A thread does DEPTHWISE_ROW neighbouring input pixels.
 * Uniforms: dy at bOffset/bStrides, weight at aOffset/aStrides, work items in `n`.
 */
export function depthwiseGradInputKernel(s: DepthwiseShape): Kernel {
  const tw = DEPTHWISE_ROW;
  const taps = range(s.kh)
    .map((ky) => {
      // Unit column stride: the DEPTHWISE_ROW pixels read one contiguous span of dy per kernel row, loaded once.
      const span = tw + (s.kw - 1) * s.dilationW;
      const contiguous = `${range(span)
        .map(
          (r) =>
            `        var d${r} = 0.0;\n        if (qx0 ${signed(r - (s.kw - 1) * s.dilationW)} >= 0 && qx0 ${signed(r - (s.kw - 1) * s.dilationW)} < OW) { d${r} = dy[row + u32(qx0 ${signed(r - (s.kw - 1) * s.dilationW)}) * ui(${U.bStrides + 3}u)]; }`,
        )
        .join('\n')}
${range(s.kw)
  .map(
    (kx) =>
      `        {\n          let w = weight[wBase + ${ky}u * ui(${U.aStrides + 2}u) + ${kx}u * ui(${U.aStrides + 3}u)];\n${range(
        tw,
      )
        .map((t) => `          acc${t} = fma(w, d${t + (s.kw - 1 - kx) * s.dilationW}, acc${t});`)
        .join('\n')}\n        }`,
  )
  .join('\n')}`;
      const cols =
        s.strideW === 1
          ? contiguous
          : range(s.kw)
              .map((kx) => {
                const perPixel = range(tw)
                  .map((t) => {
                    const q = `qx0 ${signed(t - kx * s.dilationW)}`;
                    const onGrid = s.strideW === 1 ? '' : ` && (${q}) % ${s.strideW} == 0`;
                    return `          if (${q} >= 0${onGrid} && (${q}) / ${s.strideW} < OW) { acc${t} = fma(w, dy[row + u32((${q}) / ${s.strideW}) * ui(${U.bStrides + 3}u)], acc${t}); }`;
                  })
                  .join('\n');
                return `        {\n          let w = weight[wBase + ${ky}u * ui(${U.aStrides + 2}u) + ${kx}u * ui(${U.aStrides + 3}u)];\n${perPixel}\n        }`;
              })
              .join('\n');
      const qy = `qy0 - ${ky * s.dilationH}`;
      const onGrid = s.strideH === 1 ? '' : ` && (${qy}) % ${s.strideH} == 0`;
      return `      if (${qy} >= 0${onGrid} && (${qy}) / ${s.strideH} < OH) {
        let row = dyBase + u32((${qy}) / ${s.strideH}) * ui(${U.bStrides + 2}u);
${cols}
      }`;
    })
    .join('\n');
  const code = `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(${DEPTHWISE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let idx = wid.x * ${DEPTHWISE_WG}u + lid.x;
  if (idx >= ui(${U.n}u)) { return; }
  let H = ui(${U.h}u);
  let W = ui(${U.w}u);
  let cIn = ui(${U.cIn}u);
  let OH = i32(ui(${U.oh}u));
  let OW = i32(ui(${U.ow}u));
  let mult = ui(${U.cOutG}u);
  let blocks = (W + ${tw - 1}u) / ${tw}u;
  let ix0 = (idx % blocks) * ${tw}u;
  let iy = idx / blocks;
  let ci = wid.y;
  let b = wid.z;
  let qy0 = i32(iy) + usi(${U.padTop}u);
  let qx0 = i32(ix0) + usi(${U.padLeft}u);
${range(tw)
  .map((t) => `  var acc${t} = 0.0;`)
  .join('\n')}
  for (var m = 0u; m < mult; m++) {
    let co = ci * mult + m;
    let dyBase = ui(${U.bOffset}u) + b * ui(${U.bStrides}u) + co * ui(${U.bStrides + 1}u);
    let wBase = ui(${U.aOffset}u) + co * ui(${U.aStrides}u);
${taps}
  }
  let o = ((b * cIn + ci) * H + iy) * W + ix0;
${range(tw)
  .map((t) => `  if (ix0 + ${t}u < W) { out[ui(${U.outOffset}u) + o + ${t}u] = acc${t}; }`)
  .join('\n')}
}`;
  return { name: `conv2d_depthwise_dx_${shapeKey(s)}`, code, bindings: ['read', 'read', 'read_write'] };
}

/**
 * Gradient of the weight: a workgroup owns one output channel and one chunk of the batch's output rows, cut into
 * segments of DEPTHWISE_ROW pixels. A lane takes a segment, reads its dy values and, per kernel row, the input
 * span they touch once, and accumulates all kh·kw taps in registers; then the workgroup adds its lanes' sums.
 * Chunks (workgroup y) are reduced afterwards. Output: partial[split][co][ky·kw + kx]. Uniforms: dy at
 * aOffset/aStrides, x at bOffset/bStrides, segments per chunk in `kChunk`.
 */
export function depthwiseGradWeightKernel(s: DepthwiseShape): Kernel {
  const tw = DEPTHWISE_ROW;
  const kk = s.kh * s.kw;
  const span = (tw - 1) * s.strideW + (s.kw - 1) * s.dilationW + 1;
  const rows = range(s.kh)
    .map((ky) => {
      const loads = range(span)
        .map(
          (r) =>
            `        var x${r} = 0.0;\n        if (ix0 + ${r} >= 0 && ix0 + ${r} < W) { x${r} = x[row + u32(ix0 + ${r}) * ui(${U.bStrides + 3}u)]; }`,
        )
        .join('\n');
      const fmas = range(s.kw)
        .flatMap((kx) =>
          range(tw).map(
            (t) =>
              `        acc${ky * s.kw + kx} = fma(g${t}, x${t * s.strideW + kx * s.dilationW}, acc${ky * s.kw + kx});`,
          ),
        )
        .join('\n');
      return `    {
      let iy = iy0 + ${ky * s.dilationH};
      if (iy >= 0 && iy < H) {
        let row = xBase + u32(iy) * ui(${U.bStrides + 2}u);
${loads}
${fmas}
      }
    }`;
    })
    .join('\n');
  const code = `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> red: array<f32, ${kk * DEPTHWISE_WG}>;

@compute @workgroup_size(${DEPTHWISE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let co = wid.x;
  let split = wid.y;
  let tid = lid.x;
  let cOut = ui(${U.cOut}u);
  let OH = ui(${U.oh}u);
  let OW = ui(${U.ow}u);
  let blocks = (OW + ${tw - 1}u) / ${tw}u;
  let total = ui(${U.batch}u) * OH * blocks;
  let begin = split * ui(${U.kChunk}u);
  let end = min(total, begin + ui(${U.kChunk}u));
  let H = i32(ui(${U.h}u));
  let W = i32(ui(${U.w}u));
  let ci = co / ui(${U.cOutG}u);
  let dyChannel = ui(${U.aOffset}u) + co * ui(${U.aStrides + 1}u);
${range(kk)
  .map((k) => `  var acc${k} = 0.0;`)
  .join('\n')}
  for (var seg = begin + tid; seg < end; seg += ${DEPTHWISE_WG}u) {
    let ox0 = (seg % blocks) * ${tw}u;
    let r1 = seg / blocks;
    let oy = r1 % OH;
    let b = r1 / OH;
    let dyRow = dyChannel + b * ui(${U.aStrides}u) + oy * ui(${U.aStrides + 2}u);
${range(tw)
  .map(
    (t) =>
      `    var g${t} = 0.0;\n    if (ox0 + ${t}u < OW) { g${t} = dy[dyRow + (ox0 + ${t}u) * ui(${U.aStrides + 3}u)]; }`,
  )
  .join('\n')}
    let iy0 = i32(oy * ${s.strideH}u) - usi(${U.padTop}u);
    let ix0 = i32(ox0 * ${s.strideW}u) - usi(${U.padLeft}u);
    let xBase = ui(${U.bOffset}u) + b * ui(${U.bStrides}u) + ci * ui(${U.bStrides + 1}u);
${rows}
  }
${range(kk)
  .map((k) => `  red[${k}u * ${DEPTHWISE_WG}u + tid] = acc${k};`)
  .join('\n')}
  workgroupBarrier();
  for (var k = tid; k < ${kk}u; k += ${DEPTHWISE_WG}u) {
    var sum = 0.0;
    for (var i = 0u; i < ${DEPTHWISE_WG}u; i++) { sum += red[k * ${DEPTHWISE_WG}u + i]; }
    out[ui(${U.outOffset}u) + (split * cOut + co) * ${kk}u + k] = sum;
  }
}`;
  return { name: `conv2d_depthwise_dw_${shapeKey(s)}`, code, bindings: ['read', 'read', 'read_write'] };
}
