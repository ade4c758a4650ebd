import { getEngine } from '../../engine/engine.js';
import { kernelCache } from '../../engine/kernel.js';
import { Tensor } from '../../tensor.js';
import {
  buildPackPanelsKernel,
  buildPanelMatmulKernel,
  type LaneColumns,
  laneColumnsFor,
  PACK,
  PANEL_BLOCK_ROWS,
  PANEL_WINDOW_BYTES,
  PANEL_WINDOW_K,
  type PanelLayout,
  PU,
  panelColumns,
} from './panel-kernel.js';

/**
 * When products take the panel kernels (panel-kernel.ts), on devices that can run them ({@link panelsSupported}):
 * 'auto' where they pay; tests force them on or off to cover both paths.
 */
export const panelTuning: { use: 'auto' | boolean } = { use: 'auto' };

/**
 * Subgroups of exactly 8 consecutive threads, which llvmpipe's 256-bit build has (its SIMD width): kernels that
 * broadcast within the 8 threads of lid.x / 8 rely on it.
 */
export function eightLaneSubgroups(): boolean {
  const engine = getEngine();
  const { isLlvmpipe, device } = engine.gpu.info;
  return engine.device.features.has('subgroups') && isLlvmpipe && /256-bits/.test(device);
}

/** Whether this device can run the panel kernels: 8-lane subgroups, and tensors bindable as 64 KiB uniform windows. */
export function panelsSupported(): boolean {
  const engine = getEngine();
  return (
    eightLaneSubgroups() &&
    engine.uniformWindows &&
    PANEL_WINDOW_BYTES <= engine.device.limits.maxUniformBufferBindingSize
  );
}

/**
 * Multiply-adds each dispatch must bring for the panels to pay: below it, packing B and the extra dispatches
 * (one per uniform window) cost more than the faster loop saves, as in a UNet-B0 at 128² (measured there).
 */
const MIN_DISPATCH_WORK = 1 << 21;

const cached = kernelCache();

/** How `a` (…×M×K) can be read as 4-aligned vec4s, if it can: along k (row-major) or along m. */
export function panelLayout(a: Tensor, k: number): PanelLayout | null {
  const r = a.ndim;
  if (k % 4 !== 0 || a.offset % 4 !== 0) return null;
  const [rowStride, colStride] = a.strides.slice(r - 2);
  if (colStride === 1 && rowStride % 4 === 0) return 'k';
  if (rowStride === 1 && colStride % 4 === 0) return 'm';
  return null;
}

/**
 * Whether out = a · b (+ bias) of one batch goes to the panel kernel: the device must have 8-lane subgroups of
 * consecutive threads (the kernel's broadcasts assume it) and A must be readable as vec4s ({@link panelLayout}).
 */
export function usePanelMatmul(a: Tensor, m: number, n: number, k: number, images = 1): boolean {
  return panelLayout(a, k) !== null && panelsPay(m, n, k, 4, images);
}

/** How many uniform windows (dispatches per image) {@link forEachPanelWindow} cuts a K × N product into. */
export function windowCount(k: number, n: number, granule: number): number {
  const panels = Math.ceil(n / panelColumns(laneColumnsFor(n)));
  const depth = Math.floor(PANEL_WINDOW_K / granule) * granule;
  return k <= depth
    ? Math.ceil(panels / Math.floor(PANEL_WINDOW_K / Math.max(k, 1)))
    : panels * Math.ceil(k / depth);
}

/**
 * Whether the device runs panel kernels ({@link panelsSupported}) and `images` products of `rows` × `k` by
 * `k` × `n` are worth them: each dispatch must bring {@link MIN_DISPATCH_WORK} multiply-adds and enough rows to
 * fill half a workgroup.
 */
export function panelsPay(rows: number, n: number, k: number, granule: number, images = 1): boolean {
  if (panelTuning.use === false || !panelsSupported()) return false;
  const engine = getEngine();
  // One workgroup per PANEL_BLOCK_ROWS rows, along x only.
  if (rows > PANEL_BLOCK_ROWS * engine.device.limits.maxComputeWorkgroupsPerDimension) return false;
  // Images share a dispatch (one per workgroup z), so they add to its work.
  if (images > engine.device.limits.maxComputeWorkgroupsPerDimension) return false;
  const perDispatch = (images * rows * n * k) / windowCount(k, n, granule);
  return panelTuning.use === true || (perDispatch >= MIN_DISPATCH_WORK && rows >= PANEL_BLOCK_ROWS / 2);
}

/** B packed into panels ({@link buildPackPanelsKernel}); dispose `packed` when the dispatches are recorded. */
export interface PackedPanels {
  packed: Tensor;
  k: number;
  panels: number;
  /** Columns per lane, so panels of 8 × lane columns. */
  lane: LaneColumns;
  /** vec4s of one panel: K · 8. */
  panelVec4s: number;
}

/**
 * Packs the K × N matrix `b` (a 2-D view with any strides) into panels as wide as pad N the least. With
 * `rotated`, b's rows come in groups of `taps` (a convolution's kernel taps) read in reverse order: row k is at
 * (k / taps) · b.strides[0] + (taps − 1 − k % taps) · tapStride, so a weight rotated by 180° needs no copy.
 */
export function packPanels(b: Tensor, rotated?: { taps: number; tapStride: number }): PackedPanels {
  const engine = getEngine();
  const [k, n] = b.shape;
  const lane = laneColumnsFor(n);
  const panels = Math.ceil(n / panelColumns(lane));
  // One vec4 per lane and k, whatever the lane's width.
  const panelVec4s = k * 8;
  // Slack past the last panel so every window can span a full PANEL_WINDOW_BYTES, as its WGSL type declares.
  const packed = Tensor.empty([panels * panelVec4s * 4 + PANEL_WINDOW_BYTES / 4]);
  const packKernel = cached(`pack${lane}`, () => buildPackPanelsKernel(lane));
  const total = panels * panelVec4s;
  const words = new Array<number>(8).fill(0);
  words[PACK.taps] = rotated?.taps ?? 0;
  words[PACK.tapStride] = rotated?.tapStride ?? 0;
  words[PACK.k] = k;
  words[PACK.n] = n;
  words[PACK.bOffset] = b.offset;
  words[PACK.bRowStride] = b.strides[0];
  words[PACK.bColStride] = b.strides[1];
  words[PACK.total] = total;
  engine.dispatch(packKernel, [b.storage.buffer, packed.storage.buffer], words, engine.grid(total, 64));
  return { packed, k, panels, lane, panelVec4s };
}

/** One dispatch's share of the product: panels [panel0, panel0 + panelCount) over k in [k0, k0 + kCount). */
export interface PanelWindow {
  panel0: number;
  panelCount: number;
  k0: number;
  kCount: number;
  /** The uniform window to bind. */
  binding: GPUBufferBinding;
}

/**
 * Cuts the product into uniform windows, one per dispatch: when K fits a window, each holds as many whole panels
 * as fit (one per workgroup row of the grid); past that, each panel is summed over k in window-deep pieces, the
 * later ones adding to the output. `granule` keeps every k0 and kCount a multiple of it (4 for the matmul's
 * 4-deep steps, 9 for a 3×3 convolution's channels).
 */
export function forEachPanelWindow(p: PackedPanels, granule: number, run: (w: PanelWindow) => void): void {
  const align = getEngine().device.limits.minUniformBufferOffsetAlignment;
  const depth = Math.floor(PANEL_WINDOW_K / granule) * granule;
  const window = (panel0: number, panelCount: number, k0: number, kCount: number) => {
    const offset = (panel0 * p.panelVec4s + k0 * 8) * 16;
    if (offset % align !== 0) {
      throw new Error(
        `matmul panels: window offset ${offset} breaks the uniform alignment of ${align} bytes`,
      );
    }
    const binding = { buffer: p.packed.storage.buffer, offset, size: PANEL_WINDOW_BYTES };
    run({ panel0, panelCount, k0, kCount, binding });
  };
  if (p.k <= depth) {
    const perWindow = Math.floor(PANEL_WINDOW_K / Math.max(p.k, 1));
    for (let q = 0; q < p.panels; q += perWindow) window(q, Math.min(perWindow, p.panels - q), 0, p.k);
  } else {
    for (let q = 0; q < p.panels; q++) {
      for (let k0 = 0; k0 < p.k; k0 += depth) window(q, 1, k0, Math.min(depth, p.k - k0));
    }
  }
}

/** Several products sharing B, one per workgroup z: image i reads a and writes out `i` strides further on. */
export interface PanelImages {
  count: number;
  aStride: number;
  outStride: number;
}

/**
 * out[M, N] = a[M, K] · b[K, N] (+ bias[N]) through B packed into panels; float32, and only when
 * {@link usePanelMatmul} said yes. The output may have any strides; `images` repeats the product over a batch.
 */
export function panelGemm(a: Tensor, b: Tensor, out: Tensor, bias?: Tensor, images?: PanelImages): void {
  const engine = getEngine();
  const r = out.ndim;
  const [m, k] = a.shape.slice(r - 2);
  const n = b.shape[r - 1];
  const layout = panelLayout(a, k);
  if (!layout) throw new Error(`matmul panels: ${a} cannot be read as vec4s along k or m`);
  const b2 = b.asView([k, n], b.strides.slice(r - 2), b.offset);
  const panels = packPanels(b2);
  try {
    const lane = panels.lane;
    const kernel = cached(`${layout}:${lane}:${bias !== undefined}`, () =>
      buildPanelMatmulKernel(bias !== undefined, layout, lane),
    );
    const words = new Array<number>(18).fill(0);
    words[PU.m] = m;
    words[PU.n] = n;
    words[PU.aOffset] = a.offset;
    words[PU.aRowStride] = a.strides[r - 2];
    words[PU.aColStride] = a.strides[r - 1];
    words[PU.outColStride] = out.strides[r - 1];
    words[PU.panelStride] = panels.panelVec4s;
    words[PU.outOffset] = out.offset;
    words[PU.outRowStride] = out.strides[r - 2];
    words[PU.biasOffset] = bias?.offset ?? 0;
    words[PU.biasStride] = bias?.strides[0] ?? 0;
    words[PU.aBatchStride] = images?.aStride ?? 0;
    words[PU.outBatchStride] = images?.outStride ?? 0;
    forEachPanelWindow(panels, 4, (w) => {
      words[PU.kCount] = w.kCount;
      words[PU.kStart] = w.k0;
      words[PU.panel0] = w.panel0;
      words[PU.accumulate] = w.k0 > 0 ? 1 : 0;
      words[PU.addBias] = w.k0 + w.kCount === k ? 1 : 0;
      const buffers: (GPUBuffer | GPUBufferBinding)[] = [a.storage.buffer, w.binding];
      if (bias) buffers.push(bias.storage.buffer);
      buffers.push(out.storage.buffer);
      engine.dispatch(kernel, buffers, words, [
        Math.ceil(m / PANEL_BLOCK_ROWS),
        w.panelCount,
        images?.count ?? 1,
      ]);
    });
  } finally {
    panels.packed.dispose();
    b2.dispose();
  }
}
