import { autotuner, sizeClass, type TuneJob } from '../../engine/autotune.js';
import { getEngine } from '../../engine/engine.js';
import type { Kernel, UniformValue } from '../../engine/kernel.js';
import { recordOp, Tensor } from '../../tensor.js';
import { zeros } from '../creation.js';
import { autocastCall } from '../precision/autocast.js';
import { commonFloatDtype, viaFloat32 } from '../precision/via-float32.js';
import {
  DEPTHWISE_FWD_COLS,
  DEPTHWISE_FWD_ROWS,
  DEPTHWISE_ROW,
  DEPTHWISE_WG,
  type DepthwiseShape,
  depthwiseForwardKernel,
  depthwiseGradInputKernel,
  depthwiseGradWeightKernel,
} from './depthwise-kernel.js';
import {
  dispatchDepthwiseRows,
  dispatchDepthwiseRowsGradWeight,
  dispatchDepthwiseScatter,
  rowsAligned,
} from './depthwise-rows.js';
import { buildDirectKernel, type DirectTile, directKey } from './direct-kernel.js';
import { buildGemmKernel, type GemmMode, type GemmTile, tileKey, U } from './gemm-kernel.js';
import { type Conv2dOptions, type ConvGeometry, convGeometry, isDepthwise } from './params.js';
import { isPointwise, pixelsMerge, pointwiseGradWeightPartials } from './pointwise.js';
import { biasGradKernel, REDUCE_WG, reducePartialsKernel } from './reduce-kernel.js';

/**
 * Register tiles per GEMM shape. A 64×64 tile suits wide layers; layers with few rows (1×1 projections to 24
 * channels, the first conv's 3 input channels in gradInput) would waste most of it, so narrower-M tiles trade
 * rows for columns. `tileOverride` lets the benchmark try others.
 */
export const conv2dTuning: {
  tileOverride: GemmTile | null;
  directOverride: DirectTile | null;
  /** 'auto': the direct kernels on software (CPU) adapters, workgroup-memory tiles elsewhere. */
  strategy: 'auto' | 'tiled' | 'direct';
  partialTarget: number;
  /** Plans batch chunks for this binding size instead of the device's (tests use it on small tensors). */
  maxBindingBytes: number | null;
  /** Runs eligible 1×1 weight gradients as batched matmuls (pointwise.ts); off, they take the implicit GEMM. */
  pointwise: boolean;
  /** The depthwise row kernels (depthwise-rows.ts): 'auto' runs them on llvmpipe only, see `useDepthwiseRows`. */
  depthwiseRows: 'auto' | boolean;
} = {
  depthwiseRows: 'auto',
  maxBindingBytes: null,
  pointwise: true,
  tileOverride: null,
  directOverride: null,
  strategy: 'auto',
  /** Workgroups a split reduction aims for: enough to fill the device, few enough to keep partials small. */
  partialTarget: 128,
};

export function chooseTile(m: number): GemmTile {
  if (conv2dTuning.tileOverride) return conv2dTuning.tileOverride;
  if (m <= 8) return { wgX: 32, wgY: 4, tm: 2, tn: 4, tk: 16 };
  if (m <= 16) return { wgX: 64, wgY: 4, tm: 4, tn: 4, tk: 16 };
  if (m <= 32) return { wgX: 32, wgY: 8, tm: 4, tn: 4, tk: 16 };
  return { wgX: 16, wgY: 16, tm: 4, tn: 4, tk: 16 };
}

/**
 * The row kernels were written for llvmpipe and measured there (2–7× the tiled depthwise kernels). Chromium's
 * SwiftShader runs them far slower: a UNet-B0 forward on one 64² tile in the page took 140 s with them and 13 s
 * without (apps/cli/src/browser/commands.test.ts, 2026-11-27). On real GPUs they are unmeasured, and one
 * workgroup per channel plane leaves a GPU mostly idle, so everywhere else the tiled kernels run.
 */
export function useDepthwiseRows(): boolean {
  if (conv2dTuning.depthwiseRows !== 'auto') return conv2dTuning.depthwiseRows;
  const { architecture, device, description } = getEngine().gpu.info;
  return /llvmpipe|lavapipe/i.test(`${architecture} ${device} ${description}`);
}

/**
 * Measured on lavapipe, same process back to back: an 8×8 register block per lane (8 channels × 8 pixels, 16
 * loads per 64 multiply-adds) beat 4×8 by about 1.5× on 3×3 64→64 (stride 1 and 2); over 32 lanes it ran 10-20%
 * faster than over 16 (2.33 vs 1.96 and 2.81 vs 2.56 GFLOP per CPU-second in alternating runs), and 64 lanes no
 * faster than 32. Bigger blocks (16×16) take minutes to compile there.
 */
export function chooseDirectTile(): DirectTile {
  return conv2dTuning.directOverride ?? { wx: 32, tm: 8, tn: 8 };
}

/**
 * The weight gradient always runs tiled (its long k is split across workgroups). On CPU adapters fewer threads
 * with bigger register blocks measured about twice as fast (bench/conv.bench.ts --sweep).
 */
function chooseGradWeightTile(m: number): GemmTile {
  if (conv2dTuning.tileOverride || !getEngine().gpu.info.isSoftware) return chooseTile(m);
  return m <= 32 ? { wgX: 16, wgY: 8, tm: 4, tn: 8, tk: 16 } : { wgX: 8, wgY: 8, tm: 8, tn: 8, tk: 8 };
}

function useDirect(): boolean {
  if (conv2dTuning.strategy !== 'auto') return conv2dTuning.strategy === 'direct';
  return getEngine().gpu.info.isSoftware;
}

const kernelCache = new Map<string, Kernel>();
function cached(key: string, build: () => Kernel): Kernel {
  let k = kernelCache.get(key);
  if (!k) {
    k = build();
    kernelCache.set(key, k);
  }
  return k;
}

/** The shared uniform block: geometry plus operand A and B as (offset, 4 strides). */
function uniforms(
  g: ConvGeometry,
  a: Tensor | null,
  b: Tensor | null,
  extra: Partial<Record<keyof typeof U, number>> = {},
  bias: Tensor | null = null,
): UniformValue[] {
  const u: UniformValue[] = new Array<UniformValue>(U.outOffset + 1).fill(0);
  u[U.batch] = g.batch;
  u[U.cIn] = g.cIn;
  u[U.h] = g.h;
  u[U.w] = g.w;
  u[U.cOut] = g.cOut;
  u[U.oh] = g.oh;
  u[U.ow] = g.ow;
  u[U.strideH] = g.strideH;
  u[U.strideW] = g.strideW;
  u[U.padTop] = { i: g.padTop };
  u[U.padLeft] = { i: g.padLeft };
  u[U.dilationH] = g.dilationH;
  u[U.dilationW] = g.dilationW;
  u[U.cInG] = g.cInG;
  u[U.cOutG] = g.cOutG;
  u[U.groups] = g.groups;
  if (a) {
    u[U.aOffset] = a.offset;
    for (let d = 0; d < 4; d++) u[U.aStrides + d] = a.strides[d];
  }
  if (b) {
    u[U.bOffset] = b.offset;
    for (let d = 0; d < 4; d++) u[U.bStrides + d] = b.strides[d];
  }
  if (bias) {
    u[U.biasOffset] = bias.offset;
    u[U.biasStride] = bias.strides[0];
  }
  for (const [key, value] of Object.entries(extra)) u[U[key as keyof typeof U]] = value;
  return u;
}

/** The binding size conv2d plans with: the device's, unless a test lowers it to exercise batch chunking. */
function bindingLimit(): number {
  return conv2dTuning.maxBindingBytes ?? getEngine().maxBindingBytes;
}

/** Operands bound whole (weight, bias) must fit one binding. */
function checkBindable(t: Tensor | null, what: string): void {
  if (!t) return;
  const limit = bindingLimit();
  if (t.storage.buffer.size > limit) {
    throw new RangeError(
      `conv2d: ${what} ${t} occupies a ${t.storage.buffer.size}-byte buffer, over the ` +
        `maxStorageBufferBindingSize of ${limit} bytes`,
    );
  }
}

function allocate(shape: number[], what: string): Tensor {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  const limit = bindingLimit();
  if (bytes > limit) {
    throw new RangeError(
      `conv2d: the ${what} [${shape}] would take ${bytes} bytes, over the maxStorageBufferBindingSize ` +
        `of ${limit} bytes`,
    );
  }
  return Tensor.empty(shape, 'float32');
}

/** Bytes spanned by `images` consecutive images of a 4-D operand. */
function spanBytes(t: Tensor, images: number): number {
  let extent = 1;
  for (let d = 1; d < 4; d++) extent += (t.shape[d] - 1) * t.strides[d];
  return ((images - 1) * t.strides[0] + extent) * 4;
}

/** A window of an operand's buffer holding some images, and where its first element sits in that window. */
interface Window {
  binding: GPUBuffer | GPUBufferBinding;
  offset: number;
}

function windowOf(t: Tensor, first: number, images: number, whole: boolean): Window {
  if (whole) return { binding: t.storage.buffer, offset: t.offset };
  const align = getEngine().device.limits.minStorageBufferOffsetAlignment;
  const start = (t.offset + first * t.strides[0]) * 4;
  const base = start - (start % align);
  const size = Math.min(
    t.storage.buffer.size - base,
    Math.ceil((start - base + spanBytes(t, images)) / 4) * 4,
  );
  return { binding: { buffer: t.storage.buffer, offset: base, size }, offset: (start - base) / 4 };
}

/**
 * Runs `launch` over the batch in chunks whose images fit one storage binding in every batched operand (a B4-UNet
 * activation at batch 8 × 512² is larger than the 128 MiB some devices bind). With everything small enough, that
 * is one launch over whole buffers.
 */
/** The most images per launch such that each batched operand's window fits one storage binding. */
function imagesPerLaunch(g: ConvGeometry, batched: [Tensor, string][]): number {
  const limit = bindingLimit();
  let per = g.batch;
  if (batched.every(([t]) => t.storage.buffer.size <= limit)) return per;
  const slack = getEngine().device.limits.minStorageBufferOffsetAlignment;
  for (const [t, what] of batched) {
    const one = spanBytes(t, 1) + slack;
    if (one > limit) {
      throw new RangeError(
        `conv2d: one image of the ${what} ${t} spans ${one} bytes, over the maxStorageBufferBindingSize of ` +
          `${limit} bytes; use smaller images`,
      );
    }
    if (t.strides[0] > 0) per = Math.min(per, Math.floor((limit - one) / (t.strides[0] * 4)) + 1);
  }
  return per;
}

function forEachBatchChunk(
  g: ConvGeometry,
  batched: [Tensor, string][],
  launch: (windows: Window[], chunk: ConvGeometry, index: number) => void,
): void {
  const per = imagesPerLaunch(g, batched);
  const whole = per >= g.batch;
  let index = 0;
  for (let first = 0; first < g.batch; first += per, index++) {
    const images = Math.min(per, g.batch - first);
    launch(
      batched.map(([t]) => windowOf(t, first, images, whole)),
      { ...g, batch: images },
      index,
    );
  }
}

/**
 * Tiles the autotuner may time for forward and input-gradient GEMMs on this adapter. All of them sum k in the
 * same order as the heuristic's choice, so tuning changes speed only.
 */
function directCandidates(): DirectTile[] {
  return [
    { wx: 32, tm: 8, tn: 8 },
    { wx: 16, tm: 8, tn: 8 },
    { wx: 64, tm: 8, tn: 8 },
  ];
}

function tiledCandidates(m: number): GemmTile[] {
  const tiles = [
    chooseTile(m),
    { wgX: 16, wgY: 16, tm: 4, tn: 4, tk: 16 },
    { wgX: 16, wgY: 8, tm: 4, tn: 8, tk: 16 },
    { wgX: 32, wgY: 8, tm: 4, tn: 4, tk: 16 },
  ];
  return tiles.filter((t, i) => tiles.findIndex((u) => tileKey(u) === tileKey(t)) === i);
}

/** A tuning job for one forward or input-gradient shape class; it times one image, whatever the batch. */
function convJob<T>(
  mode: 'forward' | 'gradInput',
  g: ConvGeometry,
  dims: { m: number; n: number; k: number },
  family: 'direct' | 'tiled',
  candidates: T[],
  key: (t: T) => string,
  force: (t: T | null) => void,
): TuneJob<T> {
  return {
    op: `conv2d.${mode}.${family}`,
    shapeClass: [
      `${g.kh}x${g.kw}`,
      `s${g.strideH}x${g.strideW}`,
      `m${sizeClass(dims.m)}`,
      `n${sizeClass(dims.n)}`,
      `k${sizeClass(dims.k)}`,
      `g${g.groups > 1 ? 'n' : '1'}`,
    ].join(':'),
    candidates,
    key,
    prepare: () => {
      const one = { ...g, batch: 1 };
      const weight = zeros([g.cOut, g.cInG, g.kh, g.kw]);
      const src = mode === 'forward' ? zeros([1, g.cIn, g.h, g.w]) : zeros([1, g.cOut, g.oh, g.ow]);
      return {
        run: (t) => {
          force(t);
          try {
            const out =
              mode === 'forward' ? forward(src, weight, null, one) : conv2dGradInput(src, weight, one);
            out.dispose();
          } finally {
            force(null);
          }
        },
        dispose: () => {
          weight.dispose();
          src.dispose();
        },
      };
    },
  };
}

/** Dispatches an implicit GEMM, in several launches when there are more column tiles than one dimension allows. */
function runGemm(
  mode: GemmMode,
  g: ConvGeometry,
  buffers: (GPUBuffer | GPUBufferBinding)[],
  u: UniformValue[],
  dims: { m: number; n: number; k: number; z: number },
  hasBias: boolean,
): void {
  const engine = getEngine();
  const max = engine.device.limits.maxComputeWorkgroupsPerDimension;
  u[U.m] = dims.m;
  u[U.n] = dims.n;
  u[U.k] = dims.k;
  if (mode !== 'gradWeight' && useDirect()) {
    const t =
      conv2dTuning.directOverride ??
      autotuner.choose(
        convJob(mode, g, dims, 'direct', directCandidates(), directKey, (d) => {
          conv2dTuning.directOverride = d;
        }),
        chooseDirectTile(),
      );
    const kernel = cached(`direct:${mode}:${g.kh}x${g.kw}:${directKey(t)}:${hasBias}`, () =>
      buildDirectKernel(mode, t, g.kh, g.kw, hasBias),
    );
    const nTiles = Math.ceil(dims.n / (t.wx * t.tn));
    for (let base = 0; base < nTiles; base += max) {
      u[U.nTileBase] = base;
      engine.dispatch(kernel, buffers, u, [Math.min(max, nTiles - base), Math.ceil(dims.m / t.tm), dims.z]);
    }
    return;
  }
  const tile =
    mode === 'gradWeight'
      ? chooseGradWeightTile(dims.m)
      : (conv2dTuning.tileOverride ??
        autotuner.choose(
          convJob(mode, g, dims, 'tiled', tiledCandidates(dims.m), tileKey, (t) => {
            conv2dTuning.tileOverride = t;
          }),
          chooseTile(dims.m),
        ));
  const kernel = cached(`${mode}:${g.kh}x${g.kw}:${tileKey(tile)}:${hasBias}`, () =>
    buildGemmKernel(mode, tile, g.kh, g.kw, hasBias),
  );
  const nTiles = Math.ceil(dims.n / (tile.wgX * tile.tn));
  const mTiles = Math.ceil(dims.m / (tile.wgY * tile.tm));
  for (let base = 0; base < nTiles; base += max) {
    u[U.nTileBase] = base;
    engine.dispatch(kernel, buffers, u, [Math.min(max, nTiles - base), mTiles, dims.z]);
  }
}

/** How many chunks to split a reduction of `length` terms into, given `blocks` independent outputs blocks. */
function splitCount(length: number, blocks: number, minChunk: number): number {
  return Math.max(1, Math.min(Math.ceil(conv2dTuning.partialTarget / blocks), Math.floor(length / minChunk)));
}

/** Sums `splits` stacked partial results into `out` (or returns the partial itself when there is one). */
function reducePartials(partial: Tensor, splits: number, shape: number[]): Tensor {
  if (splits === 1) return partial;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = Tensor.empty(shape, 'float32');
  const engine = getEngine();
  engine.dispatch(
    reducePartialsKernel,
    [partial.storage.buffer, out.storage.buffer],
    [n, splits],
    engine.grid(n, REDUCE_WG),
  );
  partial.dispose();
  return out;
}

function depthwiseShape(g: ConvGeometry): DepthwiseShape {
  return {
    kh: g.kh,
    kw: g.kw,
    strideH: g.strideH,
    strideW: g.strideW,
    dilationH: g.dilationH,
    dilationW: g.dilationW,
  };
}

function dwKey(s: DepthwiseShape): string {
  return `${s.kh}x${s.kw}:${s.strideH}x${s.strideW}:${s.dilationH}x${s.dilationW}`;
}

/**
 * Whether a 1×1 weight gradient runs as batched matmuls: its operands must be bound whole (no batch chunking)
 * and the pixels must fit the matmul's workgroup grid. (Forward and input gradient stay on the conv kernels:
 * with 24-144 channels the matmul tiles measured slower than the direct kernel there.)
 */
function pointwiseFits(g: ConvGeometry, operands: Tensor[]): boolean {
  if (!conv2dTuning.pointwise || !isPointwise(g)) return false;
  const limit = bindingLimit();
  if (g.h * g.w > 32 * getEngine().device.limits.maxComputeWorkgroupsPerDimension) return false;
  return operands.every((t) => pixelsMerge(t, limit));
}

function forward(x: Tensor, weight: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.batch, g.cOut, g.oh, g.ow], 'float32');
  if (out.numel() === 0) return out;
  const depthwise = isDepthwise(g);
  forEachBatchChunk(
    g,
    [
      [x, 'input'],
      [out, 'output'],
    ],
    ([xw, ow], c) => {
      const buffers = [weight.storage.buffer, xw.binding];
      if (bias) buffers.push(bias.storage.buffer);
      buffers.push(ow.binding);
      const at = { bOffset: xw.offset, outOffset: ow.offset };
      if (
        depthwise &&
        useDepthwiseRows() &&
        c.dilationH === 1 &&
        rowsAligned(x.shape, x.strides, xw.offset)
      ) {
        dispatchDepthwiseRows(
          {
            kh: c.kh,
            kw: c.kw,
            stride: [c.strideH, c.strideW],
            dilation: [c.dilationH, c.dilationW],
            padLeft: c.padLeft,
            flip: false,
            vecOut: rowsAligned(out.shape, out.strides, ow.offset),
            hasBias: bias !== null,
            element: 'f32',
          },
          buffers,
          uniforms(c, weight, x, at, bias),
          { batch: c.batch, planes: c.cOut, outH: c.oh, outW: c.ow },
        );
        return;
      }
      if (depthwise) {
        const s = depthwiseShape(c);
        const kernel = cached(`dw:${dwKey(s)}:${bias !== null}`, () =>
          depthwiseForwardKernel(s, bias !== null),
        );
        const items = Math.ceil(c.oh / DEPTHWISE_FWD_ROWS) * Math.ceil(c.ow / DEPTHWISE_FWD_COLS);
        getEngine().dispatch(kernel, buffers, uniforms(c, weight, x, { n: items, ...at }, bias), [
          Math.ceil(items / DEPTHWISE_WG),
          c.cOut,
          c.batch,
        ]);
        return;
      }
      runGemm(
        'forward',
        c,
        buffers,
        uniforms(c, weight, x, at, bias),
        { m: c.cOutG, n: c.batch * c.oh * c.ow, k: c.cInG * c.kh * c.kw, z: c.groups },
        bias !== null,
      );
    },
  );
  return out;
}

/** dL/dx: the transposed convolution of dy with the weight. */
export function conv2dGradInput(dy: Tensor, weight: Tensor, g: ConvGeometry): Tensor {
  const dx = Tensor.empty([g.batch, g.cIn, g.h, g.w], 'float32');
  if (dx.numel() === 0) return dx;
  const depthwise = isDepthwise(g);
  forEachBatchChunk(
    g,
    [
      [dy, 'output gradient'],
      [dx, 'input gradient'],
    ],
    ([dyw, dxw], c) => {
      const buffers = [weight.storage.buffer, dyw.binding, dxw.binding];
      const at = { bOffset: dyw.offset, outOffset: dxw.offset };
      const padLeft = (c.kw - 1) * c.dilationW - c.padLeft;
      if (
        depthwise &&
        useDepthwiseRows() &&
        c.cOutG === 1 &&
        c.strideH === 1 &&
        c.strideW === 1 &&
        c.dilationH === 1 &&
        padLeft >= 0 &&
        c.padTop <= c.kh - 1 &&
        rowsAligned(dy.shape, dy.strides, dyw.offset)
      ) {
        // At unit stride the input gradient is the forward kernel run on dy with the filter rotated by 180°.
        dispatchDepthwiseRows(
          {
            kh: c.kh,
            kw: c.kw,
            stride: [1, 1],
            dilation: [1, c.dilationW],
            padLeft,
            flip: true,
            vecOut: rowsAligned(dx.shape, dx.strides, dxw.offset),
            hasBias: false,
            element: 'f32',
          },
          buffers,
          uniforms(c, weight, dy, at),
          { batch: c.batch, planes: c.cIn, outH: c.h, outW: c.w },
        );
        return;
      }
      if (
        depthwise &&
        useDepthwiseRows() &&
        c.cOutG === 1 &&
        c.dilationH === 1 &&
        c.dilationW === 1 &&
        c.strideH <= 2 &&
        c.strideW <= 2 &&
        rowsAligned(dy.shape, dy.strides, dyw.offset)
      ) {
        dispatchDepthwiseScatter(
          {
            kh: c.kh,
            kw: c.kw,
            stride: [c.strideH, c.strideW],
            padTop: c.padTop,
            padLeft: c.padLeft,
            vecOut: rowsAligned(dx.shape, dx.strides, dxw.offset),
            element: 'f32',
          },
          buffers,
          uniforms(c, weight, dy, at),
          { batch: c.batch, channels: c.cIn, h: c.h, w: c.w },
        );
        return;
      }
      if (depthwise) {
        const s = depthwiseShape(c);
        const kernel = cached(`dwdx:${dwKey(s)}`, () => depthwiseGradInputKernel(s));
        const items = c.h * Math.ceil(c.w / DEPTHWISE_ROW);
        getEngine().dispatch(kernel, buffers, uniforms(c, weight, dy, { n: items, ...at }), [
          Math.ceil(items / DEPTHWISE_WG),
          c.cIn,
          c.batch,
        ]);
        return;
      }
      runGemm(
        'gradInput',
        c,
        buffers,
        uniforms(c, weight, dy, at),
        { m: c.cInG, n: c.batch * c.h * c.w, k: c.cOutG * c.kh * c.kw, z: c.groups },
        false,
      );
    },
  );
  return dx;
}

/**
 * dL/dweight: a reduction over every output pixel of the batch, split into `splits` chunks per batch chunk that
 * run in parallel and are added at the end. Every launch writes all its `splits` slabs (zeros past its pixels).
 */
export function conv2dGradWeight(dy: Tensor, x: Tensor, g: ConvGeometry): Tensor {
  const shape = [g.cOut, g.cInG, g.kh, g.kw];
  const size = shape.reduce((a, b) => a * b, 1);
  if (g.batch * g.oh * g.ow === 0) return zerosOf(shape);
  const batched: [Tensor, string][] = [
    [dy, 'output gradient'],
    [x, 'input'],
  ];
  const images = Math.min(g.batch, imagesPerLaunch(g, batched));
  const chunks = Math.ceil(g.batch / images);
  const engine = getEngine();
  if (
    isDepthwise(g) &&
    useDepthwiseRows() &&
    g.dilationH === 1 &&
    rowsAligned(dy.shape, dy.strides, dy.offset) &&
    rowsAligned(x.shape, x.strides, x.offset)
  ) {
    // One partial per image (each workgroup sums a whole channel plane), added up at the end.
    const partial = allocate(g.batch === 1 ? shape : [g.batch, ...shape], 'weight gradient partials');
    let done = 0;
    forEachBatchChunk(g, batched, ([dyw, xw], c) => {
      dispatchDepthwiseRowsGradWeight(
        {
          kh: c.kh,
          kw: c.kw,
          stride: [c.strideH, c.strideW],
          dilation: [1, c.dilationW],
          padLeft: c.padLeft,
          element: 'f32',
        },
        [dyw.binding, xw.binding, partial.storage.buffer],
        uniforms(c, dy, x, { aOffset: dyw.offset, bOffset: xw.offset, outOffset: done * size }),
        { batch: c.batch, channels: c.cOut, outH: c.oh, outW: c.ow },
      );
      done += c.batch;
    });
    return reducePartials(partial, g.batch, shape);
  }
  if (isDepthwise(g)) {
    const s = depthwiseShape(g);
    const segments = images * g.oh * Math.ceil(g.ow / DEPTHWISE_ROW);
    const splits = splitCount(segments, g.cOut, 2 * DEPTHWISE_WG);
    const chunk = Math.ceil(segments / splits);
    const slabs = chunks * splits;
    const partial = allocate(slabs === 1 ? shape : [slabs, ...shape], 'weight gradient partials');
    const kernel = cached(`dwdw:${dwKey(s)}`, () => depthwiseGradWeightKernel(s));
    forEachBatchChunk(g, batched, ([dyw, xw], c, index) => {
      engine.dispatch(
        kernel,
        [dyw.binding, xw.binding, partial.storage.buffer],
        uniforms(c, dy, x, {
          kChunk: chunk,
          aOffset: dyw.offset,
          bOffset: xw.offset,
          outOffset: index * splits * size,
        }),
        [c.cOut, splits],
      );
    });
    return reducePartials(partial, slabs, shape);
  }
  if (pointwiseFits(g, [dy, x])) {
    // Split the pixel sum into equal chunks (a power of two dividing H·W, each at least 256 pixels long) so
    // that images × chunks products run in parallel; their sum is the gradient.
    let splits = 1;
    const hw = g.h * g.w;
    while (g.batch * splits * 2 <= 16 && hw % (splits * 2) === 0 && hw / (splits * 2) >= 256) splits *= 2;
    const slabs = g.batch * splits;
    const partial = allocate(slabs === 1 ? shape : [slabs, ...shape], 'weight gradient partials');
    pointwiseGradWeightPartials(dy, x, splits, partial);
    return reducePartials(partial, slabs, shape);
  }
  const m = g.cOutG;
  const n = g.cInG * g.kh * g.kw;
  const pixels = images * g.oh * g.ow;
  const tile = chooseGradWeightTile(m);
  const blocks = Math.ceil(m / (tile.wgY * tile.tm)) * Math.ceil(n / (tile.wgX * tile.tn)) * g.groups;
  let splits = splitCount(pixels, blocks, 16 * tile.tk);
  const chunk = Math.ceil(pixels / splits / tile.tk) * tile.tk;
  splits = Math.ceil(pixels / chunk);
  const slabs = chunks * splits;
  const partial = allocate(slabs === 1 ? shape : [slabs, ...shape], 'weight gradient partials');
  forEachBatchChunk(g, batched, ([dyw, xw], c, index) => {
    runGemm(
      'gradWeight',
      c,
      [dyw.binding, xw.binding, partial.storage.buffer],
      uniforms(c, dy, x, {
        kChunk: chunk,
        aOffset: dyw.offset,
        bOffset: xw.offset,
        outOffset: index * splits * size,
      }),
      { m, n, k: c.batch * c.oh * c.ow, z: g.groups * splits },
      false,
    );
  });
  return reducePartials(partial, slabs, shape);
}

/** dL/dbias: dy summed over batch and pixels, in parallel chunks per channel. */
export function conv2dGradBias(dy: Tensor, g: ConvGeometry): Tensor {
  if (g.batch * g.oh * g.ow === 0) return zerosOf([g.cOut]);
  const batched: [Tensor, string][] = [[dy, 'output gradient']];
  const images = Math.min(g.batch, imagesPerLaunch(g, batched));
  const chunks = Math.ceil(g.batch / images);
  const pixels = images * g.oh * g.ow;
  const splits = splitCount(pixels, g.cOut, 4 * REDUCE_WG);
  const chunk = Math.ceil(pixels / splits);
  const slabs = chunks * splits;
  const partial = Tensor.empty(slabs === 1 ? [g.cOut] : [slabs, g.cOut], 'float32');
  forEachBatchChunk(g, batched, ([dyw], c, index) => {
    getEngine().dispatch(
      biasGradKernel,
      [dyw.binding, partial.storage.buffer],
      uniforms(c, dy, null, { kChunk: chunk, aOffset: dyw.offset, outOffset: index * splits * g.cOut }),
      [c.cOut, splits],
    );
  });
  return reducePartials(partial, slabs, [g.cOut]);
}

function zerosOf(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromData(new Float32Array(n), shape);
}

function checkOperand(t: Tensor, what: string, batched: boolean): void {
  t.assertAlive();
  // Batched operands are split into windows that fit; weight and bias are bound whole.
  if (!batched) checkBindable(t, what);
}

/**
 * 2-D convolution of an N×C×H×W input with a Cout×(C/groups)×kH×kW weight, as `torch.nn.functional.conv2d`.
 * `padding` also takes F.pad's [left, right, top, bottom] for asymmetric ("static same") padding.
 * Depthwise convolutions (groups = C, one input channel per group) get their own kernels; everything else runs
 * as an implicit GEMM. Inputs may be views with any strides.
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: Conv2dOptions = {},
): Tensor {
  const autocasted = autocastCall(
    [x, weight, bias] as const,
    (xh, wh, bh) => conv2d(xh, wh, bh, options),
    [1, 2],
  );
  if (autocasted) return autocasted;
  checkOperand(x, 'input', true);
  checkOperand(weight, 'weight', false);
  if (bias) checkOperand(bias, 'bias', false);
  const dtype = commonFloatDtype('conv2d', [
    [x, 'input'],
    [weight, 'weight'],
    [bias, 'bias'],
  ]);
  const g = convGeometry(x.shape, weight.shape, bias?.shape ?? null, options);
  // The kernels read and write float32: float16 operands are widened per call and results rounded once.
  const out = viaFloat32([x, weight, bias] as const, dtype, (xs, ws, bs) => forward(xs, ws, bs, g));
  return recordOp(
    'conv2d',
    out,
    [x, weight, bias],
    (dy, [xs, ws], needs) => {
      return [
        needs[0] ? viaFloat32([dy, ws] as const, dtype, (d, w) => conv2dGradInput(d, w, g)) : null,
        needs[1] ? viaFloat32([dy, xs] as const, dtype, (d, i) => conv2dGradWeight(d, i, g)) : null,
        needs[2] ? viaFloat32([dy] as const, dtype, (d) => conv2dGradBias(d, g)) : null,
      ];
    },
    [x, weight],
  );
}
