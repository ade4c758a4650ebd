import { getEngine } from '../../engine/engine.js';
import type { Kernel } from '../../engine/kernel.js';
import type { Tensor } from '../../tensor.js';
import { forEachPanelWindow, packPanels, panelsPay } from '../matmul/panel-gemm.js';
import { buildPanelConv3x3Kernel, PANEL_CONV_BLOCK, PC } from './panel-conv-kernel.js';
import type { ConvGeometry } from './params.js';

const kernels = new Map<string, Kernel>();

const aligned = (...values: number[]) => values.every((v) => v % 4 === 0);

/**
 * The forward 3×3 convolution through the panel kernel (panel-conv-kernel.ts), on llvmpipe. Returns false, doing
 * nothing, when it does not apply: another device, another geometry (it takes stride 1, no dilation, one group,
 * left padding ≤ 3), an image whose strides are not 4-aligned, operands past one binding, or a small product.
 */
export function conv3x3ForwardPanels(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  out: Tensor,
  g: ConvGeometry,
  limit: number,
): boolean {
  const geometry =
    g.kh === 3 &&
    g.kw === 3 &&
    g.groups === 1 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.dilationH === 1 &&
    g.dilationW === 1 &&
    g.padLeft <= 3;
  const [sn, sc, sh, sw] = x.strides;
  const [wo, wc, wh, ww] = weight.strides;
  const layout = sw === 1 && aligned(x.offset, sn, sc, sh, g.w) && wc === 3 * wh && wh === 3 * ww;
  const fits = [x, weight, out, ...(bias ? [bias] : [])].every((t) => t.storage.buffer.size <= limit);
  const pixels = g.batch * g.oh * g.ow;
  if (!geometry || !layout || !fits || !panelsPay(pixels, pixels * g.cOut * g.cIn * 9)) return false;

  const engine = getEngine();
  // Wᵀ: k = (ci, ky, kx) runs contiguously through each output channel's weights.
  const wT = weight.asView([g.cIn * 9, g.cOut], [ww, wo], weight.offset);
  const panels = packPanels(wT);
  try {
    const key = `${g.padLeft}:${bias !== null}:${panels.lane}`;
    let kernel = kernels.get(key);
    if (!kernel) {
      kernel = buildPanelConv3x3Kernel(g.padLeft, bias !== null, panels.lane);
      kernels.set(key, kernel);
    }
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
    wT.dispose();
  }
  return true;
}
