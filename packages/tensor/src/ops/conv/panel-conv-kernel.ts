import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';
import {
  type LaneColumns,
  laneVector,
  PANEL_ROWS,
  PANEL_WINDOW_BYTES,
  panelColumns,
} from '../matmul/panel-kernel.js';

/**
 * The forward 3×3 convolution (stride 1, no dilation, one group) as the matmul's panel kernel reads it, for
 * llvmpipe (see ops/matmul/panel-kernel.ts for why: per-lane reads are what cost there, and gathers from a
 * uniform buffer are the cheapest). The product is out (pixels × Cout) = im2col(x) (pixels × Cin·9) · Wᵀ:
 *
 * - Wᵀ, k = (ci, ky, kx) in PyTorch's weight order, is packed into 32-column panels, bound as uniform windows;
 *   each lane gathers its 3 or 4 output channels of one tap.
 * - im2col(x) is never built. A subgroup owns 16 consecutive output pixels of one row; for each input channel
 *   and kernel row, 6 of its lanes read one vec4 each, input columns x0 − 4 … x0 + 19, which hold every value
 *   the 3 taps of that row need for all 16 pixels; each is then broadcast from the lane that read it (lane and
 *   component are constants for a given pixel, tap and left padding). Vec4s of padding (off the image) read 0.
 *
 * Needs a row-major image (unit column stride) with its width, row, channel and batch strides and offset all
 * multiples of 4, so that a vec4 is either wholly inside a row or wholly in the padding; padLeft ≤ 3.
 */

/** Uniform words of the panel convolution. */
export const PC = {
  h: 0,
  w: 1,
  oh: 2,
  ow: 3,
  /** Input channels this dispatch sums over. */
  cCount: 4,
  cStart: 5,
  xOffset: 6,
  xBatchStride: 7,
  xChannelStride: 8,
  xRowStride: 9,
  padTop: 10,
  /** 16-pixel blocks per output row, and in all. */
  blocksPerRow: 11,
  blocks: 12,
  cOut: 13,
  panel0: 14,
  panelStride: 15,
  accumulate: 16,
  addBias: 17,
  biasOffset: 18,
  biasStride: 19,
  outOffset: 20,
  outBatchStride: 21,
  outChannelStride: 22,
  outRowStride: 23,
} as const;

/** Output pixels of one subgroup's block (a run along one output row). */
export const PANEL_CONV_BLOCK = PANEL_ROWS;

function repeat(n: number, f: (i: number) => string, sep = '\n'): string {
  return Array.from({ length: n }, (_, i) => f(i)).join(sep);
}

export function buildPanelConv3x3Kernel(padLeft: number, bias: boolean, lane: LaneColumns): Kernel {
  if (padLeft < 0 || padLeft > 3) throw new Error(`panel conv: left padding ${padLeft} is outside 0…3`);
  const rows = PANEL_CONV_BLOCK;
  const { type, part } = laneVector(lane);
  // Input column x0 + r + kx − padLeft sits at position r + kx − padLeft + 4 of the span read from x0 − 4.
  // A kernel row's 3 taps: the gathers first, then each pixel's 3 multiply-adds together (see panel-kernel.ts).
  // Neighbouring pixels share inputs (pixel r's tap kx + 1 is pixel r + 1's tap kx), so each of the 18 input
  // columns a kernel row touches is broadcast once; then the gathers, then each pixel's 3 multiply-adds together.
  const taps = (ky: number) => {
    const spread = repeat(rows + 2, (i) => {
      const at = i - padLeft + 4;
      return `      let s${ky}_${i} = ${type}(subgroupBroadcast(a${ky}[${at % 4}], ${Math.floor(at / 4)}u));`;
    });
    const gathers = repeat(
      3,
      (kx) => `      let b${ky}${kx} = ${part(`Bw[bAt + (c * 9u + ${ky * 3 + kx}u) * 8u]`)};`,
    );
    const sums = repeat(rows, (r) =>
      repeat(3, (kx) => `      c${r} = fma(s${ky}_${r + kx}, b${ky}${kx}, c${r});`),
    );
    return `${spread}\n${gathers}\n${sums}`;
  };
  const row = (ky: number) => `      let iy${ky} = oy + ${ky} - padTop;
      let a${ky} = select(vec4<f32>(0.0), X4[(plane + u32(clamp(iy${ky}, 0, H - 1)) * xRow) / 4u], colIn && iy${ky} >= 0 && iy${ky} < H);
${taps(ky)}`;
  const biasDecl = bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : '';
  const addBias = bias
    ? `
        if (ui(${PC.addBias}u) != 0u) { v += bias[ui(${PC.biasOffset}u) + co * ui(${PC.biasStride}u)]; }`
    : '';
  const code = `enable subgroups;
${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> Bw: array<vec4<f32>, ${PANEL_WINDOW_BYTES / 16}>;
${biasDecl}
@group(0) @binding(${bias ? 4 : 3}) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let H = i32(ui(${PC.h}u));
  let W = i32(ui(${PC.w}u));
  let OH = ui(${PC.oh}u);
  let OW = ui(${PC.ow}u);
  let padTop = i32(ui(${PC.padTop}u));
  let xRow = ui(${PC.xRowStride}u);
  let xChannel = ui(${PC.xChannelStride}u);
  let blocks = ui(${PC.blocks}u);
  // Subgroups are 8 consecutive threads, one 16-pixel block each; a block past the last repeats it, unstored.
  let block = wid.x * 8u + lid.x / 8u;
  let bc = min(block, blocks - 1u);
  let perRow = ui(${PC.blocksPerRow}u);
  let x0 = (bc % perRow) * ${rows}u;
  let oy = i32((bc / perRow) % OH);
  let n = bc / (perRow * OH);
  let col = i32(x0) - 4 + 4 * i32(lane);
  let colIn = lane < 6u && col >= 0 && col < W;
  let xBase = ui(${PC.xOffset}u) + n * ui(${PC.xBatchStride}u) + u32(clamp(col, 0, W - 4))
    + ui(${PC.cStart}u) * xChannel;
  let bAt = wid.y * ui(${PC.panelStride}u) + lane;
${repeat(rows, (r) => `  var c${r} = ${type}(0.0);`)}
  let cCount = ui(${PC.cCount}u);
  for (var c = 0u; c < cCount; c++) {
    let plane = xBase + c * xChannel;
${repeat(3, row)}
  }
  if (block >= blocks) { return; }
  let coBase = (ui(${PC.panel0}u) + wid.y) * ${panelColumns(lane)}u + lane * ${lane}u;
  let cOut = ui(${PC.cOut}u);
  let outRow = ui(${PC.outOffset}u) + n * ui(${PC.outBatchStride}u) + u32(oy) * ui(${PC.outRowStride}u);
${repeat(rows, (r) => `  if (x0 + ${r}u < OW) { store(outRow + x0 + ${r}u, coBase, cOut, c${r}); }`)}
}

fn store(at0: u32, coBase: u32, cOut: u32, c: ${type}) {
  for (var e = 0u; e < ${lane}u; e++) {
    let co = coBase + e;
    if (co < cOut) {
      let at = at0 + co * ui(${PC.outChannelStride}u);
      var v = c[e];
      if (ui(${PC.accumulate}u) != 0u) { v += out[at]; }${addBias}
      out[at] = v;
    }
  }
}`;
  return {
    name: `conv2d_panels${lane}_3x3_pad${padLeft}${bias ? '_bias' : ''}`,
    code,
    bindings: bias ? ['read', 'uniform', 'read', 'read_write'] : ['read', 'uniform', 'read_write'],
  };
}
