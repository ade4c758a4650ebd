import { getEngine } from '../../engine/engine.js';
import { kernelCache } from '../../engine/kernel.js';
import type { Tensor } from '../../tensor.js';
import { eightLaneSubgroups } from '../matmul/panel-gemm.js';
import { allocate, bindingLimit } from './batch-chunks.js';
import { reducePartials, uniforms } from './conv-dispatch.js';
import { conv2dTuning } from './conv-tuning.js';
import { rowsAligned } from './depthwise-rows.js';
import {
  buildGradWeightKernel,
  channelsOut,
  type GradWeightShape,
  GW_PIXELS,
  gradWeightKey,
} from './grad-weight-kernel.js';
import type { ConvGeometry } from './params.js';

const cached = kernelCache();

/**
 * Workgroups to spread a weight gradient over: llvmpipe runs one per core at a time, and more of them mean more
 * slabs of partial sums to add.
 */
const TARGET_WORKGROUPS = 16;

/**
 * Input channels per thread: a 3×3's 2 channels × 9 taps and a 1×1's 16 channels each keep 16–18 vec4 sums,
 * which is what the register file of llvmpipe's 256-bit build holds without spilling much.
 */
function channelsPerThread(k: number): number {
  return k === 3 ? 2 : 16;
}

/**
 * Whether the subgroup kernel (grad-weight-kernel.ts) computes this weight gradient: on llvmpipe's 8-lane
 * subgroups, for a 1×1 or 3×3 convolution at stride 1 without dilation or groups, padLeft ≤ 3, output rows of a
 * multiple of 8 pixels, both images' rows readable as vec4s and each within one binding.
 */
function applies(dy: Tensor, x: Tensor, g: ConvGeometry): boolean {
  return (
    conv2dTuning.gradWeightSubgroups !== false &&
    eightLaneSubgroups() &&
    (g.kh === 1 || g.kh === 3) &&
    g.kw === g.kh &&
    g.groups === 1 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.dilationH === 1 &&
    g.dilationW === 1 &&
    g.padLeft <= 3 &&
    g.ow % GW_PIXELS === 0 &&
    rowsAligned(dy.shape, dy.strides, dy.offset) &&
    rowsAligned(x.shape, x.strides, x.offset) &&
    [dy, x].every((t) => t.storage.buffer.size <= bindingLimit())
  );
}

/**
 * dL/dweight of a 1×1 or 3×3 convolution through the subgroup kernel, or null (doing nothing) where it does not
 * apply. Workgroups along z sum runs of output rows into slabs of partial sums, added at the end.
 */
export function convGradWeightSubgroups(dy: Tensor, x: Tensor, g: ConvGeometry): Tensor | null {
  if (!applies(dy, x, g)) return null;
  const k = g.kh as 1 | 3;
  const s: GradWeightShape = {
    k,
    padLeft: g.padLeft,
    channels: channelsPerThread(k),
    lanesOut: g.cOut <= 16 ? 2 : 4,
  };
  const shape = [g.cOut, g.cIn, k, k];
  const gx = Math.ceil(g.cOut / channelsOut(s));
  const gy = Math.ceil(g.cIn / s.channels);
  const rows = g.batch * g.oh;
  const wanted = Math.min(rows, Math.ceil(TARGET_WORKGROUPS / (gx * gy)));
  const rowsPerSplit = Math.ceil(rows / wanted);
  const splits = Math.ceil(rows / rowsPerSplit);
  const partial = allocate(splits === 1 ? shape : [splits, ...shape], 'weight gradient partials');
  const kernel = cached(gradWeightKey(s), () => buildGradWeightKernel(s));
  getEngine().dispatch(
    kernel,
    [dy.storage.buffer, x.storage.buffer, partial.storage.buffer],
    uniforms(g, dy, x, { kChunk: rowsPerSplit }),
    [gx, gy, splits],
  );
  return reducePartials(partial, splits, shape);
}
