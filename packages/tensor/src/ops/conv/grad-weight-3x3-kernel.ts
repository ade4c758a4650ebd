import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';

/**
 * The weight gradient of a 3×3 convolution (stride 1, no dilation, one group) for llvmpipe, where every read whose
 * address differs per lane is done lane by lane and a `subgroupBroadcast` is a register move:
 *
 *   dW[co, ci, ky, kx] = Σ over images n and output pixels (oy, ox) of dy[n, co, oy, ox] · x[n, ci, iy, ix],
 *   iy = oy + ky − padTop, ix = ox + kx − padLeft.
 *
 * A subgroup (8 lanes) owns 32 output channels, 4 per lane, and 2 input channels: each thread keeps the 2 × 9
 * taps of its 4 channels, 18 vec4 sums. It walks 8 output pixels of a row at a time:
 *  - each lane reads its 4 channels' 8 values of dy as 8 vec4s, transposed in registers to one vec4 over its
 *    channels per pixel;
 *  - the inputs are the same for every lane: for each of the 2 channels and 3 kernel rows, the 4 vec4s of input
 *    columns ox − 4 … ox + 11 hold all that the 3 taps of the 8 pixels read. The 24 vec4s are read 3 per lane and
 *    each of the 10 columns a kernel row touches is broadcast once from the lane that read it;
 *  - 144 vec4 multiply-adds follow, with no further read.
 * A workgroup is 8 subgroups, 16 input channels; workgroups along z take consecutive runs of output rows (over
 * the whole batch) and write their own slab of partial sums, which the caller adds up.
 *
 * Needs output rows of a multiple of 8 pixels and both images' rows readable as aligned vec4s (unit column
 * stride; widths, strides and offsets multiples of 4), so that a vec4 of x is wholly inside a row or wholly in
 * the padding; padLeft ≤ 3.
 */

/** Uniform words of the kernel. */
export const GW = {
  h: 0,
  w: 1,
  oh: 2,
  ow: 3,
  cIn: 4,
  cOut: 5,
  padTop: 6,
  dyOffset: 7,
  dyBatchStride: 8,
  dyChannelStride: 9,
  xOffset: 10,
  xBatchStride: 11,
  xChannelStride: 12,
  /** Output rows over the batch (N·OH), and how many each workgroup along z sums. */
  rows: 13,
  rowsPerSplit: 14,
  /** Elements of one slab of partial sums (Cout·Cin·9). */
  slab: 15,
} as const;

/** Output channels per workgroup (8 lanes × 4) and input channels per workgroup (8 subgroups × 2). */
export const GW_CHANNELS_OUT = 32;
export const GW_CHANNELS_IN = 16;
/** Output pixels per step along a row. */
export const GW_PIXELS = 8;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const COMPONENT = ['x', 'y', 'z', 'w'];

export function buildGradWeight3x3Kernel(padLeft: number): Kernel {
  if (padLeft < 0 || padLeft > 3)
    throw new Error(`3×3 weight gradient: left padding ${padLeft} is outside 0…3`);
  // Read q (0…23) holds channel q / 12, kernel row (q % 12) / 4, vec4 q % 4 of the span from ox − 4; lane q % 8
  // reads it as its read number q / 8.
  const reads = range(3)
    .map((i) => {
      return `    {
      let q = lane + ${8 * i}u;
      let ci = ci0 + q / 12u;
      let iy = oy + i32((q % 12u) / 4u) - padTop;
      let col = i32(ox0) - 4 + 4 * i32(q % 4u);
      let ok = ci < cIn && iy >= 0 && iy < H && col >= 0 && col < W;
      let at = xImage + min(ci, cIn - 1u) * xChannel + u32(clamp(iy, 0, H - 1)) * u32(W) + u32(clamp(col, 0, W - 4));
      r${i} = select(vec4<f32>(0.0), X4[at / 4u], ok);
    }`;
    })
    .join('\n');
  // Input column ox + p + kx − padLeft sits at position p + kx − padLeft + 4 of the span.
  const broadcasts = range(2)
    .flatMap((c) =>
      range(3).flatMap((ky) =>
        range(GW_PIXELS + 2).map((j) => {
          const at = j - padLeft + 4;
          const q = c * 12 + ky * 4 + Math.floor(at / 4);
          return `    let s${c}${ky}_${j} = subgroupBroadcast(r${Math.floor(q / 8)}.${COMPONENT[at % 4]}, ${q % 8}u);`;
        }),
      ),
    )
    .join('\n');
  const dyReads = range(4)
    .map(
      (e) =>
        `    let d${e}at = (dyRow + min(co0 + ${e}u, cOut - 1u) * dyChannel) / 4u;
    let d${e}a = select(vec4<f32>(0.0), DY4[d${e}at], co0 + ${e}u < cOut);
    let d${e}b = select(vec4<f32>(0.0), DY4[d${e}at + 1u], co0 + ${e}u < cOut);`,
    )
    .join('\n');
  const perPixel = range(GW_PIXELS)
    .map((p) => {
      const half = p < 4 ? 'a' : 'b';
      const comp = COMPONENT[p % 4];
      return `    let g${p} = vec4<f32>(d0${half}.${comp}, d1${half}.${comp}, d2${half}.${comp}, d3${half}.${comp});`;
    })
    .join('\n');
  const fmas = range(2)
    .flatMap((c) =>
      range(3).flatMap((ky) =>
        range(3).flatMap((kx) =>
          range(GW_PIXELS).map(
            (p) =>
              `    t${c}_${ky * 3 + kx} = fma(vec4<f32>(s${c}${ky}_${p + kx}), g${p}, t${c}_${ky * 3 + kx});`,
          ),
        ),
      ),
    )
    .join('\n');
  const stores = range(2)
    .flatMap((c) =>
      range(9).map((t) => `  store(slab + (ci0 + ${c}u) * 9u + ${t}u, co0, ci0 + ${c}u < cIn, t${c}_${t});`),
    )
    .join('\n');
  const code = `enable subgroups;
${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> DY4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let H = i32(ui(${GW.h}u));
  let W = i32(ui(${GW.w}u));
  let OH = ui(${GW.oh}u);
  let OW = ui(${GW.ow}u);
  let cIn = ui(${GW.cIn}u);
  let cOut = ui(${GW.cOut}u);
  let padTop = i32(ui(${GW.padTop}u));
  let dyChannel = ui(${GW.dyChannelStride}u);
  let xChannel = ui(${GW.xChannelStride}u);
  let co0 = wid.x * ${GW_CHANNELS_OUT}u + lane * 4u;
  let ci0 = wid.y * ${GW_CHANNELS_IN}u + (lid.x / 8u) * 2u;
  let rowEnd = min(ui(${GW.rows}u), (wid.z + 1u) * ui(${GW.rowsPerSplit}u));
${range(2)
  .flatMap((c) => range(9).map((t) => `  var t${c}_${t} = vec4<f32>(0.0);`))
  .join('\n')}
  var r0 = vec4<f32>(0.0);
  var r1 = vec4<f32>(0.0);
  var r2 = vec4<f32>(0.0);
  for (var row = wid.z * ui(${GW.rowsPerSplit}u); row < rowEnd; row++) {
    let n = row / OH;
    let oy = i32(row % OH);
    let xImage = ui(${GW.xOffset}u) + n * ui(${GW.xBatchStride}u);
    let dyLine = ui(${GW.dyOffset}u) + n * ui(${GW.dyBatchStride}u) + u32(oy) * OW;
    for (var ox0 = 0u; ox0 < OW; ox0 += ${GW_PIXELS}u) {
      let dyRow = dyLine + ox0;
${reads}
${broadcasts}
${dyReads}
${perPixel}
${fmas}
    }
  }
  let slab = wid.z * ui(${GW.slab}u);
${stores}
}

// The sums of one input channel and tap (at: its place within an output channel's Cin·9) for the lane's 4 output channels.
fn store(at: u32, co0: u32, ciOk: bool, t: vec4<f32>) {
  if (!ciOk) { return; }
  let cIn = ui(${GW.cIn}u);
  let cOut = ui(${GW.cOut}u);
  for (var e = 0u; e < 4u; e++) {
    let co = co0 + e;
    if (co < cOut) { out[at + co * cIn * 9u] = t[e]; }
  }
}`;
  return {
    name: `conv2d_gradWeight3x3_subgroups_pad${padLeft}`,
    code,
    bindings: ['read', 'read', 'read_write'],
  };
}
