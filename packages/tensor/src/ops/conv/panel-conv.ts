import { getEngine } from '../../engine/engine.js';
import { kernelCache } from '../../engine/kernel.js';
import type { Tensor } from '../../tensor.js';
import { forEachPanelWindow, type PackedPanels, packPanels, panelsPay } from '../matmul/panel-gemm.js';
import { rowsAligned } from './depthwise-rows.js';
import { buildPanelConv3x3Kernel, PANEL_CONV_BLOCK, PC } from './panel-conv-kernel.js';
import { type ConvGeometry, convGeometry } from './params.js';

const cached = kernelCache();

/**
 * Whether the panel kernel runs this 3×3 convolution of `x` into `out`: on llvmpipe (panelsPay), at stride 1
 * without dilation, one group, left padding ≤ 3, with the image's rows readable as vec4s (rowsAligned), every
 * operand within one binding, and a product large enough.
 */
function panelsApply(x: Tensor, out: Tensor, others: Tensor[], g: ConvGeometry, limit: number): boolean {
  const geometry =
    g.kh === 3 &&
    g.kw === 3 &&
    g.groups === 1 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.dilationH === 1 &&
    g.dilationW === 1 &&
    g.padLeft <= 3;
  const layout = rowsAligned(x.shape, x.strides, x.offset);
  const fits = [x, out, ...others].every((t) => t.storage.buffer.size <= limit);
  // panelsPay counts a workgroup per PANEL_BLOCK_ROWS rows; ragged 16-pixel blocks can need a few more.
  const blocks = g.batch * g.oh * Math.ceil(g.ow / PANEL_CONV_BLOCK);
  const grid = Math.ceil(blocks / 8) <= getEngine().device.limits.maxComputeWorkgroupsPerDimension;
  const pixels = g.batch * g.oh * g.ow;
  return geometry && layout && fits && grid && panelsPay(pixels, g.cOut, g.cIn * 9, 9);
}

/**
 * The forward 3×3 convolution through the panel kernel (panel-conv-kernel.ts), on llvmpipe. Returns false, doing
 * nothing, when it does not apply ({@link panelsApply}, and a weight whose taps are not contiguous).
 */
export function conv3x3ForwardPanels(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  out: Tensor,
  g: ConvGeometry,
  limit: number,
): boolean {
  const [, wc, wh, ww] = weight.strides;
  const others = bias ? [weight, bias] : [weight];
  if (wc !== 3 * wh || wh !== 3 * ww || !panelsApply(x, out, others, g, limit)) return false;
  // Wᵀ: k = (ci, ky, kx) runs contiguously through each output channel's weights.
  const wT = weight.asView([g.cIn * 9, g.cOut], [ww, weight.strides[0]], weight.offset);
  try {
    runPanels(x, packPanels(wT), bias, out, g);
  } finally {
    wT.dispose();
  }
  return true;
}

/**
 * The input gradient of a stride-1 3×3 convolution is itself one: dy convolved with the weight rotated by 180°
 * and its channel axes swapped, padded by 2 − p on each side where the forward padded by p. So it runs through
 * the same panel kernel, the packing reading the weight rotated in place. Returns false, doing nothing, when
 * that does not apply (a forward convolution with stride, dilation or groups, padding outside 0…2 on any side,
 * taps that are not contiguous, or {@link panelsApply}).
 */
export function conv3x3GradInputPanels(
  dy: Tensor,
  weight: Tensor,
  dx: Tensor,
  g: ConvGeometry,
  limit: number,
): boolean {
  const pads = [g.padLeft, g.padRight, g.padTop, g.padBottom];
  // The forward convolution itself must be one the panels take (stride 1, one group…): the checks below see only
  // the transposed geometry.
  const unit = g.groups === 1 && g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1;
  if (!unit || g.kh !== 3 || g.kw !== 3 || pads.some((p) => p < 0 || p > 2)) return false;
  const padding = pads.map((p) => 2 - p) as [number, number, number, number];
  const gt = convGeometry(dy.shape, [g.cIn, g.cOut, 3, 3], null, { padding });
  if (gt.oh !== g.h || gt.ow !== g.w || !panelsApply(dy, dx, [weight], gt, limit)) return false;
  // Rows k = (co, tap) of the rotated weight, read in place from W[co, ci, 8 − tap].
  const [wo, wi, wh, ww] = weight.strides;
  if (wh !== 3 * ww) return false;
  const matrix = weight.asView([g.cOut * 9, g.cIn], [wo, wi], weight.offset);
  try {
    runPanels(dy, packPanels(matrix, { taps: 9, tapStride: ww }), null, dx, gt);
  } finally {
    matrix.dispose();
  }
  return true;
}

/** Runs the panel convolution of `x` with weights already packed (k = (ci, ky, kx), n = output channel). */
function runPanels(x: Tensor, panels: PackedPanels, bias: Tensor | null, out: Tensor, g: ConvGeometry): void {
  const [sn, sc, sh] = x.strides;
  const engine = getEngine();
  try {
    const kernel = cached(`${g.padLeft}:${bias !== null}:${panels.lane}`, () =>
      buildPanelConv3x3Kernel(g.padLeft, bias !== null, panels.lane),
    );
    const perRow = Math.ceil(g.ow / PANEL_CONV_BLOCK);
    const blocks = g.batch * g.oh * perRow;
    const words = new Array<number>(24).fill(0);
    words[PC.h] = g.h;
    words[PC.w] = g.w;
    words[PC.oh] = g.oh;
    words[PC.ow] = g.ow;
    words[PC.xOffset] = x.offset;
    words[PC.xBatchStride] = sn;
    words[PC.xChannelStride] = sc;
    words[PC.xRowStride] = sh;
    words[PC.padTop] = g.padTop;
    words[PC.blocksPerRow] = perRow;
    words[PC.blocks] = blocks;
    words[PC.cOut] = g.cOut;
    words[PC.panelStride] = panels.panelVec4s;
    words[PC.biasOffset] = bias?.offset ?? 0;
    words[PC.biasStride] = bias?.strides[0] ?? 0;
    words[PC.outOffset] = out.offset;
    words[PC.outBatchStride] = out.strides[0];
    words[PC.outChannelStride] = out.strides[1];
    words[PC.outRowStride] = out.strides[2];
    forEachPanelWindow(panels, 9, (w) => {
      words[PC.cStart] = w.k0 / 9;
      words[PC.cCount] = w.kCount / 9;
      words[PC.panel0] = w.panel0;
      words[PC.accumulate] = w.k0 > 0 ? 1 : 0;
      words[PC.addBias] = w.k0 + w.kCount === panels.k ? 1 : 0;
      const buffers: (GPUBuffer | GPUBufferBinding)[] = [x.storage.buffer, w.binding];
      if (bias) buffers.push(bias.storage.buffer);
      buffers.push(out.storage.buffer);
      engine.dispatch(kernel, buffers, words, [Math.ceil(blocks / 8), w.panelCount]);
    });
  } finally {
    panels.packed.dispose();
  }
}
