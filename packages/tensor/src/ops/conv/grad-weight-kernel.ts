import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { U } from './gemm-kernel.js';

/**
 * The weight gradient of a k×k convolution (k = 1 or 3; stride 1, no dilation, one group) for llvmpipe, where
 * every read whose address differs per lane is done lane by lane and a `subgroupBroadcast` is a register move:
 *
 *   dW[co, ci, ky, kx] = Σ over images n and output pixels (oy, ox) of dy[n, co, oy, ox] · x[n, ci, iy, ix],
 *   iy = oy + ky − padTop, ix = ox + kx − padLeft.
 *
 * A workgroup is one subgroup of 8 lanes. It owns 32 output channels, 4 per lane (16, 2 per lane, where there
 * are no more), and `channels` input channels (2 for a 3×3, 16 for a 1×1): each thread keeps the channels × k²
 * taps of its output channels as vector sums. It walks 8 output pixels of a row at a time:
 *  - each lane reads its channels' 8 values of dy as 2 vec4s each, transposed in registers to one vector over its
 *    channels per pixel;
 *  - the inputs are the same for every lane: for each input channel and kernel row, 4 vec4s of input columns
 *    ox − 4 … ox + 11 (2, ox … ox + 7, for an unpadded 1×1) hold what the k taps of the 8 pixels read. The lanes
 *    share these reads, and each column a kernel row touches is broadcast once from the lane that read it;
 *  - channels × k² × 8 vec4 multiply-adds follow, with no further read.
 * Workgroups along z take consecutive runs of output rows (over the whole batch) and write their own slab of
 * partial sums, which the caller adds up.
 *
 * Uniforms: the convolutions' block (gemm-kernel.ts's U) with dy as operand A and x as operand B, and kChunk the
 * output rows (over the batch) each workgroup along z sums.
 *
 * Needs output rows of a multiple of 8 pixels and both images' rows readable as aligned vec4s (unit column
 * stride; widths, strides and offsets multiples of 4), so that a vec4 of x is wholly inside a row or wholly in
 * the padding; padLeft ≤ 3.
 */
export interface GradWeightShape {
  k: 1 | 3;
  padLeft: number;
  /** Input channels per thread. */
  channels: number;
  /** Output channels per lane: 4, or 2 where there are at most 16 (then no lane idles). */
  lanesOut: 2 | 4;
}

/** Output channels per workgroup: 8 lanes × the lane's 4 or 2. */
export function channelsOut(s: GradWeightShape): number {
  return 8 * s.lanesOut;
}
/** Output pixels per step along a row. */
export const GW_PIXELS = 8;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const COMPONENT = ['x', 'y', 'z', 'w'];

export function gradWeightKey(s: GradWeightShape): string {
  return `${s.k}x${s.k}_c${s.channels}x${s.lanesOut}_pad${s.padLeft}`;
}

export function buildGradWeightKernel(s: GradWeightShape): Kernel {
  const { k, padLeft, channels, lanesOut } = s;
  const vec = `vec${lanesOut}<f32>`;
  if (padLeft < 0 || padLeft > 3) throw new Error(`weight gradient: left padding ${padLeft} is outside 0…3`);
  // The span of input columns read per kernel row starts `lead` columns left of the block, in `vecs` vec4s.
  const lead = k === 1 && padLeft === 0 ? 0 : 4;
  const vecs = lead === 0 ? 2 : 4;
  const perChannel = k * vecs;
  const total = channels * perChannel;
  const rounds = Math.ceil(total / 8);
  // Read q holds channel q / perChannel, kernel row (q % perChannel) / vecs, vec4 q % vecs of the span; lane q % 8
  // reads it as its read number q / 8.
  const reads = range(rounds)
    .map(
      (i) => `    {
      let q = lane + ${8 * i}u;
      let ci = ci0 + q / ${perChannel}u;
      let iy = oy + i32((q % ${perChannel}u) / ${vecs}u) - padTop;
      let col = i32(ox0) - ${lead} + 4 * i32(q % ${vecs}u);
      let ok = q < ${total}u && ci < cIn && iy >= 0 && iy < H && col >= 0 && col < W;
      let at = xImage + min(ci, cIn - 1u) * xChannel + u32(clamp(iy, 0, H - 1)) * u32(W) + u32(clamp(col, 0, W - 4));
      r${i} = select(vec4<f32>(0.0), X4[at / 4u], ok);
    }`,
    )
    .join('\n');
  // Input column ox + p + kx − padLeft sits at position p + kx − padLeft + lead of the span.
  const broadcasts = range(channels)
    .flatMap((c) =>
      range(k).flatMap((ky) =>
        range(GW_PIXELS + k - 1).map((j) => {
          const at = j - padLeft + lead;
          const q = c * perChannel + ky * vecs + Math.floor(at / 4);
          return `    let s${c}_${ky}_${j} = subgroupBroadcast(r${Math.floor(q / 8)}.${COMPONENT[at % 4]}, ${q % 8}u);`;
        }),
      ),
    )
    .join('\n');
  const dyReads = range(lanesOut)
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
      const parts = range(lanesOut).map((e) => `d${e}${half}.${comp}`);
      return `    let g${p} = ${vec}(${parts.join(', ')});`;
    })
    .join('\n');
  const taps = k * k;
  const fmas = range(channels)
    .flatMap((c) =>
      range(k).flatMap((ky) =>
        range(k).flatMap((kx) =>
          range(GW_PIXELS).map((p) => {
            const t = `t${c}_${ky * k + kx}`;
            return `    ${t} = fma(${vec}(s${c}_${ky}_${p + kx}), g${p}, ${t});`;
          }),
        ),
      ),
    )
    .join('\n');
  const stores = range(channels)
    .flatMap((c) =>
      range(taps).map(
        (t) => `  store(slab + (ci0 + ${c}u) * ${taps}u + ${t}u, co0, ci0 + ${c}u < cIn, t${c}_${t});`,
      ),
    )
    .join('\n');
  const code = `enable subgroups;
${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> DY4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let H = i32(ui(${U.h}u));
  let W = i32(ui(${U.w}u));
  let OH = ui(${U.oh}u);
  let OW = ui(${U.ow}u);
  let cIn = ui(${U.cIn}u);
  let cOut = ui(${U.cOut}u);
  let padTop = usi(${U.padTop}u);
  let dyChannel = ui(${U.aStrides + 1}u);
  let xChannel = ui(${U.bStrides + 1}u);
  let perSplit = ui(${U.kChunk}u);
  let co0 = wid.x * ${channelsOut(s)}u + lane * ${lanesOut}u;
  let ci0 = wid.y * ${channels}u;
  let rowEnd = min(ui(${U.batch}u) * OH, (wid.z + 1u) * perSplit);
${range(channels)
  .flatMap((c) => range(taps).map((t) => `  var t${c}_${t} = ${vec}(0.0);`))
  .join('\n')}
${range(rounds)
  .map((i) => `  var r${i} = vec4<f32>(0.0);`)
  .join('\n')}
  for (var row = wid.z * perSplit; row < rowEnd; row++) {
    let n = row / OH;
    let oy = i32(row % OH);
    let xImage = ui(${U.bOffset}u) + n * ui(${U.bStrides}u);
    let dyLine = ui(${U.aOffset}u) + n * ui(${U.aStrides}u) + u32(oy) * OW;
    for (var ox0 = 0u; ox0 < OW; ox0 += ${GW_PIXELS}u) {
      let dyRow = dyLine + ox0;
${reads}
${broadcasts}
${dyReads}
${perPixel}
${fmas}
    }
  }
  let slab = wid.z * cOut * cIn * ${taps}u;
${stores}
}

// The sums of one input channel and tap (at: its place within an output channel's Cin·k²) for the lane's output
// channels.
fn store(at: u32, co0: u32, ciOk: bool, t: ${vec}) {
  if (!ciOk) { return; }
  let cIn = ui(${U.cIn}u);
  let cOut = ui(${U.cOut}u);
  for (var e = 0u; e < ${lanesOut}u; e++) {
    let co = co0 + e;
    if (co < cOut) { out[at + co * cIn * ${taps}u] = t[e]; }
  }
}`;
  return {
    name: `conv2d_gradWeight_subgroups_${gradWeightKey(s)}`,
    code,
    bindings: ['read', 'read', 'read_write'],
  };
}
